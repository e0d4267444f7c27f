import type { Writable } from 'node:stream';

/** HTTP/1.1 syntax shared by both sides of the data plane (client requests, worker responses). */

/** A field name (RFC 9110 section 5.1): a token. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A control character, or a CR or LF that is not part of a CRLF: one scan over a whole head. */
export const BAD_HEAD_CHAR = /[^\t\r\n\x20-\x7e\x80-\xff]|\r(?!\n)|(?<!\r)\n/;

/** Longest head accepted on either side: Node's own --max-http-header-size default. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A Content-Length value: digits only, within what a JS number holds exactly. */
export const CONTENT_LENGTH = /^\d{1,15}$/;

export const CRLF = Buffer.from('\r\n');
export const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Whether a comma-separated list (Connection, say) holds `token`, compared case-insensitively. */
export function hasToken(list: string, token: string): boolean {
  for (const item of list.split(',')) if (trimOws(item).toLowerCase() === token) return true;
  return false;
}

/** The zero-size chunk that ends a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n';

/**
 * Writes one chunk of a chunked body (size line, data, CRLF) in one corked write; returns the
 * socket's backpressure verdict. An empty chunk is skipped: written, it would end the body.
 */
export function writeChunk(socket: Writable, chunk: Buffer): boolean {
  if (chunk.length === 0) return true;
  socket.cork();
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
  socket.write(chunk);
  const ok = socket.write('\r\n', 'latin1');
  socket.uncork();
  return ok;
}

/** Optional whitespace (spaces and tabs) removed from both ends of a field value. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
