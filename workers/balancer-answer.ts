/**
 * What a worker makes of the answer to a registration. Only the balancer's own answer counts (a 200
 * or 201 with its JSON, naming this worker's url): a LOAD_BALANCER_REGISTER that reaches anything
 * else (a path the balancer proxies to another worker, a wrong host) must not look like success.
 * A refusal no retry can fix stops the worker with its reason; what a fresh attempt can get past
 * (a 5xx, a timestamp the balancer's clock disagrees with, a restarted balancer) is retried.
 */
export type RegistrationVerdict = { verdict: 'registered' } | { verdict: 'retry'; reason: string } | { verdict: 'stop'; reason: string };

/** 401s that a freshly signed attempt can pass: the worker signs each one anew, with a new nonce. */
const RETRYABLE_REFUSALS = new Set(['stale_timestamp', 'signed_before_start', 'replayed_nonce']);

/** Statuses that say "not now": timeouts and rate limits, whoever answered. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

interface BalancerRefusal {
  error: string;
  message: string;
}

function isRefusal(body: unknown): body is BalancerRefusal {
  return (
    typeof body === 'object' && body !== null && typeof (body as BalancerRefusal).error === 'string' && typeof (body as BalancerRefusal).message === 'string'
  );
}

function describe(status: number, body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `${status} ${text.length > 80 ? `${text.slice(0, 80)}...` : text}`;
}

const NOT_THE_BALANCER = 'is not the balancer answer; LOAD_BALANCER_REGISTER must be the balancer address (optionally ending in /register-worker)';

/** Called by RegistrationClient with each answer to POST /register-worker; `body` is the parsed JSON, or the text. */
export function judgeRegistration(status: number, body: unknown, advertised: string): RegistrationVerdict {
  if (status === 200 || status === 201) {
    const answer = body as { url?: unknown; status?: unknown } | null;
    const known = answer !== null && typeof answer === 'object' && answer.url === advertised && (answer.status === 'created' || answer.status === 'refreshed');
    return known ? { verdict: 'registered' } : { verdict: 'stop', reason: `the answer ${describe(status, body)} ${NOT_THE_BALANCER}` };
  }
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) return { verdict: 'retry', reason: `balancer answered ${describe(status, body)}` };
  if (!isRefusal(body)) return { verdict: 'stop', reason: `the answer ${describe(status, body)} ${NOT_THE_BALANCER}` };
  if (status === 401 && RETRYABLE_REFUSALS.has(body.error))
    return { verdict: 'retry', reason: `balancer refused this attempt (${body.error}): ${body.message}` };
  if (status === 401 && body.error === 'bad_signature') {
    return { verdict: 'stop', reason: "the balancer refused the signature: this worker's REGISTRATION_SECRET is not the balancer's" };
  }
  return { verdict: 'stop', reason: `the balancer refused this worker (${status} ${body.error}): ${body.message}` };
}

/** Called on stop with the answer to POST /deregister-worker: undefined when the balancer let the worker go, else the problem. */
export function judgeDeregistration(status: number, body: unknown, advertised: string): string | undefined {
  const answer = body as { url?: unknown; status?: unknown; error?: unknown } | null;
  if (status === 200 && answer !== null && typeof answer === 'object' && answer.url === advertised && answer.status === 'draining') return undefined;
  if (status === 404 && isRefusal(body) && body.error === 'unknown_worker') return undefined;
  if (isRefusal(body)) return `the balancer refused the deregistration (${status} ${body.error}): ${body.message}`;
  return `the answer ${describe(status, body)} ${NOT_THE_BALANCER}`;
}
