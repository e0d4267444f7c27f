import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BenchOptions } from '../args';
import { measureBigBody, type BigBodyResult } from '../extras/big-body';
import { measureConnectionsRss, type ConnectionsRssResult } from '../extras/connections-rss';
import { manyWorkersVerdict, measureManyWorkers, type ManyWorkersResult } from '../extras/many-workers';
import { startOurBalancer, startWorker, waitForRegistered } from '../fleet';
import { runMetadata, writeJson } from '../json';
import { defaultGenerator, type GeneratorName } from '../load';
import { BASELINES, OURS_VARIANTS, PEERS, type PeerContext, type PeerDef } from '../peers';
import { stopAll, which } from '../processes';
import { progress } from '../progress';
import { fmtMb, fmtMs, fmtPct, fmtRatio, fmtRps, fmtShares, fmtUs, fmtWorstPct, table } from '../report';
import { alternatingRounds, DISTURBED_PCT, type RoundsConfig, type Target, type TargetSummary } from '../rounds';
import { ratio } from '../stats';
import { groupedBarChart } from '../svg';
import { formatPick, measureAllPicks, type PickRow } from './pick';

/**
 * Suite B (issue 4), the data plane against its peers: the same two 0 ms workers behind our balancer,
 * nginx, HAProxy, @fastify/http-proxy, node-http-proxy and a seed-style Express + axios gateway, plus
 * the workers called directly. One load generator for all, a warm-up per peer, alternating rounds,
 * medians. Then the extra measurements, each in its own module under bench/extras.
 */

export interface PeerRow extends TargetSummary {
  description: string;
  /** Who answered 20 sequential requests before the load: proves each peer really alternates. */
  split: Record<string, number>;
  /** req/s of this peer over req/s of each baseline. */
  vs: Record<string, number | undefined>;
}

export interface PeersResults {
  suite: 'peers';
  meta: ReturnType<typeof runMetadata> & RoundsConfig;
  peers: PeerRow[];
  skipped: { name: string; reason: string }[];
  extras?: {
    manyWorkers?: ManyWorkersResult | { error: string };
    connectionsRss?: ConnectionsRssResult | { error: string };
    bigBody?: ((BigBodyResult & { label: string }) | { label: string; error: string })[];
    pick?: PickRow[];
    /** Each variant of "ours" (e.g. ACCESS_LOG=json) over plain "ours", measured in the same alternating rounds. */
    oursVariants?: OursVariantRatio[];
  };
}

export interface OursVariantRatio {
  name: string;
  /** req/s of the variant / req/s of "ours". */
  rps: number | undefined;
  /** CPU per request of the variant / that of "ours". */
  cpuPerRequest: number | undefined;
}

const SPLIT_REQUESTS = 20;
/** The asked-for 100 MiB, and three times that as the control for buffering. */
const BIG_BODIES_MIB = [100, 300];

