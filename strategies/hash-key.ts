import type { PickContext } from './strategy';

/** Reads a consistent-hashing key from a request; compiled once from HASH_KEY by compileHashKey(). */
export type HashKeyReader = (ctx: PickContext) => string;

export const hashKeyForms = 'ip, header:<name>, cookie:<name>';

/**
 * Turns a HASH_KEY setting into a reader, once, at startup: "ip" (the client address),
 * "header:<name>" (that request header; a repeated header is joined with ", "), or "cookie:<name>"
 * (that cookie from the Cookie header). A request without the header or cookie, or with it empty,
 * falls back to the client address, so it still lands on a stable worker.
 * Throws on any other form; the message lists the accepted ones.
 */
export function compileHashKey(spec: string): HashKeyReader {
  if (spec === 'ip') return (ctx) => ctx.clientIp;
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (colon > 0 && name !== '') {
    if (kind === 'header') return headerReader(name.toLowerCase());
    if (kind === 'cookie') return cookieReader(name);
  }
  throw new Error(`invalid hash key "${spec}"; accepted: ${hashKeyForms}`);
}

function headerReader(lowerName: string): HashKeyReader {
  return (ctx) => {
    // Node lowercases incoming header names, so the name was lowercased once above.
    const value = ctx.req.headers[lowerName];
    const key = Array.isArray(value) ? value.join(', ') : value;
    return key || ctx.clientIp;
  };
}

function cookieReader(name: string): HashKeyReader {
  const prefix = `${name}=`;
  return (ctx) => cookieValue(ctx.req.headers.cookie, prefix) || ctx.clientIp;
}

/**
 * The value of the first cookie in `header` whose "name=" is `prefix`, without surrounding quotes
 * (RFC 6265 section 4.2.1: cookie-pairs separated by "; "). Scans in place rather than splitting
 * the header into an array on every request.
 */
export function cookieValue(header: string | undefined, prefix: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(prefix, from);
    if (at === -1) return undefined;
    if (isPairStart(header, at)) {
      const end = header.indexOf(';', at);
      let value = header.slice(at + prefix.length, end === -1 ? header.length : end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    from = at + 1;
  }
  return undefined;
}

/** Whether `at` begins a cookie-pair: the header's start, or after ";" and optional spaces. Stops "xid=" matching "id=". */
function isPairStart(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (header[i] === ' ' || header[i] === '\t')) i--;
  return i < 0 || header[i] === ';';
}
