import { classify, EXCHANGE_ERRORS, type ExchangeErrorReason } from '../exchange-errors';

/**
 * When a failed exchange may be tried again on another worker. Only failures before any response byte
 * (the worker never answered) and only requests that are safe to repeat: idempotent methods (RFC 9110
 * section 9.2.2) or a client-supplied Idempotency-Key. Retries always go to a worker not yet tried, so
 * no backoff delay is needed; the budget below is what stops a retry storm.
 */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isReplayableRequest(method: string, hasIdempotencyKey: boolean): boolean {
  return IDEMPOTENT_METHODS.has(method) || hasIdempotencyKey;
}

/** Whether a failure of this reason may be tried on another worker (the table in balancer/exchange-errors.ts). */
export function isRetryableReason(reason: ExchangeErrorReason): boolean {
  return EXCHANGE_ERRORS[reason].retryable;
}

/** The same for a raw error, classified first. */
export function isRetryableError(err: unknown): boolean {
  return isRetryableReason(classify(err));
}

/**
 * A retry budget as Finagle's: every request deposits `ratio` of a retry, every retry withdraws one,
 * plus a small per-second allowance so a quiet balancer can still retry. When a whole fleet is failing
 * this caps retries at about `ratio` of the traffic instead of multiplying it.
 */
export class RetryBudget {
  /** In thousandths of a retry, so repeated deposits of 0.2 add up exactly. */
  private balance = 0;
  private readonly deposit1000: number;
  private windowStart = 0;
  private usedInWindow = 0;

  constructor(
    ratio: number,
    private readonly minPerSecond = 10,
    private readonly now: () => number = Date.now,
    private readonly maxBalance = 1000,
  ) {
    this.deposit1000 = Math.round(ratio * 1000);
  }

  /** Called once per client request. */
  deposit(): void {
    if (this.balance < this.maxBalance * 1000) this.balance += this.deposit1000;
  }

  /** Called before each retry; false means the retry must not happen. */
  tryWithdraw(): boolean {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.usedInWindow = 0;
    }
    if (this.usedInWindow < this.minPerSecond) {
      this.usedInWindow++;
      return true;
    }
    if (this.balance >= 1000) {
      this.balance -= 1000;
      return true;
    }
    return false;
  }
}