/** Who served each of `n` sequential requests, by the `Server: <name>` in the body. */
async function splitCheck(url: string, n = SPLIT_REQUESTS): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    const name = /^Server: ([^,]+),/.exec(text)?.[1] ?? `status ${res.status}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

async function startPeers(defs: readonly PeerDef[], ctx: PeerContext, skipped: PeersResults['skipped']): Promise<(Target & { def: PeerDef })[]> {
  const started: (Target & { def: PeerDef })[] = [];
  for (const def of defs) {
    if (def.binary && !which(def.binary)) {
      skipped.push({
        name: def.name,
        reason: `${def.binary} is not installed (Debian: apt-get install -y ${def.binary === 'nginx' ? 'nginx-light' : def.binary})`,
      });
      progress(`peers: SKIPPING ${def.name}: ${def.binary} not found on PATH`);
      continue;
    }
    try {
      progress(`peers: starting ${def.name}`);
      const running = await def.start(ctx);
      started.push({ name: def.name, url: running.url, pid: running.pid, def });
    } catch (err) {
      const lines = (err as Error).message.split('\n').filter((l) => l.trim());
      const reason = lines.length > 1 ? `${lines[0]} (last output: ${lines[lines.length - 1].trim()})` : lines[0];
      skipped.push({ name: def.name, reason: `failed to start: ${reason}` });
      progress(`peers: SKIPPING ${def.name}: ${(err as Error).message}`);
    }
  }
  return started;
}

/** Runs one extra, turning a failure into a reported error instead of losing the whole suite. */
async function extra<T>(name: string, run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (err) {
    progress(`${name} failed: ${(err as Error).message}`);
    return { error: (err as Error).message };
  } finally {
    await stopAll();
  }
}

export function formatPeers(results: PeersResults): string {
  const rows = results.peers.map((p) => [
    p.name,
    fmtRps(p.rps),
    fmtMs(p.p50Ms),
    fmtMs(p.p99Ms),
    p.errors,
    fmtMb(p.peakRssKb),
    fmtUs(p.cpuUsPerRequest),
    ...BASELINES.map((b) => fmtRatio(p.vs[b])),
    fmtShares(p.split),
    fmtWorstPct(p.otherCpuPct, DISTURBED_PCT),
  ]);
  return table(
    ['peer', 'req/s', 'p50', 'p99', 'errors', 'peak RSS', 'CPU/request', ...BASELINES.map((b) => `vs ${b}`), `split of ${SPLIT_REQUESTS}`, 'other CPU'],
    rows,
  );
}

function formatExtras(x: NonNullable<PeersResults['extras']>): string {
  const out: string[] = [];
  const m = x.manyWorkers;
  if (m && 'error' in m) out.push(`1,000 workers: failed: ${m.error}`);
  else if (m) {
    out.push(
      `1,000 registered workers (one upstream process on ${m.upstreamPorts} ports; still registered after the run: ${m.registeredAfter.join(' and ')}):\n\n` +
        table(
          ['proxy with', 'req/s', 'p50', 'p99', 'errors', 'peak RSS', 'CPU/request', 'vs its 2-worker row', 'CPU/request vs 2', 'other CPU'],
          [m.two, m.thousand, m.thousandNoChecks, m.nginxTwo, m.nginxThousand]
            .filter((t) => t !== undefined)
            .map((t) => [
              t.name,
              fmtRps(t.rps),
              fmtMs(t.p50Ms),
              fmtMs(t.p99Ms),
              t.errors,
              fmtMb(t.peakRssKb),
              fmtUs(t.cpuUsPerRequest),
              fmtRatio(ratio(t.rps, t.name.startsWith('nginx') ? m.nginxTwo?.rps : m.two.rps)),
              fmtRatio(ratio(t.cpuUsPerRequest, t.name.startsWith('nginx') ? m.nginxTwo?.cpuUsPerRequest : m.two.cpuUsPerRequest)),
              fmtWorstPct(t.otherCpuPct, DISTURBED_PCT),
            ]),
        ) +
        `\n\nTarget: at 1,000 workers, our ratio to our 2-worker row no worse than nginx's, and our CPU-per-request growth no worse than nginx's (${manyWorkersVerdict(m) ?? 'no verdict: nginx is not installed'}).` +
        ' Active health checks (default 1 probe per worker per second) are part of the default row.' +
        ' Each round follows 1 s of unmeasured load (steady state, not reconnections after idling); our balancers are stopped while the other rows run.' +
        (m.nginxRatio === undefined
          ? ''
          : ` nginx rows: its own 1,000-server figure over its 2-server one (keepalive 1024), the same sockets with no registry: ${fmtRatio(m.nginxRatio)}.`),
    );
  }
  const c = x.connectionsRss;
  if (c && 'error' in c) out.push(`1,000 connections: failed: ${c.error}`);
  else if (c) {
    out.push(
      `${c.connections.toLocaleString('en-US')} concurrent client connections (workers answer after ${c.workerDelayMs} ms, ${c.load.generator}, ${c.load.durationS} s): ` +
        `balancer RSS idle ${fmtMb(c.idleRssKb)}, peak ${fmtMb(c.peakRssKb)}; ${fmtRps(c.load.rps)} req/s, p50 ${fmtMs(c.load.p50Ms)}, p99 ${fmtMs(c.load.p99Ms)}, ${c.load.errors} errors; other CPU ${fmtPct(c.otherCpuPct)}`,
    );
  }
  if (x.bigBody) {
    out.push(
      'Large uploads streamed through the balancer to an echo upstream (a larger body is the control: if the balancer buffered, its peak would grow with the body):\n\n' +
        table(
          ['body', 'intact', 'status', 'seconds', 'MiB/s each way', 'balancer RSS idle', 'peak', 'peak - idle'],
          x.bigBody.map((b) =>
            'error' in b && !('bytesSent' in b)
              ? [b.label, `failed: ${b.error}`]
              : [
                  b.label,
                  b.intact ? 'yes' : `NO (${b.bytesReceived} of ${b.bytesSent} bytes${b.error ? `, ${b.error}` : ''})`,
                  b.status,
                  b.seconds.toFixed(1),
                  b.mbPerS.toFixed(0),
                  fmtMb(b.idleRssKb),
                  fmtMb(b.peakRssKb),
                  fmtMb(b.peakRssKb !== undefined && b.idleRssKb !== undefined ? b.peakRssKb - b.idleRssKb : undefined),
                ],
          ),
        ),
    );
  }
  for (const v of x.oursVariants ?? []) {
    out.push(`${v.name} against "ours", same rounds: req/s ${fmtRatio(v.rps)}, CPU/request ${fmtRatio(v.cpuPerRequest)}`);
  }
  if (x.pick) out.push(`strategy.pick() alone:\n\n${formatPick(x.pick)}`);
  return out.join('\n\n');
}

export async function runPeersSuite(opts: BenchOptions): Promise<PeersResults> {
  const generator: GeneratorName = opts.generator ?? defaultGenerator();
  if (generator === 'wrk' && !which('wrk')) throw new Error('--generator wrk: wrk is not installed (Debian: apt-get install -y wrk)');
  const cfg: RoundsConfig = {
    generator,
    connections: opts.connections ?? 64,
    rounds: opts.rounds ?? 8,
    roundS: opts.durationS ?? 2,
    warmupS: opts.warmupS ?? 2,
  };
  const tmpDir = mkdtempSync(join(tmpdir(), 'lb-bench-'));
  process.once('exit', () => rmSync(tmpDir, { recursive: true, force: true }));
  const unknown = (opts.only ?? []).filter((n) => !PEERS.some((p) => p.name === n));
  if (unknown.length) throw new Error(`--only: unknown peer(s) ${unknown.join(', ')}; known: ${PEERS.map((p) => p.name).join(', ')}`);
  const selected = opts.only ? PEERS.filter((p) => opts.only!.includes(p.name)) : PEERS;
  // The variants of "ours" run in the same alternating rounds as it, so the host's noise falls on both alike.
  const defs = opts.extras && selected.some((p) => p.name === 'ours') ? [...selected, ...OURS_VARIANTS] : selected;

  progress(`peers: load generator ${generator}, ${cfg.connections} connections, ${cfg.rounds} rounds x ${cfg.roundS} s, ${cfg.warmupS} s warm-up per peer`);
  progress('peers: starting our balancer and 2 workers (WORKER_DELAY_MS=0) that register with it');
  const balancer = await startOurBalancer('ours');
  const workers = [await startWorker('w1', 0, balancer), await startWorker('w2', 0, balancer)];
  await waitForRegistered(
    balancer,
    workers.map((w) => w.url),
  );

  const skipped: PeersResults['skipped'] = [];
  const started = await startPeers(defs, { workers, balancer, tmpDir }, skipped);
  const splits = new Map<string, Record<string, number>>();
  for (const t of started) splits.set(t.name, await splitCheck(t.url));
  const summaries = await alternatingRounds(started, cfg, 'peers');
  await stopAll();

  const byName = new Map(summaries.map((s) => [s.name, s]));
  const peers: PeerRow[] = summaries.map((s) => ({
    ...s,
    description: started.find((t) => t.name === s.name)!.def.description,
    split: splits.get(s.name) ?? {},
    vs: Object.fromEntries(BASELINES.map((b) => [b, ratio(s.rps, byName.get(b)?.rps)])),
  }));
  const results: PeersResults = { suite: 'peers', meta: { ...runMetadata(), ...cfg }, peers, skipped };

  if (opts.extras) {
    results.extras = {};
    const ours = byName.get('ours');
    results.extras.oursVariants = OURS_VARIANTS.filter((v) => byName.has(v.name)).map((v) => ({
      name: v.name,
      rps: ratio(byName.get(v.name)!.rps, ours?.rps),
      cpuPerRequest: ratio(byName.get(v.name)!.cpuUsPerRequest, ours?.cpuUsPerRequest),
    }));
    results.extras.manyWorkers = await extra('1,000 workers', () => measureManyWorkers(cfg, tmpDir));
    results.extras.connectionsRss = await extra('1,000 connections', () => measureConnectionsRss(generator, Math.max(5, cfg.roundS)));
    results.extras.bigBody = [];
    for (const mib of BIG_BODIES_MIB) {
      const r = await extra(`${mib} MiB body`, () => measureBigBody(mib * 2 ** 20));
      results.extras.bigBody.push({ label: `${mib} MiB`, ...r });
    }
    results.extras.pick = measureAllPicks();
  }

  const m = results.meta;
  const generatorNote = generator === 'wrk' ? 'wrk -t1 (a separate process)' : 'autocannon in the benchmark process (competes with Node peers for CPU)';
  process.stdout.write(
    `\nPeers: the same 2 workers (0 ms) behind each peer. Load generator: ${generatorNote}, ${cfg.connections} connections, ` +
      `${cfg.rounds} alternating rounds x ${cfg.roundS} s after a ${cfg.warmupS} s warm-up, medians. ` +
      `${m.cpus} CPU(s) (${m.cpuModel}), Node ${m.node}, load average ${m.loadAvg1m} at start; load generator, peer and workers share the CPUs.\n\n`,
  );
  process.stdout.write(`${formatPeers(results)}\n\n`);
  process.stdout.write(
    'errors = non-2xx + socket errors + timeouts over all rounds. "vs X" = req/s of the row / req/s of X.\n' +
      '"CPU/request" = user + system CPU time of the peer\'s own process (from /proc) over the responses it served, median of the rounds.\n' +
      `"other CPU" = the highest share of the machine used by processes outside this benchmark during a kept round, and how many\n` +
      `kept rounds were above ${DISTURBED_PCT}%. Such a round is measured again at the end while the repeat budget lasts (one repeat\n` +
      'per target); the median tolerates disturbed rounds while they are fewer than half, more means: re-run on a quiet machine.\n',
  );
  for (const p of peers) process.stdout.write(`  ${p.name.padEnd(14)} ${p.description}\n`);
  for (const s of skipped) process.stdout.write(`  SKIPPED ${s.name}: ${s.reason}\n`);
  if (results.extras) process.stdout.write(`\n${formatExtras(results.extras)}\n`);

  if (opts.json) {
    const jsonPath = writeJson(opts.json, results);
    const svgPath = join(dirname(resolve(jsonPath)), `${jsonPath.replace(/^.*\//, '').replace(/\.json$/i, '')}.svg`);
    writeFileSync(
      svgPath,
      groupedBarChart(
        peers.map((p) => ({ label: p.name, rps: p.rps, p99Ms: p.p99Ms })),
        'Proxy peers: same 2 workers, same load',
        `${generator}, ${cfg.connections} connections, median of ${cfg.rounds} x ${cfg.roundS} s; ${m.cpus} CPU(s); ${m.date.slice(0, 10)}`,
      ),
    );
    process.stdout.write(`\nJSON: ${jsonPath}\nSVG:  ${svgPath}\n`);
  }
  return results;
}
