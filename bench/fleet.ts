import { generateSecret, SIGNATURE_HEADER, signedPayload } from '../utils/auth';
import { freePort, spawnNode, waitFor, waitForHttp, type Tracked } from './processes';

/** The repo's own processes, started from dist/ on 127.0.0.1 the way a user would start them. */

export interface Started {
  readonly proc: Tracked;
  readonly url: string;
  readonly name: string;
}

export interface BalancerProcess extends Started {
  readonly secret: string;
}

/**
 * Our balancer in production mode, round robin, warn-level logs, on a fresh loopback port and a fresh
 * secret unless `env` names PORT and REGISTRATION_SECRET (a restart on the same ones); `stdoutTo` as spawnTracked's.
 */
export async function startOurBalancer(label = 'balancer', env: Record<string, string> = {}, stdoutTo?: string): Promise<BalancerProcess> {
  const port = env.PORT === undefined ? await freePort() : Number(env.PORT);
  const secret = env.REGISTRATION_SECRET ?? generateSecret();
  const proc = spawnNode(
    label,
    'load-balancer-server.js',
    {
      HOST: '127.0.0.1',
      STRATEGY: 'round-robin',
      LOG_LEVEL: 'warn',
      // Kept on, as in production, on a port of the kernel's choice: two balancers of one run never contend for 8404.
      ADMIN_PORT: '0',
      // Each run starts from an empty registry: a snapshot of an earlier run would bring back its dead workers.
      STATE_DIR: 'off',
      ...env,
      PORT: String(port),
      REGISTRATION_SECRET: secret,
    },
    stdoutTo,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/workers`, proc);
  return { proc, url, name: label, secret };
}

/**
 * A worker answering GET / after `delayMs`. With `balancer`, it registers itself through
 * LOAD_BALANCER_REGISTER and the balancer's secret, as in production.
 */
export async function startWorker(name: string, delayMs: number, balancer?: BalancerProcess): Promise<Started> {
  const port = await freePort();
  const proc = spawnNode(name, 'workers/worker-server.js', {
    HOST: '127.0.0.1',
    PORT: String(port),
    NAME: name,
    WORKER_DELAY_MS: String(delayMs),
    LOG_LEVEL: 'warn',
    ...(balancer ? { LOAD_BALANCER_REGISTER: `${balancer.url}/register-worker`, REGISTRATION_SECRET: balancer.secret } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, proc);
  return { proc, url, name };
}

/** Resolves with the balancer's list once it holds every url in `urls` (and perhaps more). */
export async function waitForRegistered(balancer: { url: string }, urls: string[], timeoutMs = 15_000): Promise<string[]> {
  return waitFor(
    async () => {
      const list = (await (await fetch(`${balancer.url}/workers`)).json()) as string[];
      const known = new Set(list);
      return urls.every((u) => known.has(u)) ? list : undefined;
    },
    `${urls.length} workers to register with ${balancer.url}`,
    timeoutMs,
  );
}

/**
 * Registers `urls` directly, signed like a worker would sign them, `concurrency` at a time. Used for
 * upstreams that are not worker processes (the many-ports server, the echo upstream).
 */
export async function registerUrls(balancer: BalancerProcess, urls: string[], concurrency = 16): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < urls.length) {
      const url = urls[next++];
      const { body, signature } = signedPayload({ url, name: `fake-${new URL(url).port}`, weight: 1 }, balancer.secret);
      const res = await fetch(`${balancer.url}/register-worker`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
      });
      const text = await res.text();
      if (res.status !== 200 && res.status !== 201) throw new Error(`registering ${url} failed: ${res.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
}
