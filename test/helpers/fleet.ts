import { Agent as HttpAgent, createServer, request, type Agent, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningProcess } from './processes';

/** A worker in the test's own process: counts its health probes, records each proxied request's Via, fails on demand. */
export interface FleetWorker {
  readonly url: string;
  /** GET /healthz requests seen (the balancer's active health checks). */
  probes: number;
  /**
   * Which serving process sent each proxied request: the prefix of its X-Request-Id, random per process
   * (balancer/proxy/request-id.ts). (Via cannot say: the serving processes share one token.)
   */
  readonly servedBy: string[];
  /** The Via header of each proxied request. */
  readonly vias: string[];
  /** While true, every request but /healthz is answered 500. */
  failing: boolean;
  /** Requests sent by this serving process (its X-Request-Id prefix, as in servedBy) are answered 500. */
  failFor: string | undefined;
  /** While true, GET /healthz is answered 503 (the active checks' verdict turns unhealthy). */
  probeFailing: boolean;
  /** How long each proxied request waits before its answer. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startFleetWorker(): Promise<FleetWorker> {
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/healthz') {
      worker.probes++;
      res.statusCode = worker.probeFailing ? 503 : 200;
      res.end('ok');
      return;
    }
    worker.vias.push(String(req.headers.via));
    const by = String(req.headers['x-request-id']).split('-')[0];
    worker.servedBy.push(by);
    const failing = worker.failing || by === worker.failFor;
    setTimeout(() => {
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? 'failing' : worker.url);
    }, worker.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const worker: FleetWorker = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    probes: 0,
    vias: [],
    servedBy: [],
    failing: false,
    failFor: undefined,
    probeFailing: false,
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return worker;
}

export interface Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * One request on a connection of its own (agent: false, Connection: close) unless `agent` is given:
 * node:cluster's round robin hands each new connection to the next serving process.
 */
export function send(
  url: string,
  path = '/',
  options: { method?: string; body?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}${path} within 10 s`)));
    req.end(options.body);
  });
}

/** The pids of the serving processes that said they listen ("serving process listening"), in order of their lines. */
export function servingPids(balancer: RunningProcess): number[] {
  return balancer
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"serving process listening"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

/** Whether a process with this pid exists now. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * How long the helpers below keep opening connections for one process to come up. node:cluster's round
 * robin passes over a process that has not yet acknowledged its last connection, and a process starved of
 * CPU on a loaded machine (jest runs several suites at once on two cores) may not acknowledge for a long
 * while: a fixed count of attempts cannot promise every process, a deadline with pauses between misses can.
 */
const reachEveryProcessMs = 15_000;
const pauseAfterMissMs = 20;

/**
 * Sends GET / on a new connection each until the requests the `workers` saw from this call on came from
 * `processes` distinct serving processes, and returns the answers, every one of which must be 200.
 * Bounded by `max` requests and reachEveryProcessMs.
 */
export async function sendUntilEveryProcess(url: string, workers: FleetWorker[], processes: number, max = 300): Promise<Answer[]> {
  const seen = workers.map((w) => w.servedBy.length);
  const answers: Answer[] = [];
  const deadline = Date.now() + reachEveryProcessMs;
  const distinct = () => new Set(workers.flatMap((w, i) => w.servedBy.slice(seen[i]))).size;
  while (distinct() < processes) {
    if (answers.length >= max || Date.now() > deadline)
      throw new Error(`${answers.length} requests in ${reachEveryProcessMs} ms reached only ${distinct()} of ${processes} serving processes`);
    if (answers.length > 0) await sleep(pauseAfterMissMs);
    const answer = await send(url, '/');
    if (answer.status !== 200) throw new Error(`GET / answered ${answer.status}: ${answer.body}`);
    answers.push(answer);
  }
  return answers;
}

/**
 * One kept-alive connection (an Agent with one socket) to each of `processes` serving processes: opens
 * connections one by one and keeps each one that landed in a process not held yet, identified by the
 * X-Request-Id prefix the `workers` recorded. Requests alternated over them then alternate the
 * processes exactly, whatever the round robin does with new connections. The caller destroys them.
 * Bounded by `max` connections and reachEveryProcessMs; the error says what the misses answered.
 */
export async function pinnedConnections(url: string, workers: FleetWorker[], processes: number, max = 300): Promise<Agent[]> {
  const pinned = new Map<string, Agent>();
  const misses = new Map<string, number>();
  const deadline = Date.now() + reachEveryProcessMs;
  let attempts = 0;
  for (; attempts < max && Date.now() <= deadline && pinned.size < processes; attempts++) {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const seen = workers.map((w) => w.servedBy.length);
    const answer = await send(url, '/', { agent });
    const by = workers.flatMap((w, j) => w.servedBy.slice(seen[j]))[0];
    if (answer.status === 200 && by !== undefined && !pinned.has(by)) {
      pinned.set(by, agent);
      continue;
    }
    agent.destroy();
    const miss = answer.status !== 200 ? `answered ${answer.status}` : by === undefined ? 'reached no worker' : 'a process already held';
    misses.set(miss, (misses.get(miss) ?? 0) + 1);
    await sleep(pauseAfterMissMs);
  }
  if (pinned.size < processes) {
    for (const agent of pinned.values()) agent.destroy();
    const tally = [...misses].map(([miss, count]) => `${count} ${miss}`).join(', ');
    throw new Error(`${attempts} connections reached only ${pinned.size} of ${processes} serving processes (${tally})`);
  }
  return [...pinned.values()];
}
