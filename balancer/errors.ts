import { classify, EXCHANGE_ERRORS, type ExchangeErrorReason } from './exchange-errors';

/**
 * Every way the gateway itself can fail a request, as values: an HTTP status, a stable code (also the
 * metrics label) and a message a client can act on. The proxy never throws these; it sends them.
 */
export interface ProxyError {
  readonly status: 400 | 403 | 408 | 431 | 501 | 502 | 503 | 504 | 508;
  readonly code:
    | 'ambiguous_framing'
    | 'unsupported_transfer_coding'
    | 'too_many_headers'
    | 'invalid_host'
    | 'invalid_target'
    | 'control_forbidden'
    | 'request_timeout'
    | 'loop_detected'
    | 'no_worker'
    | 'worker_unreachable'
    | 'worker_timeout';
  readonly message: string;
  /** Seconds, for 503's Retry-After. */
  readonly retryAfter?: number;
  /**
   * The answer ends the client's connection (Connection: close): the request was refused for how it
   * is framed or addressed, so nothing after it on that connection is trusted to be a request. nginx
   * closes after its 400 and 501 the same way.
   */
  readonly closeConnection?: true;
}

// Requests refused before any worker is asked (balancer/proxy/check-request.ts).

/** Transfer-Encoding beside Content-Length: two framings, each read by some parser (RFC 9112 section 6.1). */
export const framingTwice: ProxyError = {
  status: 400,
  code: 'ambiguous_framing',
  message: 'the request has both Transfer-Encoding and Content-Length, or one of them twice (RFC 9112 section 6.1)',
  closeConnection: true,
};

/** An empty Transfer-Encoding: node's parser ignores it, another parser may not. */
export const framingEmpty: ProxyError = {
  status: 400,
  code: 'ambiguous_framing',
  message: 'the request has an empty Transfer-Encoding header (RFC 9112 section 6.1)',
  closeConnection: true,
};

/** Transfer-Encoding in an HTTP/1.0 request, whose framing RFC 9112 section 6.1 says to treat as faulty. */
export const framingHttp10: ProxyError = {
  status: 400,
  code: 'ambiguous_framing',
  message: 'an HTTP/1.0 request cannot use Transfer-Encoding (RFC 9112 section 6.1)',
  closeConnection: true,
};

/** A transfer coding other than chunked alone: 501 as RFC 9112 section 6.1 advises and nginx answers. */
export const unsupportedTransferCoding: ProxyError = {
  status: 501,
  code: 'unsupported_transfer_coding',
  message: 'the only Transfer-Encoding accepted is chunked',
  closeConnection: true,
};

/** More request header fields than MAX_REQUEST_HEADERS (HAProxy's tune.http.maxhdr, Apache's LimitRequestFields). */
export function tooManyHeaders(max: number): ProxyError {
  return {
    status: 431,
    code: 'too_many_headers',
    message: `the request has more than ${max} header fields (MAX_REQUEST_HEADERS)`,
    closeConnection: true,
  };
}

/** RFC 9112 section 3.2: more than one Host, or none in HTTP/1.1, is a 400. */
export const invalidHost: ProxyError = {
  status: 400,
  code: 'invalid_host',
  message: 'an HTTP/1.1 request has exactly one Host header (RFC 9112 section 3.2)',
  closeConnection: true,
};

/** An absolute-form target the balancer cannot take a Host from (RFC 9112 section 3.2.2, RFC 9110 section 4.2). */
export const invalidTarget: ProxyError = {
  status: 400,
  code: 'invalid_target',
  message: 'an absolute-form target is http:// or https:// with a host (and port), no userinfo (RFC 9112 section 3.2.2)',
  closeConnection: true,
};

export const noWorker: ProxyError = {
  status: 503,
  code: 'no_worker',
  message: 'no healthy worker is registered; retry shortly',
  retryAfter: 1,
};

/**
 * A control request the registry's owner did not answer (PROCESSES > 1: the primary, within
 * CONTROL_REPLY_TIMEOUT_MS): the write may or may not be applied later. Answered by the control plane, in this module's
 * shape ({error, message}); not a ProxyError, as the proxy never sends it.
 */
export const registryUnavailable = {
  status: 503,
  code: 'registry_unavailable',
  message: 'the registry did not answer in time; retry shortly',
  retryAfter: 1,
} as const;

/** A control path (/workers, /register-worker, /deregister-worker) asked for from outside CONTROL_ALLOW. */
export const controlForbidden: ProxyError = {
  status: 403,
  code: 'control_forbidden',
  message: 'the control plane is not open to this address (CONTROL_ALLOW)',
};

/** The client stopped sending in the middle of its request body for longer than IDLE_TIMEOUT_MS. */
export const requestTimeout: ProxyError = {
  status: 408,
  code: 'request_timeout',
  message: 'the request body stopped arriving (IDLE_TIMEOUT_MS)',
};

/** The request came back to the balancer it left: a worker is registered at the balancer's own address. */
export const loopDetected: ProxyError = {
  status: 508,
  code: 'loop_detected',
  message: 'this request already passed through this balancer (see its Via header); a worker is registered at the balancer address',
};

/** A worker answered 101 switching to a protocol the request was not upgraded to: the tunnel is never opened. */
export const unaskedSwitch: ProxyError = {
  status: 502,
  code: 'worker_unreachable',
  message: 'the worker switched to a protocol that was not asked for (see UPGRADE_PROTOCOLS)',
};

const unreachable: ProxyError = {
  status: 502,
  code: 'worker_unreachable',
  message: 'the worker could not be reached, closed the connection, or sent a malformed response',
};
const timeout: ProxyError = { status: 504, code: 'worker_timeout', message: 'the worker did not answer in time' };

/** The answer for a failed exchange, by its reason: 504 when it ran out of time, else 502 (see EXCHANGE_ERRORS). */
export function proxyErrorFor(reason: ExchangeErrorReason): ProxyError {
  return EXCHANGE_ERRORS[reason].status === 504 ? timeout : unreachable;
}

/** The answer for a raw failed-exchange error: classify() then proxyErrorFor(). */
export function classifyUpstreamError(err: unknown): ProxyError {
  return proxyErrorFor(classify(err));
}

export function errorBody(error: ProxyError): string {
  return JSON.stringify({ error: error.code, message: error.message });
}
