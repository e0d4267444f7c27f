import { HOP_BY_HOP } from './hop-by-hop';
import { sameName } from './http-syntax';

/**
 * The request header names the proxy acts on when it builds a worker's request (hop-by-hop ones,
 * the forwarding headers, and those it reads for later steps). The rest, most of what a client
 * sends, are copied as they are.
 */
const KNOWN_NAMES = [
  ...HOP_BY_HOP,
  'content-length',
  'host',
  'via',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'idempotency-key',
  'x-request-id',
];

const LONGEST = Math.max(...KNOWN_NAMES.map((name) => name.length));

/** The known names of each length, so a name is only compared with those that have its length. */
const BY_LENGTH: readonly (readonly string[])[] = Array.from({ length: LONGEST + 1 }, (_, length) => KNOWN_NAMES.filter((name) => name.length === length));

/**
 * The lower-case constant of a header name the proxy acts on (`'content-length'` for
 * "Content-Length"), or `''` for any other name. It runs for every header of every request.
 * Lower-casing each name made a new string, and each of the two or three Set lookups that
 * followed hashed it again; here other names cost a length check and usually one character, and
 * a known one comes back as a constant that is already hashed (measurements: docs/performance.md).
 */
export function knownName(name: string): string {
  if (name.length > LONGEST) return '';
  const candidates = BY_LENGTH[name.length];
  for (let i = 0; i < candidates.length; i++) if (sameName(name, candidates[i])) return candidates[i];
  return '';
}
