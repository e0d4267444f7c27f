/** One client request's outcome during a load run. */
export interface Outcome {
  status: number; // 0 when the request itself failed
  server?: string;
  error?: string;
  /** When the request was sent (ms epoch) and how long it took. */
  at: number;
  ms: number;
}

/**
 * Sends GETs to `url` from `concurrency` loops until `stop()` resolves true or the bounds run out
 * (count and time), and returns every outcome. Bounded by design: tests never loop forever.
 */
export async function runLoad(url: string, opts: { concurrency: number; maxRequests: number; maxMs: number; until?: () => boolean }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + opts.maxMs;
  let issued = 0;
  const loop = async () => {
    while (issued < opts.maxRequests && Date.now() < deadline && !opts.until?.()) {
      issued++;
      const started = Date.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        const text = await res.text();
        outcomes.push({ status: res.status, server: /^Server: ([\w-]+),/.exec(text)?.[1], at: started, ms: Date.now() - started });
      } catch (err) {
        outcomes.push({ status: 0, error: (err as Error).message, at: started, ms: Date.now() - started });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  return outcomes;
}

export function countBy<T>(items: T[], key: (item: T) => string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item) ?? 'none';
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
