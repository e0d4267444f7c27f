/**
 * The shared registry's key space under one prefix ('lb:' by default), so several fleets can share a
 * Redis. Every key is named here and nowhere else; nothing ever lists keys with KEYS or SCAN: the
 * index sorted set and the overrides set name every member.
 */
export function redisKeys(prefix: string) {
  return {
    /** Sorted set of worker URLs, score = lastSeenAt (ms epoch). */
    index: `${prefix}workers`,
    /** JSON of one SharedWorker, with a PX expiry its heartbeats push back. */
    worker: (url: string) => `${prefix}worker:${url}`,
    /** Set of the URLs that have an override key. */
    overrides: `${prefix}overrides`,
    /** JSON of one SharedOverride; no expiry: an operator's decision outlives its worker's heartbeats. */
    override: (url: string) => `${prefix}override:${url}`,
    /** INCR on every change. */
    rev: `${prefix}rev`,
    /** A random id, SET NX by the first writer after Redis started empty. */
    epoch: `${prefix}epoch`,
    /** Pub/sub channel of ChangeMessage JSON. */
    changes: `${prefix}changes`,
    /** SET NX PX: a registration nonce already used through some replica. */
    nonce: (nonce: string) => `${prefix}nonce:${nonce}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
