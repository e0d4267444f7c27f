import { BAD_LINE_CHAR, CONTENT_LENGTH, hasToken, lineEnd, TOKEN, trimOws } from '../http-syntax';

/** A request the listener serves itself: the plain HTTP/1.1 case, with no body or a Content-Length one. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  /** Flat [name, value, ...] list in the client's order and case, values trimmed, as node's rawHeaders. */
  readonly rawHeaders: string[];
  /** 0 when the request has no body. */
  readonly contentLength: number;
  /** False when the client sent Connection: close. */
  readonly keepAlive: boolean;
}

const BAD_CHARACTER = 'control character or bare CR/LF';

/** origin-form only: absolute-form, authority-form (CONNECT) and asterisk-form (OPTIONS *) go to node:http. */
const REQUEST_LINE = /^([A-Z]{1,20}) (\/[\x21-\x7e]*) HTTP\/1\.1$/;

/**
 * Reads a request head (the text before the blank line) when it is within the strict subset the
 * listener serves itself; anything else returns the reason it is not, and the whole connection is
 * handed to node:http, whose hardened parser accepts, answers or refuses it. So this parser never has
 * to be lenient and never answers an error of its own. Outside the subset: another HTTP version,
 * Transfer-Encoding (chunked uploads), Upgrade and Expect (node handles both), a missing or repeated
 * Host, more than one Content-Length, obs-fold, control characters, a malformed name.
 * Without Transfer-Encoding and with at most one Content-Length, the body's framing is unambiguous,
 * which is what keeps request smuggling out: the worker is sent the same framing, re-serialised.
 */
export function parseRequestHead(text: string): RequestHead | string {
  let at = lineEnd(text, 0);
  const firstLine = text.slice(0, at);
  if (BAD_LINE_CHAR.test(firstLine)) return BAD_CHARACTER;
  const requestLine = REQUEST_LINE.exec(firstLine);
  if (requestLine === null) return 'not an origin-form HTTP/1.1 request line';
  const rawHeaders: string[] = [];
  let hosts = 0;
  let contentLength = -1;
  let keepAlive = true;
  while (at < text.length) {
    const start = at + 2;
    at = lineEnd(text, start);
    const line = text.slice(start, at);
    if (BAD_LINE_CHAR.test(line)) return BAD_CHARACTER;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'header line without a name';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'malformed header name';
    const value = trimOws(line.slice(colon + 1));
    rawHeaders.push(name, value);
    // Only names as long as one of these can be one of them: most headers skip the lower-casing.
    switch (name.length === 4 || name.length === 6 || name.length === 7 || name.length === 10 || name.length === 14 || name.length === 17 ? name.toLowerCase() : '') {
      case 'host':
        hosts++;
        break;
      case 'content-length':
        if (contentLength !== -1 || !CONTENT_LENGTH.test(value)) return 'repeated or malformed Content-Length';
        contentLength = Number(value);
        break;
      case 'transfer-encoding':
        return 'Transfer-Encoding';
      case 'upgrade':
        return 'Upgrade';
      case 'expect':
        return 'Expect';
      case 'connection':
        if (hasToken(value, 'upgrade')) return 'Connection: upgrade';
        if (hasToken(value, 'close')) keepAlive = false;
        break;
    }
  }
  if (hosts !== 1) return 'missing or repeated Host';
  return { method: requestLine[1], url: requestLine[2], rawHeaders, contentLength: Math.max(0, contentLength), keepAlive };
}
