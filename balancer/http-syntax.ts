/** HTTP/1.1 syntax shared by the two parsers of the data plane (client requests, worker responses). */

/** A field name (RFC 9110 section 5.1): a token. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A control character, or a CR or LF that is not part of a CRLF: one scan over a whole head. */
export const BAD_HEAD_CHAR = /[^\t\r\n\x20-\x7e\x80-\xff]|\r(?!\n)|(?<!\r)\n/;

/** A Content-Length value: digits only, within what a JS number holds exactly. */
export const CONTENT_LENGTH = /^\d{1,15}$/;

export const CRLF = Buffer.from('\r\n');
export const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Optional whitespace (spaces and tabs) removed from both ends of a field value. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
