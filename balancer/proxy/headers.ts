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

/** Tokens of a Connection header other than the ones already in HOP_BY_HOP: extra headers to drop. */
export function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  const tokens: string[] = [];
  for (const token of joined.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !HOP_BY_HOP.has(name)) tokens.push(name);
  }
  return tokens;
}

/** Response side: removes hop-by-hop headers from the worker's headers, in place (undici hands us a fresh object). */
export function stripResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = headers.connection;
  if (named !== undefined) for (const token of connectionTokens(named)) delete headers[token];
  for (const name of HOP_BY_HOP) if (name in headers) delete headers[name];
  return headers;
}
