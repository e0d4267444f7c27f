import { sign } from '../../utils/auth';

let counter = 0;

/** A distinct, well-formed 32-hex nonce per call, deterministic so failures are reproducible. */
export function nextNonce(): string {
  counter += 1;
  return counter.toString(16).padStart(32, '0');
}

/**
 * A control-plane body signed with `secret`: the given fields plus timestamp and nonce, unless the
 * fields set those themselves. Returns the exact bytes that were signed, so tests can replay them.
 */
export function signedBody(fields: Record<string, unknown>, secret: string, timestamp: number): { body: string; signature: string } {
  const body = JSON.stringify({ timestamp, nonce: nextNonce(), ...fields });
  return { body, signature: sign(body, secret) };
}
