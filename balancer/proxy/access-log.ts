import pino, { type DestinationStream } from 'pino';
import type { ProxyError } from '../errors';
import type { ExchangeErrorReason } from '../exchange-errors';
import type { Logger } from '../logger';

/** ACCESS_LOG: no line per request, or one JSON line per request. */
export type AccessLogMode = 'off' | 'json';

/**
 * Why the gateway answered a request itself or retried it: an exchange error (exchange-errors.ts) or
 * one of its own refusals (a ProxyError code). Absent (null) when the worker's answer went through on
 * the first try. The model is Envoy's response flags: the line says why, not only that, it failed.
 */
export type AccessReason = ExchangeErrorReason | ProxyError['code'];

/** One request, as its access log line holds it. Every key is always present, so a log pipeline sees one schema. */
export interface AccessEntry {
  readonly client: string;
  readonly method: string;
  readonly path: string;
  /** The status the client got: the worker's, the gateway's own, or 0 when the client got none (it left first). */
  readonly status: number;
  /** Request body bytes forwarded to the worker (0 for a request refused before any worker). */
  readonly requestBodyBytes: number;
  /** Response body bytes sent to the client: the worker's body as relayed, or the gateway's error body. */
  readonly responseBodyBytes: number;
  /** From the request's arrival to the end of the answer, in ms to the microsecond (HAProxy's Tt, finer). */
  readonly totalMs: number;
  /** From the request's arrival to the worker's response head, across retries; null when none came. */
  readonly headersMs: number | null;
  /** The last worker tried, null when none was. */
  readonly worker: string | null;
  /** Workers the request was sent to (0 when refused before any). */
  readonly attempts: number;
  readonly requestId: string;
  readonly reason: AccessReason | null;
}

/**
 * The access log: one line per proxied request, through pino. Its own pino instance (its level is
 * always info, whatever LOG_LEVEL says: an operator who set ACCESS_LOG=json wants the lines, and
 * no pid/hostname on each line), writing into the balancer logger's own destination: one stream
 * for both, so their lines never interleave inside a line and stay in order. pino's default
 * destination is asynchronous and batches lines written while a write is in flight, and it is
 * flushed at exit, so a line costs no syscall of its own under load.
 */
export class AccessLog {
  private readonly lines: Logger;

  constructor(destination: DestinationStream) {
    this.lines = pino({ base: null, level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, destination);
  }

  write(entry: AccessEntry): void {
    this.lines.info(entry, 'access');
  }
}

/** Built once at start from ACCESS_LOG: undefined when off, so the proxy's per-request cost is one test of a constant. */
export function createAccessLog(mode: AccessLogMode, log: Logger): AccessLog | undefined {
  if (mode === 'off') return undefined;
  return new AccessLog((log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]);
}
