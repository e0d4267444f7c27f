import { Pool } from 'undici';

export interface PoolOptions {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0 means no limit. */
  maxConnections: number;
}

/**
 * One keep-alive connection pool per worker, made once when the worker registers: the per-request path
 * only borrows a socket. Timeouts map onto undici's: connect, headers (time to first byte) and body (idle).
 */
export function createUpstreamPool(origin: string, opts: PoolOptions): Pool {
  return new Pool(origin, {
    connections: opts.maxConnections === 0 ? null : opts.maxConnections,
    pipelining: 1,
    connect: { timeout: opts.connectTimeoutMs },
    headersTimeout: opts.responseTimeoutMs,
    bodyTimeout: opts.idleTimeoutMs,
  });
}
