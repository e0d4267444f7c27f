/**
 * Why the gateway answered a request itself instead of relaying a worker's answer: the ProxyError codes
 * (balancer/errors.ts) and the three answers node:http's parser gives through client-error.ts. A closed
 * set, so the label of lb_gateway_answers_total stays bounded; sendProxyError counts `error.code` as one,
 * so a ProxyError code missing here does not compile.
 */
export const GATEWAY_ANSWER_REASONS = [
  'no_worker',
  'loop_detected',
  'request_timeout',
  'too_many_headers',
  'ambiguous_framing',
  'unsupported_transfer_coding',
  'invalid_host',
  'invalid_target',
  'control_forbidden',
  'worker_unreachable',
  'worker_timeout',
  // client-error.ts: node:http's parser refused the bytes, the head was too large, or it timed out.
  'malformed_request',
  'head_too_large',
  'head_timeout',
] as const;

export type GatewayAnswerReason = (typeof GATEWAY_ANSWER_REASONS)[number];

/** The status each reason is answered with, for the `status` label (one per reason, so it adds no series). */
export const GATEWAY_ANSWER_STATUS: Readonly<Record<GatewayAnswerReason, number>> = {
  no_worker: 503,
  loop_detected: 508,
  request_timeout: 408,
  too_many_headers: 431,
  ambiguous_framing: 400,
  unsupported_transfer_coding: 501,
  invalid_host: 400,
  invalid_target: 400,
  control_forbidden: 403,
  worker_unreachable: 502,
  worker_timeout: 504,
  malformed_request: 400,
  head_too_large: 431,
  head_timeout: 408,
};

/** Refusals both control routes share: the signed envelope and its body, checked the same way by each. */
const SIGNED_REQUEST_REFUSALS = [
  'bad_signature',
  'malformed_json',
  'invalid_field',
  'stale_timestamp',
  'signed_before_start',
  'replayed_nonce',
  'invalid_url',
  'body_too_large',
] as const;

/** What became of a POST /register-worker: accepted (created, refreshed), or refused and why. */
export const REGISTRATION_OUTCOMES = [
  'created',
  'refreshed',
  ...SIGNED_REQUEST_REFUSALS,
  'forbidden_address',
  'unresolvable_host',
  'worker_not_allowed',
  'resolver_unavailable',
] as const;

export type RegistrationOutcome = (typeof REGISTRATION_OUTCOMES)[number];
/** A registration refused: every outcome but the two accepted ones. */
export type RegistrationRefusal = Exclude<RegistrationOutcome, 'created' | 'refreshed'>;

/** What became of a POST /deregister-worker: removed, unknown, or refused (the same refusals, minus the address checks it skips). */
export const DEREGISTRATION_OUTCOMES = ['removed', 'unknown_worker', ...SIGNED_REQUEST_REFUSALS] as const;

export type DeregistrationOutcome = (typeof DEREGISTRATION_OUTCOMES)[number];

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/**
 * The balancer's fleet-wide counters, one object made by createBalancer and handed to the parts that
 * count (the proxy, the listener, the control plane, the registry, the upgrade path). Everything here
 * is counted off the per-request success path: an answer the gateway gives itself, a registration, an
 * expiry, a tunnel opening or closing. /metrics reads it at scrape time.
 */
export class GatewayStats {
  /** Requests the gateway answered itself, by reason. */
  readonly answers: Record<GatewayAnswerReason, number> = zeroes(GATEWAY_ANSWER_REASONS);
  readonly registrations: Record<RegistrationOutcome, number> = zeroes(REGISTRATION_OUTCOMES);
  readonly deregistrations: Record<DeregistrationOutcome, number> = zeroes(DEREGISTRATION_OUTCOMES);
  /** Workers dropped because their heartbeat stopped for REGISTRATION_TTL_MS. */
  expirations = 0;
  /** Client connections closed unanswered at MAX_CLIENT_CONNECTIONS. */
  connectionsRefused = 0;
  /** Upgraded connections (WebSockets) open now, and opened since start. */
  websocketsOpen = 0;
  websocketsOpened = 0;

  /** Called where the gateway's own answer is written (sendProxyError, the upgrade path, client-error.ts). */
  countAnswer(reason: GatewayAnswerReason): void {
    this.answers[reason]++;
  }
}
