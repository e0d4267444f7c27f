import type { ClientGoneError } from './proxy/relay-response';
import type { WorkerUnhealthyError } from './registry';
import type { UpstreamErrorCode } from './upstream/errors';
import type { ResponseParseError } from './upstream/response-parser';

/**
 * Why an exchange with a worker failed: the one closed vocabulary the retry decision, the 502/504
 * answer, the log lines and the metrics labels all read. Raw codes (node's errno, our UPSTREAM_*,
 * llhttp's HPE_*) are many and open-ended; these are few and fixed, so a label set stays bounded.
 */
export const EXCHANGE_ERROR_REASONS = [
  'refused',
  'reset',
  'closed',
  'unreachable',
  'connect_timeout',
  'socket_timeout',
  'response_timeout',
  'body_timeout',
  'bad_response',
  'worker_left',
  'worker_unhealthy',
  'address_refused',
  'no_address',
  'client_gone',
  'other',
] as const;

export type ExchangeErrorReason = (typeof EXCHANGE_ERROR_REASONS)[number];

export interface ExchangeErrorKind {
  /**
   * The failure happened under the request before the worker could have acted on it, so another
   * worker may be tried (when the request is replayable and no response byte was relayed).
   */
  readonly retryable: boolean;
  /** What the client is answered when no response has started: 504 for running out of time, else 502. */
  readonly status: 502 | 504;
}

/**
 * What each reason means to the gateway. A Record over the union: a reason added above without a row
 * here does not compile. Retryable: the connection failed under the request (refused, reset, a pooled
 * socket closed, a connect that never completed), or the registry called it off; a worker that was
 * slow to answer or answered badly is not asked again, as fastify-reply-from and Envoy's default
 * retry_on (connect-failure, reset) do.
 */
export const EXCHANGE_ERRORS: Readonly<Record<ExchangeErrorReason, ExchangeErrorKind>> = {
  refused: { retryable: true, status: 502 },
  reset: { retryable: true, status: 502 },
  closed: { retryable: true, status: 502 },
  unreachable: { retryable: true, status: 502 },
  connect_timeout: { retryable: true, status: 504 },
  // The kernel gave up (ETIMEDOUT): the request may have reached the worker, so it is not repeated.
  socket_timeout: { retryable: false, status: 504 },
  response_timeout: { retryable: false, status: 504 },
  body_timeout: { retryable: false, status: 504 },
  bad_response: { retryable: false, status: 502 },
  worker_left: { retryable: true, status: 502 },
  worker_unhealthy: { retryable: true, status: 502 },
  address_refused: { retryable: false, status: 502 },
  no_address: { retryable: false, status: 502 },
  // Never sent: no client is left to read it. The proxy checks for this reason before answering.
  client_gone: { retryable: false, status: 502 },
  other: { retryable: false, status: 502 },
};

/** Every code the data plane raises or node reports to it that has a reason of its own. */
type KnownCode =
  | UpstreamErrorCode
  | ResponseParseError['code']
  | ClientGoneError['code']
  | WorkerUnhealthyError['code']
  // balancer/worker-address.ts: the worker's address was refused at connect time.
  | 'WORKER_ADDRESS_REFUSED'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'EPIPE'
  | 'ETIMEDOUT'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ENOTFOUND'
  | 'ENODATA'
  | 'EAI_NONAME'
  | 'EAI_NODATA'
  | 'EAI_AGAIN';

/** A Record, so a code added to UpstreamErrorCode or an error class without a reason does not compile. */
const REASON_OF_CODE: Record<KnownCode, ExchangeErrorReason> = {
  UPSTREAM_CONNECT_TIMEOUT: 'connect_timeout',
  UPSTREAM_HEADERS_TIMEOUT: 'response_timeout',
  UPSTREAM_BODY_TIMEOUT: 'body_timeout',
  UPSTREAM_CLOSED: 'closed',
  UPSTREAM_POOL_CLOSED: 'worker_left',
  UPSTREAM_BAD_RESPONSE: 'bad_response',
  CLIENT_GONE: 'client_gone',
  WORKER_UNHEALTHY: 'worker_unhealthy',
  WORKER_ADDRESS_REFUSED: 'address_refused',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  // Writing to a socket the worker already reset: the same event seen from the write side.
  EPIPE: 'reset',
  ETIMEDOUT: 'socket_timeout',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'no_address',
  ENODATA: 'no_address',
  EAI_NONAME: 'no_address',
  EAI_NODATA: 'no_address',
  EAI_AGAIN: 'no_address',
};
const REASONS_BY_CODE: ReadonlyMap<string, ExchangeErrorReason> = new Map(Object.entries(REASON_OF_CODE));

/** The error's `code` when it has a string one (node's errors and ours all do), else undefined. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * The one place a failed exchange is sorted. Called by the proxy and the upgrade path only when an
 * exchange failed, never on success. Anything unrecognised is 'other' (502, not retried).
 */
export function classify(err: unknown): ExchangeErrorReason {
  const code = errorCode(err);
  if (code === undefined) return 'other';
  const reason = REASONS_BY_CODE.get(code);
  if (reason !== undefined) return reason;
  // node's own HTTP client (the upgrade path) reports a malformed response with llhttp's HPE_* codes.
  return code.startsWith('HPE_') ? 'bad_response' : 'other';
}

/** For log lines: the raw code beside the reason, so an operator can still tell ECONNRESET from EPIPE. */
export function rawCode(err: Error): string {
  return errorCode(err) ?? err.message;
}
