import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generateSecret, SIGNATURE_HEADER, signedPayload } from '../../utils/auth';
import type { BenchOptions } from '../args';
import { startOurBalancer, type BalancerProcess } from '../fleet';
import { runMetadata, writeJson, type RunMetadata } from '../json';
import { freePort, sleep, spawnTracked, waitFor, which } from '../processes';

/**
 * `npm run benchmark -- --suite replicas`: two balancer replicas sharing a registry through a
 * redis-server of their own (REDIS_URL), and the time from a registration POSTed to replica A until
 * replica B routes a request to that worker (issue 13: p50/p99 over 100 registrations, within 1 s).
 * Each registration is a fresh upstream on 127.0.0.1 that answers with its port; B is asked GET /
 * until that port answers (a request at a time, so the loop is bounded by the count and a 5 s limit
 * per registration). The previous upstream is deregistered through A after each measurement, so B
 * holds at most two. Registrations go one at a time, 10 ms apart.
 */

const REGISTRATIONS = 100;
const PER_REGISTRATION_LIMIT_MS = 5_000;

export interface ReplicasResults {
  suite: 'replicas';
  meta: RunMetadata;
  registrations: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

/** An upstream on a loopback port of the kernel's choice that answers every request with that port. */
async function portUpstream(): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((_req, res) => res.end(String((server.address() as AddressInfo).port)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

async function signedPost(balancer: BalancerProcess, route: 'register-worker' | 'deregister-worker', fields: Record<string, unknown>): Promise<void> {
  const { body, signature } = signedPayload(fields, balancer.secret);
  const res = await fetch(`${balancer.url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature }, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${route} ${String(fields.url)} through ${balancer.url}: ${res.status} ${text}`);
}

/** Asks `balancer` GET / until the upstream on `port` answers it. */
async function routedTo(balancer: BalancerProcess, port: number): Promise<void> {
  const deadline = performance.now() + PER_REGISTRATION_LIMIT_MS;
  while (performance.now() < deadline) {
    const res = await fetch(`${balancer.url}/`);
    if ((await res.text()) === String(port)) return;
  }
  throw new Error(`${balancer.url} did not route to port ${port} within ${PER_REGISTRATION_LIMIT_MS} ms`);
}

export async function runReplicasSuite(opts: BenchOptions): Promise<ReplicasResults> {
  const redisBin = which('redis-server');
  if (redisBin === undefined) throw new Error('the replicas suite needs redis-server (the Debian package redis-server)');
  const redisPort = await freePort();
  const redis = spawnTracked('redis-server', redisBin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitFor(
    () => tcpOpen(redisPort),
    'redis-server',
    10_000,
    () => (redis.child.exitCode === null ? undefined : redis.output()),
  );
  const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REGISTRATION_SECRET: generateSecret(), HEALTH_CHECK_INTERVAL_MS: '0' };
  const [a, b] = await Promise.all([startOurBalancer('replica-a', env), startOurBalancer('replica-b', env)]);
  const upstreams: Server[] = [];
  const times: number[] = [];
  let previous: string | undefined;
  try {
    for (let i = 0; i < REGISTRATIONS; i++) {
      const upstream = await portUpstream();
      upstreams.push(upstream.server);
      const start = performance.now();
      await signedPost(a, 'register-worker', { url: upstream.url, name: `r${i}`, weight: 1 });
      await routedTo(b, upstream.port);
      times.push(performance.now() - start);
      if (previous !== undefined) await signedPost(a, 'deregister-worker', { url: previous });
      previous = upstream.url;
      await sleep(10);
    }
  } finally {
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
    for (const s of upstreams) s.close();
  }
  const sorted = [...times].sort((x, y) => x - y);
  const results: ReplicasResults = {
    suite: 'replicas',
    meta: runMetadata(),
    registrations: REGISTRATIONS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: percentile(sorted, 100),
  };
  const ms = (v: number) => v.toFixed(1);
  process.stdout.write(
    `\nregistration through replica A until replica B routes to the worker (Redis, ${REGISTRATIONS} registrations): ` +
      `p50 ${ms(results.p50Ms)} ms, p99 ${ms(results.p99Ms)} ms, max ${ms(results.maxMs)} ms (target: within 1000 ms)\n`,
  );
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, results)}\n`);
  return results;
}
