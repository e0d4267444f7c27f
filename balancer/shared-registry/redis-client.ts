import Redis from 'ioredis';
import { refastenStringPrototype } from './string-prototype';

// Loading ioredis left String.prototype slow for every request (see string-prototype.ts); once, here.
refastenStringPrototype();

/** Backoff between reconnection attempts: doubling from 100 ms, capped at maxMs. */
export function reconnectDelay(attempt: number, maxMs: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), maxMs);
}

/**
 * An ioredis connection for the shared registry. Commands fail at once while it is disconnected
 * (no offline queue): a replica never waits on Redis, it keeps its local view and writes back on
 * reconnect. It reconnects for ever, with backoff. The URL may hold a password: it is never logged.
 */
export function createRedisClient(url: string, maxBackoffMs = 2_000): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    // On close, a socket that does not end within this is destroyed, so a shutdown never waits on a dead Redis.
    disconnectTimeout: 500,
    retryStrategy: (attempt) => reconnectDelay(attempt, maxBackoffMs),
  });
}

/** An ioredis failure as one sentence, for a StoreResult or a log line. */
export function problemOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
