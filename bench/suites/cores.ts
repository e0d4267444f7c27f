import type { BenchOptions } from '../args';
import { measurePropagation, type Propagation } from '../cores-propagation';
import { startOurBalancer, startWorker, waitForRegistered, type BalancerProcess, type Started } from '../fleet';
import { runMetadata, writeJson } from '../json';
import { defaultGenerator, runLoad, type GeneratorName } from '../load';
import { childPids, connectionsPerProcess, contextSwitches } from '../proc-sockets';
import { cpuTimeUs, freePort, sleep } from '../processes';
import { progress } from '../progress';
import { table } from '../report';

/**
 * `npm run benchmark -- --suite cores` (issue 13, "Every core"): what PROCESSES=2 costs against
 * PROCESSES=1, in the same run. Both balancers front the same two 0 ms workers; wrk (or autocannon)
 * loads one, then the other, the order alternating over rounds. CPU per request: user + system time
 * of every balancer process (the primary and its serving processes, from /proc/<pid>/stat) over the
 * measured window, divided by the requests completed; the workers' and the load generator's CPU are
 * not counted. Spread: the kept-alive connections each serving process held mid-run (from /proc).
 * Also per run: context switches of the balancer's processes per request, and the primary's
 * event-loop delay (p99, from its /metrics: the primary must never block, docs/processes.md).
 * Then the time for a registration to reach every serving process, end to end (cores-propagation.ts).
 * Throughput is not a figure here: this machine's two cores carry the load generator too.
 */

interface Measured {
  readonly processes: number;
  readonly requests: number;
  readonly errors: number;
  readonly cpuPerRequestUs: number;
  /** The primary's part of the balancer's CPU (PROCESSES=2), 0-1. */
  readonly primaryShare: number;
  /** Kept-alive connections per serving process, mid-run (PROCESSES=2). */
  readonly spread: number[];
  /** Context switches of every balancer process per request completed. */
  readonly switchesPerRequest: number;
  /** The primary's (or the single process's) event-loop delay over the run, p99 in ms, from its /metrics. */
  readonly primaryLoopP99Ms: number | undefined;
}

const DEFAULT_ROUNDS = 3;
const DEFAULT_DURATION_S = 3;
const DEFAULT_CONNECTIONS = 32;
const REGISTRATIONS = 100;

