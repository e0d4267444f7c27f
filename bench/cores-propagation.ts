import { Agent, createServer, request, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SIGNATURE_HEADER, signedPayload } from '../utils/auth';
import type { BalancerProcess } from './fleet';
import { childPids, connectionOwners } from './proc-sockets';

/**
 * The cores suite's propagation figure, end to end (issue 13: p50/p99 over 100 registrations, under
 * 50 ms): from sending a signed POST /register-worker to the gateway until every serving process
 * proxies to that worker. Each serving process is reached through a kept-alive connection it holds
 * (found in /proc, proc-sockets.ts), so a request on it is picked by that process's view. Each
 * registration is a new worker and the one before is deregistered first: the feed keeps the order
 * of the registry's changes, so a view that answers from the new worker has also dropped the old one,
 * and a request answered from the new worker's port means that view has it. Bounded: 5 s per
 * registration, then it counts as not arrived.
 */

const PER_REGISTRATION_MS = 5_000;

/** One loopback upstream per registration, each answering its own port, so an answer names the worker. */
async function startUpstreams(count: number): Promise<{ servers: Server[]; urls: string[] }> {
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => res.end(String(req.socket.localPort)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  }
  return { servers, urls };
}

/** A GET on one pinned connection: resolves with the body, or '' on an error. */
function get(agent: Agent, port: number): Promise<{ body: string; localPort: number }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ body, localPort: req.socket?.localPort ?? 0 }));
    });
    req.on('error', () => resolve({ body: '', localPort: 0 }));
    req.end();
  });
}

async function signed(balancer: BalancerProcess, route: string, fields: Record<string, unknown>): Promise<void> {
  const { body, signature } = signedPayload(fields, balancer.secret);
  const res = await fetch(`${balancer.url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature }, body });
  await res.arrayBuffer();
}

/** One kept-alive connection per serving process of `balancer` (PROCESSES > 1): opens up to 32 until each holds one. */
async function connectionPerProcess(balancer: BalancerProcess): Promise<Agent[]> {
  const port = Number(new URL(balancer.url).port);
  const serving = childPids(balancer.proc.pid);
  const byPid = new Map<number, Agent>();
  const opened: Agent[] = [];
  for (let i = 0; i < 32 && byPid.size < serving.length; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    opened.push(agent);
    const { localPort } = await get(agent, port);
    const owner = connectionOwners(port, serving).get(localPort);
    if (owner !== undefined && !byPid.has(owner)) byPid.set(owner, agent);
  }
  for (const agent of opened) if (![...byPid.values()].includes(agent)) agent.destroy();
  if (byPid.size < serving.length) throw new Error(`reached ${byPid.size} of ${serving.length} serving processes over 32 connections`);
  return [...byPid.values()];
}

export interface Propagation {
  readonly processes: number;
  readonly timesMs: number[];
  /** Registrations that did not reach every process within PER_REGISTRATION_MS. */
  readonly missed: number;
}

/** Runs `count` registrations one after another against a balancer that has no other worker. */
export async function measurePropagation(balancer: BalancerProcess, count: number): Promise<Propagation> {
  const port = Number(new URL(balancer.url).port);
  const agents = await connectionPerProcess(balancer);
  const { servers, urls } = await startUpstreams(count);
  const timesMs: number[] = [];
  let missed = 0;
  try {
    for (let i = 0; i < count; i++) {
      const want = new URL(urls[i]).port;
      if (i > 0) await signed(balancer, 'deregister-worker', { url: urls[i - 1] });
      const start = performance.now();
      const deadline = Date.now() + PER_REGISTRATION_MS;
      await signed(balancer, 'register-worker', { url: urls[i], name: `p${i}`, weight: 1 });
      const reached = await Promise.all(
        agents.map(async (agent) => {
          while (Date.now() < deadline) {
            if ((await get(agent, port)).body === want) return performance.now() - start;
          }
          return undefined;
        }),
      );
      if (reached.some((t) => t === undefined)) missed++;
      else timesMs.push(Math.max(...(reached as number[])));
    }
  } finally {
    for (const agent of agents) agent.destroy();
    await Promise.all(
      servers.map((s) => {
        s.closeAllConnections(); // the balancer's kept-alive upstream connections
        return new Promise((r) => s.close(r));
      }),
    );
  }
  return { processes: agents.length, timesMs, missed };
}
