import type { IncomingHttpHeaders } from 'node:http';

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

const HOP_BY_HOP_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP].map((name) => name.length));

/**
 * Names a Connection header may not remove: the message's framing and its target. Honouring
 * `Connection: content-length` would send a body with no length, the rest of it read as a new request.
 */
const NEVER_CONNECTION_SCOPED: ReadonlySet<string> = new Set(['content-length', 'host']);

/** Tokens of a Connection header other than the ones already in HOP_BY_HOP: extra headers to drop. */
export function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  const tokens: string[] = [];
  // The usual value is one token ("keep-alive", "close"): no list to split.
  for (const token of joined.includes(',') ? joined.split(',') : [joined]) {
    const name = token.trim().toLowerCase();
    if (name && !HOP_BY_HOP.has(name) && !NEVER_CONNECTION_SCOPED.has(name)) tokens.push(name);
  }
  return tokens;
}

/** Drops the headers whose lower-case names are in `names` from a flat [name, value, ...] list. */
export function dropNamed(headers: string[], names: string[]): string[] {
  if (names.length === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  }
  return out;
}

/**
 * Response side: the worker's headers, as the response parser lists them, as the flat string list
 * ServerResponse.writeHead takes, without hop-by-hop headers or those the Connection header names.
 * Working on the raw list skips building a header object only to take it apart again.
 */
export function relayableResponseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Only names as long as a hop-by-hop one can be one: most headers skip the lower-casing.
    if (HOP_BY_HOP_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) {
        if (lower === 'connection') connection = connection === undefined ? raw[i + 1] : `${connection},${raw[i + 1]}`;
        continue;
      }
    }
    out.push(name, raw[i + 1]);
  }
  return connection === undefined ? out : dropNamed(out, connectionTokens(connection));
}
