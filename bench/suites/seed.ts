import type { BenchOptions } from '../args';
import { startOurBalancer, startWorker, waitForRegistered, type Started } from '../fleet';
import { runMetadata, writeJson } from '../json';
import { stopAll } from '../processes';
import { progress } from '../progress';
import { fmtMb, fmtMs, fmtRatio, fmtRps, fmtShares, fmtWorstPct, table } from '../report';
import { alternatingRounds, DISTURBED_PCT, type RoundsConfig, type TargetSummary } from '../rounds';
import { ratio } from '../stats';

/**
 * Suite A, the seed's comparison: one worker called directly against the balancer in front of three
 * workers, for the seed's 1 s worker and for a 0 ms worker (which isolates the gateway's own cost).
 * autocannon runs in this process with the same body-parsing callback for both targets; the two
 * targets alternate over `rounds` rounds so a burst of other work on the machine hits both.
 */

interface Scenario {
  name: string;
  delayMs: number;
  connections: number;
}

export interface SeedMeasurement {
  scenario: string;
  delayMs: number;
  connections: number;
  target: 'single worker' | 'balancer + 3 workers';
  summary: TargetSummary;
}

export interface SeedResults {
  suite: 'seed';
  meta: ReturnType<typeof runMetadata> & { generator: 'autocannon'; rounds: number; roundS: number; warmupS: number };
  measurements: SeedMeasurement[];
  /** Balanced requests/s over single requests/s, per scenario. */
  ratios: Record<string, number | undefined>;
}

const WORKERS = 3;
const SINGLE = 'single worker';
const BALANCED = 'balancer + 3 workers';

async function runScenario(s: Scenario, cfg: Omit<RoundsConfig, 'connections'>): Promise<SeedMeasurement[]> {
  progress(`${s.name}: starting one stand-alone worker, a balancer and ${WORKERS} self-registering workers`);
  const single = await startWorker('single', s.delayMs);
  const balancer = await startOurBalancer();
  const workers: Started[] = [];
  for (let i = 1; i <= WORKERS; i++) workers.push(await startWorker(`worker-${i}`, s.delayMs, balancer));
  await waitForRegistered(
    balancer,
    workers.map((w) => w.url),
  );
  progress(`${s.name}: all ${WORKERS} workers registered with ${balancer.url}`);
  try {
    const summaries = await alternatingRounds(
      [
        { name: SINGLE, url: single.url, pid: single.proc.pid },
        { name: BALANCED, url: balancer.url, pid: balancer.proc.pid },
      ],
      { ...cfg, connections: s.connections },
      s.name,
    );
    return summaries.map((summary) => ({
      scenario: s.name,
      delayMs: s.delayMs,
      connections: s.connections,
      target: summary.name as SeedMeasurement['target'],
      summary,
    }));
  } finally {
    await stopAll();
  }
}

export function formatSeed(results: SeedResults): string {
  const rows = results.measurements.map((m) => [
    m.scenario,
    m.target,
    m.connections,
    fmtRps(m.summary.rps),
    fmtMs(m.summary.p50Ms),
    fmtMs(m.summary.p99Ms),
    m.summary.errors,
    fmtShares(m.summary.shares),
    fmtMb(m.summary.peakRssKb),
    m.target === SINGLE ? undefined : fmtRatio(results.ratios[m.scenario]),
    fmtWorstPct(m.summary.otherCpuPct, DISTURBED_PCT),
  ]);
  return table(['scenario', 'target', 'conns', 'req/s', 'p50', 'p99', 'errors', 'share per worker', 'RSS*', 'balanced/single req/s', 'other CPU'], rows);
}

export async function runSeedSuite(opts: BenchOptions): Promise<SeedResults> {
  // One repeat per scenario keeps the default run under two minutes.
  const cfg = {
    generator: 'autocannon' as const,
    rounds: opts.rounds ?? 2,
    roundS: opts.durationS ?? 10,
    warmupS: opts.warmupS ?? 2,
    countShares: true,
    repeatBudget: 1,
  };
  const scenarios: Scenario[] = [
    { name: '1 s worker', delayMs: 1000, connections: opts.connectionsSlow ?? opts.connections ?? 100 },
    { name: '0 ms worker', delayMs: 0, connections: opts.connectionsFast ?? opts.connections ?? 64 },
  ];
  const measurements: SeedMeasurement[] = [];
  for (const s of scenarios) measurements.push(...(await runScenario(s, cfg)));
  const ratios: Record<string, number | undefined> = {};
  for (const s of scenarios) {
    const find = (target: string) => measurements.find((m) => m.scenario === s.name && m.target === target)?.summary.rps;
    ratios[s.name] = ratio(find(BALANCED), find(SINGLE));
  }
  const { countShares: _shares, repeatBudget: _budget, ...metaCfg } = cfg;
  const results: SeedResults = { suite: 'seed', meta: { ...runMetadata(), ...metaCfg }, measurements, ratios };

  const m = results.meta;
  process.stdout.write(
    `\nSeed comparison: autocannon in-process, ${cfg.rounds} alternating rounds x ${cfg.roundS} s per target after a ${cfg.warmupS} s warm-up, medians; ` +
      `${m.cpus} CPU(s) (${m.cpuModel}), Node ${m.node}, load average ${m.loadAvg1m} at start\n\n`,
  );
  process.stdout.write(`${formatSeed(results)}\n\n`);
  process.stdout.write(
    'errors = non-2xx responses + socket errors + timeouts. Shares count the `Server: <name>` in each response body.\n' +
      '* RSS: peak VmRSS of the process the load hits (the single worker, or the balancer).\n' +
      '"other CPU": the highest share of the machine used by processes outside this benchmark during a kept round (noise),\n' +
      `and how many kept rounds were above ${DISTURBED_PCT}%; such a round is measured again at the end while the repeat budget lasts.\n` +
      'With a 1 s worker each connection completes at most one request per second, so both targets are capped near\n' +
      '`conns` req/s (a little less: the first second of a round completes nothing). That scenario shows the latency the\n' +
      'gateway adds, not capacity: a worker sleeping in setTimeout is not busy, so one worker serves 100 concurrent requests.\n' +
      "The 0 ms scenario shows the gateway's cost: every process here (load generator, balancer, workers) shares the same CPUs.\n",
  );
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, results)}\n`);
  return results;
}
