import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a changing admin route may do with a request's Authorization header. */
export type TokenVerdict = 'allowed' | 'no_token_configured' | 'refused';

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 section 2.1) against ADMIN_TOKEN. Both sides are
 * reduced to an HMAC under a key drawn at start, so timingSafeEqual compares two 32-byte digests: the
 * time taken tells neither where the first wrong byte is nor how long the token is. The scheme name is
 * case-insensitive (RFC 9110 section 11.1); anything but one `Bearer` credential is refused.
 * Built once by createAdminServer; called once per changing admin request.
 */
export function createTokenCheck(token: string | undefined): (authorization: string | undefined) => TokenVerdict {
  if (token === undefined) return () => 'no_token_configured';
  const key = randomBytes(32);
  const digest = (value: string) => createHmac('sha256', key).update(value).digest();
  const expected = digest(token);
  return (authorization) => {
    const match = authorization === undefined ? null : /^Bearer +(\S+) *$/i.exec(authorization);
    if (match === null) return 'refused';
    return timingSafeEqual(digest(match[1]), expected) ? 'allowed' : 'refused';
  };
}
