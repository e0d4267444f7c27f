import type { BenchOptions } from '../args';
import { startOurBalancer, startWorker, waitForRegistered, type Started } from '../fleet';
import { runMetadata, writeJson } from '../json';
import { runAutocannon, type LoadResult } from '../load';
import { stopAll } from '../processes';
import { progress } from '../progress';
import { fmtMs, fmtRatio, fmtRps, fmtShares, table } from '../report';
import { ratio } from '../stats';

/**
 * Suite A, the seed's comparison: one worker called directly against the balancer in front of three
 * workers, for the seed's 1 s worker and for a 0 ms worker (which isolates the gateway's own cost).
 * autocannon runs in this process with the same body-parsing callback for both targets.
 */

interface Scenario {
  name: string;
  delayMs: number;
  connections: number;
}

export interface SeedMeasurement {
  scenario: string;
  delayMs: number;
  target: 'single worker' | 'balancer + 3 workers';
  result: LoadResult;
}

export interface SeedResults {
  suite: 'seed';
  meta: ReturnType<typeof runMetadata> & { generator: 'autocannon'; durationS: number; warmupS: number };
  measurements: SeedMeasurement[];
  /** Balanced requests/s over single requests/s, per scenario. */
  ratios: Record<string, number | undefined>;
}

const WORKERS = 3;

async function measure(url: string, connections: number, durationS: number, warmupS: number, label: string): Promise<LoadResult> {
  if (warmupS > 0) {
    progress(`${label}: warm-up ${warmupS} s`);
    await runAutocannon(url, { connections, durationS: warmupS, countShares: true });
  }
  progress(`${label}: measuring ${durationS} s with ${connections} connections`);
  const result = await runAutocannon(url, { connections, durationS, countShares: true });
  progress(`${label}: ${fmtRps(result.rps)} req/s, p99 ${fmtMs(result.p99Ms)}, ${result.errors} errors`);
  return result;
}

async function runScenario(s: Scenario, durationS: number, warmupS: number): Promise<SeedMeasurement[]> {
  progress(`${s.name}: starting one stand-alone worker, a balancer and ${WORKERS} self-registering workers`);
  const single = await startWorker('single', s.delayMs);
  const balancer = await startOurBalancer();
  const workers: Started[] = [];
  for (let i = 1; i <= WORKERS; i++) workers.push(await startWorker(`worker-${i}`, s.delayMs, balancer));
  await waitForRegistered(balancer, workers.map((w) => w.url));
  progress(`${s.name}: all ${WORKERS} workers registered with ${balancer.url}`);
  try {
    const direct = await measure(`${single.url}/`, s.connections, durationS, warmupS, `${s.name}, single worker`);
    const balanced = await measure(`${balancer.url}/`, s.connections, durationS, warmupS, `${s.name}, balancer + ${WORKERS} workers`);
    return [
      { scenario: s.name, delayMs: s.delayMs, target: 'single worker', result: direct },
      { scenario: s.name, delayMs: s.delayMs, target: 'balancer + 3 workers', result: balanced },
    ];
  } finally {
    await stopAll();
  }
}

export function formatSeed(results: SeedResults): string {
  const rows = results.measurements.map((m) => [
    m.scenario,
    m.target,
    m.result.connections,
    fmtRps(m.result.rps),
    fmtMs(m.result.p50Ms),
    fmtMs(m.result.p99Ms),
    m.result.errors,
    fmtShares(m.result.shares),
    m.target === 'single worker' ? undefined : fmtRatio(results.ratios[m.scenario]),
  ]);
  return table(['scenario', 'target', 'conns', 'req/s', 'p50', 'p99', 'errors', 'share per worker', 'balanced/single req/s'], rows);
}

export async function runSeedSuite(opts: BenchOptions): Promise<SeedResults> {
  const durationS = opts.durationS ?? 10;
  const warmupS = opts.warmupS ?? 2;
  const scenarios: Scenario[] = [
    { name: '1 s worker', delayMs: 1000, connections: opts.connectionsSlow ?? opts.connections ?? 100 },
    { name: '0 ms worker', delayMs: 0, connections: opts.connectionsFast ?? opts.connections ?? 64 },
  ];
  const measurements: SeedMeasurement[] = [];
  for (const s of scenarios) measurements.push(...(await runScenario(s, durationS, warmupS)));
  const ratios: Record<string, number | undefined> = {};
  for (const s of scenarios) {
    const [direct, balanced] = measurements.filter((m) => m.scenario === s.name);
    ratios[s.name] = ratio(balanced.result.rps, direct.result.rps);
  }
  const results: SeedResults = { suite: 'seed', meta: { ...runMetadata(), generator: 'autocannon', durationS, warmupS }, measurements, ratios };

  const m = results.meta;
  process.stdout.write(`\nSeed comparison: autocannon in-process, ${durationS} s per target after a ${warmupS} s warm-up; ${m.cpus} CPU(s) (${m.cpuModel}), Node ${m.node}, load average ${m.loadAvg1m} at start\n\n`);
  process.stdout.write(`${formatSeed(results)}\n\n`);
  process.stdout.write(
    'errors = non-2xx responses + socket errors + timeouts. Shares count the `Server: <name>` in each response body.\n' +
      'With a 1 s worker each connection completes at most one request per second, so both targets are capped near\n' +
      '`conns` req/s (a little less: the first second completes nothing). That scenario shows the latency the gateway\n' +
      'adds, not capacity: a worker sleeping in setTimeout is not busy, so one worker serves 100 concurrent requests.\n' +
      'The 0 ms scenario shows the gateway\'s cost: every process here (load generator, balancer, workers) shares the same CPUs.\n',
  );
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, results)}\n`);
  return results;
}
