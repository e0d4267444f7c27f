import type { Writable } from 'node:stream';

/** HTTP/1.1 syntax shared by both sides of the data plane (client requests, worker responses). */

/** A character of a token (RFC 9110 section 5.6.2), as a regex class. */
export const TOKEN_CHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";

/** A field name (RFC 9110 section 5.1): a token. */
export const TOKEN = new RegExp(`^${TOKEN_CHAR}+$`);

/** A character a field value or a reason phrase may hold: tab, visible ASCII, obs-text (RFC 9110 section 5.5). */
export const FIELD_CHAR = '[\\t\\x20-\\x7e\\x80-\\xff]';

/**
 * A head's field lines, each after its CRLF: a token name, a colon, allowed characters. Each parser
 * tests a whole head against its start line and these before walking it: one test is cheaper than
 * testing every line and name on its own, and only a head that fails is taken line by line, to say
 * what is wrong with it.
 */
export const FIELD_LINES = `(?:\\r\\n${TOKEN_CHAR}+:${FIELD_CHAR}*)*`;

/**
 * A character no start line or field line may hold: a control character (tab aside), DEL, or a CR or
 * LF, which inside a line (the head is cut at CRLFs) is a bare one. For naming what is wrong with a
 * line of a head that failed its whole-head test.
 */
export const BAD_LINE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Where the line starting at `at` ends: at the next CRLF, or at the end of a head cut before its blank line. */
export function lineEnd(head: string, at: number): number {
  const end = head.indexOf('\r\n', at);
  return end < 0 ? head.length : end;
}

/**
 * By length, whether a header name could be one of `names`: a parser lower-cases only names that
 * could matter to it, and most headers skip the lower-casing. For names cut from a head this is
 * cheaper than comparing characters (`sameName`): a long cut is a view into the head, slow to read
 * one character at a time (docs/performance.md, "Names cut from a head").
 */
export function nameLengths(names: Iterable<string>): readonly (true | undefined)[] {
  const lengths: (true | undefined)[] = [];
  for (const name of names) lengths[name.length] = true;
  return lengths;
}

/** Whether the header name `name` is `lower` in any letter case. Header names are ASCII tokens. */
export function sameName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    // Only a lower-case letter of `lower` may match the same letter in upper case (0x20 below it).
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

/** Longest head accepted on either side: Node's own --max-http-header-size default. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A Content-Length value: digits only, within what a JS number holds exactly. */
export const CONTENT_LENGTH = /^\d{1,15}$/;

export const CRLF = Buffer.from('\r\n');
export const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Whether the whitespace that ends `s` before `end` holds a tab. After a Content-Length's digits node's
 * parser (llhttp) allows spaces only; both head parsers refuse what it refuses there.
 */
export function endsInTab(s: string, end: number): boolean {
  while (end > 0) {
    const c = s.charCodeAt(--end);
    if (c === 9) return true;
    if (c !== 32) return false;
  }
  return false;
}

/** Whether a comma-separated list (Connection, say) holds `token`, compared case-insensitively. */
export function hasToken(list: string, token: string): boolean {
  if (!list.includes(',')) {
    // The usual header is one token alone ("keep-alive", "close"): nothing to split.
    const item = trimOws(list);
    return item.length === token.length && item.toLowerCase() === token;
  }
  for (const item of list.split(',')) if (trimOws(item).toLowerCase() === token) return true;
  return false;
}

/** The zero-size chunk that ends a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n';

/**
 * Writes one chunk of a chunked body (size line, data, CRLF) in one corked write; returns the
 * socket's backpressure verdict. A string is latin1, one character per byte. An empty chunk is
 * skipped: written, it would end the body.
 */
export function writeChunk(socket: Writable, chunk: Buffer | string): boolean {
  if (chunk.length === 0) return true;
  socket.cork();
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
  socket.write(chunk, 'latin1');
  const ok = socket.write('\r\n', 'latin1');
  socket.uncork();
  return ok;
}

/**
 * `s` from `start` to `end` without the optional whitespace (spaces and tabs) at either end: a field
 * value cut straight from its head, with no intermediate slice.
 */
export function trimOws(s: string, start = 0, end = s.length): string {
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
