import autocannon from 'autocannon';
import { spawnTracked, which } from './processes';

/**
 * Load generation: autocannon in this process, or wrk as a child process. Every run is bounded by its
 * duration and, as a backstop, by a timer that stops it `STOP_GRACE_MS` later.
 */

export type GeneratorName = 'autocannon' | 'wrk';

export interface LoadOptions {
  connections: number;
  durationS: number;
  /** autocannon only: count responses per `Server: <name>` found in each body. */
  countShares?: boolean;
  /** wrk only: extra request headers, each "Name: value". */
  headers?: string[];
}

export interface LoadResult {
  generator: GeneratorName;
  connections: number;
  durationS: number;
  /** Completed responses, whatever their status. */
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx responses (wrk: non-2xx/3xx) plus socket errors and timeouts. */
  errors: number;
  /** Responses counted per worker name, when asked for. */
  shares?: Record<string, number>;
}

const STOP_GRACE_MS = 15_000;
const REQUEST_TIMEOUT_S = 10;
const SERVER_NAME = /^Server: ([^,]+),/;

/** wrk when it is installed (it is cheaper per request and does not share our event loop), else autocannon. */
export function defaultGenerator(): GeneratorName {
  return which('wrk') ? 'wrk' : 'autocannon';
}

export function runLoad(generator: GeneratorName, url: string, opts: LoadOptions): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(url, opts) : runAutocannon(url, opts);
}

/**
 * autocannon in-process. With countShares, one onResponse callback runs a regex on every body; it is
 * installed for both targets of a comparison so the overhead is the same on each side.
 */
export function runAutocannon(url: string, { connections, durationS, countShares = false }: LoadOptions): Promise<LoadResult> {
  const shares: Record<string, number> = {};
  const onResponse = (status: number, body: string) => {
    const name = SERVER_NAME.exec(body)?.[1] ?? `(status ${status}, no name)`;
    shares[name] = (shares[name] ?? 0) + 1;
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationS,
        timeout: REQUEST_TIMEOUT_S,
        requests: countShares ? [{ method: 'GET', path: '/', onResponse }] : undefined,
      },
      (err, result) => {
        clearTimeout(backstop);
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const requests = result.requests.total;
        resolve({
          generator: 'autocannon',
          connections,
          durationS: result.duration,
          requests,
          rps: requests / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          // result.errors already includes result.timeouts.
          errors: result.non2xx + result.errors,
          ...(countShares ? { shares } : {}),
        });
      },
    );
    const backstop = setTimeout(() => instance.stop(), durationS * 1000 + STOP_GRACE_MS);
  });
}

/** wrk with one thread (the machines this runs on are small) and its latency distribution. */
export async function runWrk(url: string, { connections, durationS, headers = [] }: LoadOptions): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(durationS));
  const wrk = spawnTracked('wrk', which('wrk') ?? 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    `--timeout`,
    `${REQUEST_TIMEOUT_S}s`,
    '--latency',
    ...headers.flatMap((h) => ['-H', h]),
    url,
  ]);
  const backstop = setTimeout(() => void wrk.stop(500), seconds * 1000 + STOP_GRACE_MS);
  const code = await new Promise<number | null>((resolve) => wrk.child.once('exit', (c) => resolve(c)));
  clearTimeout(backstop);
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${wrk.output()}`);
  return { ...parseWrk(wrk.output()), connections, durationS: seconds };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(value: string, unit: string): number {
  return Number(value) * UNIT_MS[unit];
}

/** Reads the numbers out of wrk's --latency report (latencies in us, ms, s or m; error lines only when non-zero). */
export function parseWrk(text: string): Omit<LoadResult, 'connections' | 'durationS'> {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(text);
    if (!m) throw new Error(`could not find ${what} in wrk output:\n${text}`);
    return m;
  };
  const p50 = need(/^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m, '50th percentile');
  const p99 = need(/^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m, '99th percentile');
  const total = need(/^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)/m, 'request count');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  const requests = Number(total[1]);
  const elapsedS = toMs(total[2], total[3]) / 1000;
  return {
    generator: 'wrk',
    requests,
    rps: requests / elapsedS,
    p50Ms: toMs(p50[1], p50[2]),
    p99Ms: toMs(p99[1], p99[2]),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
}
