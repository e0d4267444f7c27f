import { sameName } from './http-syntax';

/**
 * Hop-by-hop headers describe one connection, not the message, so a proxy must not forward them
 * (RFC 9110 section 7.6.1), nor any header the Connection header names. Proxy-Connection and Keep-Alive
 * are the pre-HTTP/1.1 spellings still sent in the wild.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Names a Connection header may not remove: the message's framing and its target. Honouring
 * `Connection: content-length` would send a body with no length, the rest of it read as a new request.
 */
const NEVER_CONNECTION_SCOPED: ReadonlySet<string> = new Set(['content-length', 'host']);

const NO_TOKENS: readonly string[] = [];

/** Tokens of a Connection header other than the ones already in HOP_BY_HOP: extra headers to drop. */
export function connectionTokens(value: string | string[] | undefined): readonly string[] {
  if (value === undefined) return NO_TOKENS;
  const joined = Array.isArray(value) ? value.join(',') : value;
  let tokens: string[] | undefined;
  // The usual value is one token ("keep-alive", "close"): no list to split, and no headers to drop.
  for (const token of joined.includes(',') ? joined.split(',') : [joined]) {
    const trimmed = token.trim();
    // The usual token names nothing to drop, and is recognised without a lower-cased copy.
    if (sameName(trimmed, 'keep-alive')) continue;
    const name = trimmed.toLowerCase();
    if (name && !HOP_BY_HOP.has(name) && !NEVER_CONNECTION_SCOPED.has(name)) (tokens ??= []).push(name);
  }
  return tokens ?? NO_TOKENS;
}

/**
 * Drops the headers whose lower-case names are in `names` from a flat [name, value, ...] list; the
 * first `keep` entries (the proxy's own headers, which a Connection header may not remove) stay.
 */
export function dropNamed(headers: string[], names: readonly string[], keep = 0): string[] {
  if (names.length === 0) return headers;
  const out = headers.slice(0, keep);
  for (let i = keep; i < headers.length; i += 2) {
    if (!names.includes(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  }
  return out;
}
