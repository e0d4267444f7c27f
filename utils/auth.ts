import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Registration signing, shared by the worker (which signs) and the balancer (which verifies).
 * The signature covers the raw request body, which carries a timestamp and a nonce, so a captured
 * registration can be neither altered nor replayed. Protocol: README, "Registration protocol".
 */

export const SIGNATURE_HEADER = 'x-signature';
const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_SHAPE = /^sha256=[0-9a-fA-F]{64}$/;

export function sign(body: string | Buffer, secret: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/** Constant-time comparison: a byte-by-byte === leaks how much of a forged signature was right. */
export function verifySignature(body: string | Buffer, header: string | undefined, secret: string): boolean {
  // Buffer.from(…, 'hex') silently stops at the first non-hex character, so the shape is checked first.
  if (!header || !SIGNATURE_SHAPE.test(header)) return false;
  const given = Buffer.from(header.slice(SIGNATURE_PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function generateNonce(): string {
  return randomBytes(16).toString('hex');
}

export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

export type FreshnessVerdict = 'fresh' | 'stale' | 'replayed' | 'before_start';

/**
 * Remembers nonces for as long as their timestamps are acceptable; a nonce seen twice in that window
 * is a replay. Memory is bounded by the registration rate times the window, and expired nonces are
 * swept on each check, so no timer is needed.
 *
 * Nonces live in memory, so a restart forgets them: a request captured shortly before a restart could
 * be replayed once after it. `notBefore` (the balancer passes its start time) closes that: a timestamp
 * earlier than it is refused, since no nonce from before it is remembered. A live worker signs every
 * attempt afresh, so it is unaffected; one whose clock runs behind the balancer's by d is refused for
 * the first d after a restart and gets in on a retry once its clock has passed the start.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 30_000,
    private readonly now: () => number = Date.now,
    private readonly notBefore = 0,
  ) {}

  check(timestamp: number, nonce: string): FreshnessVerdict {
    const now = this.now();
    if (Math.abs(now - timestamp) > this.windowMs) return 'stale';
    if (timestamp < this.notBefore) return 'before_start';
    this.sweep(now);
    if (this.seen.has(nonce)) return 'replayed';
    // Keep it until its timestamp leaves the window on either side.
    this.seen.set(nonce, timestamp + this.windowMs);
    return 'fresh';
  }

  /** How long a nonce signed at `timestamp` stays claimed: until the timestamp leaves the window (at least 1 ms). */
  keepsFor(timestamp: number): number {
    return Math.max(1, timestamp + this.windowMs - this.now());
  }

  private sweep(now: number): void {
    // Map iterates in insertion order, which is nearly expiry order; stop at the first live entry
    // after a bounded number of skips so one far-future timestamp cannot pin the sweep.
    let skipped = 0;
    for (const [nonce, expiresAt] of this.seen) {
      if (expiresAt < now) this.seen.delete(nonce);
      else if (++skipped > 32) break;
    }
  }
}

/** The body a worker sends to /register-worker and /deregister-worker, and its signature header. */
export function signedPayload(fields: Record<string, unknown>, secret: string, now = Date.now()): { body: string; signature: string } {
  const body = JSON.stringify({ ...fields, timestamp: now, nonce: generateNonce() });
  return { body, signature: sign(body, secret) };
}
