import cluster from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { cpuTimeUs, freePort, sleep } from '../processes';
import { runWrk, type LoadResult } from '../load';

/**
 * `node dist/bench/extras/cluster-spread.js [rounds] [seconds]`: how evenly node:cluster spreads
 * connections over 2 serving processes, and at what CPU per request, with the primary accepting and
 * handing each connection to the next process (SCHED_RR, Node's default on Linux) against each process
 * accepting from the shared socket itself (SCHED_NONE: the kernel wakes one of the waiting processes).
 * Node 20 has no `reusePort` (net.Server.listen gained it in 22.12 and 23.1), so SCHED_NONE is the
 * kernel-spread side of the comparison. Two load shapes through wrk on 127.0.0.1: 64 kept-alive
 * connections, and a new connection per request (`Connection: close`), where the spread of accepts is
 * the whole story. Every run is bounded by its duration; the processes are killed by pid at the end.
 */

type Policy = 'rr' | 'none';
interface ProcessCount {
  pid: number;
  connections: number;
  requests: number;
}
type Report = { counts: ProcessCount[]; pids: number[] };

const SERVING = 2;
const CONNECTIONS = 64;

// The serving processes inherit the primary's environment, so they are recognised first.
if (cluster.isWorker) runServing(Number(process.env.SPREAD_PORT));
else if (process.env.SPREAD_ROLE === 'primary') runPrimary(process.env.SPREAD_POLICY as Policy, Number(process.env.SPREAD_PORT));
else void main(Number(process.argv[2] ?? 2), Number(process.argv[3] ?? 5));

/** A serving process: a trivial HTTP server that counts its connections and requests until asked. */
function runServing(port: number): void {
  let connections = 0;
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end('ok\n');
  });
  server.on('connection', () => connections++);
  server.listen(port, '127.0.0.1', () => process.send?.({ listening: true }));
  process.on('message', (msg: { count?: boolean }) => {
    if (!msg.count) return;
    process.send?.({ pid: process.pid, connections, requests });
    connections = 0;
    requests = 0;
  });
}

/** The cluster primary: the policy must be set before the first fork, so one primary per policy. */
function runPrimary(policy: Policy, port: number): void {
  cluster.schedulingPolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  const workers = Array.from({ length: SERVING }, () => cluster.fork({ SPREAD_PORT: String(port) }));
  let listening = 0;
  for (const w of workers)
    w.on('message', (m: { listening?: boolean }) => {
      if (m.listening && ++listening === SERVING) process.send?.({ ready: true, pids: workers.map((x) => x.process.pid) });
    });
  process.on('message', (msg: { count?: boolean }) => {
    if (!msg.count) return;
    const counts = workers.map((w) => new Promise<ProcessCount>((resolve) => (w.once('message', resolve), w.send({ count: true }))));
    void Promise.all(counts).then((c) => process.send?.({ counts: c }));
  });
  process.on('disconnect', () => {
    for (const w of workers) w.process.kill('SIGKILL');
    process.exit(0);
  });
}

function ask<T>(child: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (!(key in m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

interface Row {
  policy: Policy;
  shape: 'keep-alive' | 'close';
  load: LoadResult;
  perProcess: number[];
  cpuUsPerRequest: number;
  primaryCpuShare: number;
}

async function measure(policy: Policy, shape: Row['shape'], seconds: number): Promise<Row> {
  const port = await freePort();
  const primary = fork(__filename, [], { env: { ...process.env, SPREAD_ROLE: 'primary', SPREAD_POLICY: policy, SPREAD_PORT: String(port) } });
  try {
    const ready = await ask<{ pids: number[] }>(primary, {}, 'pids');
    const pids = [primary.pid!, ...ready.pids];
    await ask(primary, { count: true }, 'counts');
    const before = pids.map((p) => cpuTimeUs(p) ?? 0);
    const headers = shape === 'close' ? ['Connection: close'] : [];
    const load = await runWrk(`http://127.0.0.1:${port}/`, { connections: CONNECTIONS, durationS: seconds, headers });
    const cpu = pids.map((p, i) => (cpuTimeUs(p) ?? 0) - before[i]);
    const { counts } = await ask<Report>(primary, { count: true }, 'counts');
    const total = cpu.reduce((a, b) => a + b, 0);
    return {
      policy,
      shape,
      load,
      perProcess: counts.map((c) => c.connections),
      cpuUsPerRequest: total / Math.max(1, load.requests),
      primaryCpuShare: cpu[0] / Math.max(1, total),
    };
  } finally {
    primary.disconnect();
    primary.kill('SIGKILL');
    await sleep(200);
  }
}

async function main(rounds: number, seconds: number): Promise<void> {
  // A serving process that dies would leave a question unanswered; the primaries follow this process out.
  const backstop = setTimeout(
    () => {
      console.error('cluster-spread: not done in time');
      process.exit(1);
    },
    rounds * 4 * (seconds + 20) * 1000,
  );
  backstop.unref();
  const rows: Row[] = [];
  for (let r = 0; r < rounds; r++)
    for (const shape of ['keep-alive', 'close'] as const)
      for (const policy of (r % 2 === 0 ? ['rr', 'none'] : ['none', 'rr']) as Policy[]) {
        const row = await measure(policy, shape, seconds);
        rows.push(row);
        const spread = row.perProcess.join(' / ');
        console.log(
          `${policy.padEnd(4)} ${shape.padEnd(10)} connections per process ${spread.padEnd(16)} ` +
            `requests ${row.load.requests} errors ${row.load.errors} cpu ${row.cpuUsPerRequest.toFixed(1)} us/req ` +
            `(primary ${(row.primaryCpuShare * 100).toFixed(1)} %)`,
        );
      }
  console.log(JSON.stringify(rows.map(({ load, ...rest }) => ({ ...rest, requests: load.requests, rps: Math.round(load.rps), p99Ms: load.p99Ms }))));
}
