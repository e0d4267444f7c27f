/**
 * What every peer server under bench/servers reads: PORT (on 127.0.0.1) and UPSTREAMS, a comma-separated
 * list of worker origins. The benchmark sets both; these files are not meant to be run by hand.
 */
export function peerEnv(): { port: number; upstreams: string[] } {
  const port = Number(process.env.PORT);
  const upstreams = (process.env.UPSTREAMS ?? '').split(',').filter(Boolean);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to a port number');
  if (upstreams.length === 0) throw new Error('UPSTREAMS must list at least one worker origin');
  for (const u of upstreams) {
    if (new URL(u).hostname !== '127.0.0.1') throw new Error(`UPSTREAMS may only point at 127.0.0.1, got ${u}`);
  }
  return { port, upstreams };
}

/** The next upstream in turn: the same round robin every Node peer uses, so they differ only in transport. */
export function roundRobin<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i];
    i = i + 1 === items.length ? 0 : i + 1;
    return item;
  };
}

export const HOST = '127.0.0.1';
