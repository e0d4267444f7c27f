/**
 * Every way the gateway itself can fail a request, as values: an HTTP status, a stable code (also the
 * metrics label) and a message a client can act on. The proxy never throws these; it sends them.
 */
export interface ProxyError {
  readonly status: 403 | 408 | 502 | 503 | 504 | 508;
  readonly code: 'control_forbidden' | 'request_timeout' | 'loop_detected' | 'no_worker' | 'worker_unreachable' | 'worker_timeout';
  readonly message: string;
  /** Seconds, for 503's Retry-After. */
  readonly retryAfter?: number;
}

export const noWorker: ProxyError = {
  status: 503,
  code: 'no_worker',
  message: 'no healthy worker is registered; retry shortly',
  retryAfter: 1,
};

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

const unreachable: ProxyError = { status: 502, code: 'worker_unreachable', message: 'the worker could not be reached, closed the connection, or sent a malformed response' };
const timeout: ProxyError = { status: 504, code: 'worker_timeout', message: 'the worker did not answer in time' };

/** Error codes that mean "ran out of time", mapped to 504; everything else is 502. */
const TIMEOUT_CODES = new Set(['UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_HEADERS_TIMEOUT', 'UPSTREAM_BODY_TIMEOUT', 'ETIMEDOUT']);

export function classifyUpstreamError(err: unknown): ProxyError {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && TIMEOUT_CODES.has(code) ? timeout : unreachable;
}

export function errorBody(error: ProxyError): string {
  return JSON.stringify({ error: error.code, message: error.message });
}