/** nodejs_eventloop_lag_p99_seconds of the primary (process="primary") or of a single process (no label), in ms. */
async function primaryLoopP99Ms(admin: string): Promise<number | undefined> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_p99_seconds(?:\{process="primary"\})? (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

async function measure(
  balancer: BalancerProcess & { admin: string },
  processes: number,
  generator: GeneratorName,
  connections: number,
  durationS: number,
): Promise<Measured> {
  const primary = balancer.proc.pid;
  const serving = processes > 1 ? childPids(primary) : [];
  const pids = [primary, ...serving];
  await runLoad(generator, `${balancer.url}/`, { connections, durationS: 1 }); // warm-up, not counted
  // A scrape before: prom-client resets its event-loop delay histogram at each one, so the next covers the run.
  await primaryLoopP99Ms(balancer.admin);
  const switchesBefore = pids.reduce((total, pid) => total + contextSwitches(pid), 0);
  const before = pids.map((pid) => cpuTimeUs(pid) ?? 0);
  let spread: number[] = [];
  const port = Number(new URL(balancer.url).port);
  const sampled = sleep((durationS * 1000) / 2).then(() => {
    if (serving.length > 0) spread = [...connectionsPerProcess(port, serving).values()];
  });
  const load = await runLoad(generator, `${balancer.url}/`, { connections, durationS });
  await sampled;
  const used = pids.map((pid, i) => (cpuTimeUs(pid) ?? before[i]) - before[i]);
  const switches = pids.reduce((total, pid) => total + contextSwitches(pid), 0) - switchesBefore;
  const total = used.reduce((a, b) => a + b, 0);
  return {
    processes,
    requests: load.requests,
    errors: load.errors,
    cpuPerRequestUs: load.requests > 0 ? total / load.requests : NaN,
    primaryShare: processes > 1 && total > 0 ? used[0] / total : 0,
    spread,
    switchesPerRequest: load.requests > 0 ? switches / load.requests : NaN,
    primaryLoopP99Ms: await primaryLoopP99Ms(balancer.admin),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const nearestRank = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function startPair(): Promise<{ balancers: Map<number, BalancerProcess & { admin: string }>; workers: Started[] }> {
  const balancers = new Map<number, BalancerProcess & { admin: string }>();
  for (const processes of [1, 2]) {
    const adminPort = await freePort();
    const balancer = await startOurBalancer(`balancer PROCESSES=${processes}`, { PROCESSES: String(processes), ADMIN_PORT: String(adminPort) });
    balancers.set(processes, { ...balancer, admin: `http://127.0.0.1:${adminPort}` });
  }
  const workers: Started[] = [];
  for (const name of ['a', 'b']) {
    // One worker process per balancer and name, so neither balancer's load lands on the other's workers.
    for (const [processes, balancer] of balancers) workers.push(await startWorker(`${name}${processes}`, 0, balancer));
  }
  for (const [processes, balancer] of balancers) {
    await waitForRegistered(
      balancer,
      workers.filter((w) => w.name.endsWith(String(processes))).map((w) => w.url),
    );
  }
  return { balancers, workers };
}

export async function runCoresSuite(opts: BenchOptions): Promise<void> {
  const rounds = opts.rounds ?? DEFAULT_ROUNDS;
  const durationS = opts.durationS ?? DEFAULT_DURATION_S;
  const connections = opts.connections ?? DEFAULT_CONNECTIONS;
  const generator = opts.generator ?? defaultGenerator();
  const { balancers, workers } = await startPair();
  const runs: Measured[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const processes of round % 2 === 0 ? [1, 2] : [2, 1]) {
      progress(`cores: round ${round + 1} of ${rounds}, PROCESSES=${processes}, ${connections} connections for ${durationS} s`);
      runs.push(await measure(balancers.get(processes)!, processes, generator, connections, durationS));
    }
  }
  await Promise.all([...workers.map((w) => w.proc.stop(500)), ...[...balancers.values()].map((b) => b.proc.stop())]);

  progress(`cores: ${REGISTRATIONS} registrations through the gateway of a fresh PROCESSES=2 balancer`);
  const fresh = await startOurBalancer('balancer PROCESSES=2 (registrations)', { PROCESSES: '2' });
  const propagation = await measurePropagation(fresh, REGISTRATIONS);
  await fresh.proc.stop();
  report(runs, propagation, { rounds, durationS, connections, generator });
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, { suite: 'cores', meta: runMetadata(), runs, propagation })}\n`);
}

function report(runs: Measured[], propagation: Propagation, how: { rounds: number; durationS: number; connections: number; generator: string }): void {
  const of = (p: number) => runs.filter((r) => r.processes === p);
  const ratios = of(2).map((r, i) => r.cpuPerRequestUs / of(1)[i].cpuPerRequestUs);
  const us = (n: number) => `${n.toFixed(1)} µs`;
  const rows = runs.map((r) => [
    `PROCESSES=${r.processes}`,
    r.requests,
    r.errors,
    us(r.cpuPerRequestUs),
    r.processes > 1 ? `${(r.primaryShare * 100).toFixed(1)} %` : undefined,
    r.processes > 1 ? r.spread.join('/') : undefined,
    r.switchesPerRequest.toFixed(2),
    r.primaryLoopP99Ms === undefined ? undefined : `${r.primaryLoopP99Ms.toFixed(1)} ms`,
  ]);
  const sorted = [...propagation.timesMs].sort((a, b) => a - b);
  const ms = (q: number) => (sorted.length > 0 ? `${nearestRank(sorted, q).toFixed(2)} ms` : '-');
  const p1 = median(of(1).map((r) => r.cpuPerRequestUs));
  const p2 = median(of(2).map((r) => r.cpuPerRequestUs));
  process.stdout.write(
    `\nCores: PROCESSES=2 against PROCESSES=1, ${how.rounds} alternating rounds of ${how.durationS} s, ${how.connections} kept-alive connections (${how.generator}), two 0 ms workers each.\n\n` +
      `${table(['balancer', 'requests', 'errors', 'CPU per request', "primary's share", 'connections per serving process', 'context switches per request', 'event-loop delay p99 (primary)'], rows)}\n\n` +
      `CPU per request, medians: PROCESSES=1 ${us(p1)}, PROCESSES=2 ${us(p2)}; ratio 2/1 per round: ${ratios.map((r) => `${r.toFixed(3)}x`).join(', ')} (median ${median(ratios).toFixed(3)}x; the issue's target: within 5 %).\n` +
      `Registration to every one of ${propagation.processes} serving processes, end to end (signed POST to the gateway until each proxies to it), ${propagation.timesMs.length} of ${propagation.timesMs.length + propagation.missed}: p50 ${ms(0.5)}, p99 ${ms(0.99)}, max ${ms(1)} (target: under 50 ms).\n`,
  );
}
