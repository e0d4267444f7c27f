import { METHODS } from 'node:http';
import { BAD_LINE_CHAR, CONTENT_LENGTH, endsInTab, FIELD_LINES, hasToken, lineEnd, nameLengths, TOKEN, trimOws } from '../http-syntax';

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

/**
 * The methods node's parser (llhttp) reads in an HTTP/1.1 request (node's own list), letters only, the
 * usual ones first: any other name is refused there, so it is handed over, never served here.
 */
const METHOD = `(?:${[...new Set(['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', ...METHODS])].filter((m) => /^[A-Z]+$/.test(m)).join('|')})`;
/** origin-form only: absolute-form, authority-form (CONNECT) and asterisk-form (OPTIONS *) go to node:http. */
const REQUEST_LINE_PATTERN = `${METHOD} \\/[\\x21-\\x7e]* HTTP\\/1\\.1`;
const REQUEST_LINE = new RegExp(`^${REQUEST_LINE_PATTERN}$`);
/** The names read here (see the switch below). */
const LOOKED_AT = nameLengths(['host', 'content-length', 'transfer-encoding', 'upgrade', 'expect', 'connection']);
const WELL_FORMED_HEAD = new RegExp(`^${REQUEST_LINE_PATTERN}${FIELD_LINES}$`);

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
  // One grammar: a head that fails the whole-head pattern is handed over, whatever a closer look at
  // its lines finds; that look only names the reason.
  if (!WELL_FORMED_HEAD.test(text)) return malformedHeadReason(text);
  const requestLineEnd = lineEnd(text, 0);
  const rawHeaders: string[] = [];
  let hosts = 0;
  let contentLength = -1;
  let keepAlive = true;
  let at = requestLineEnd;
  while (at < text.length) {
    const start = at + 2;
    at = lineEnd(text, start);
    const colon = text.indexOf(':', start);
    const name = text.slice(start, colon);
    const value = trimOws(text, colon + 1, at);
    rawHeaders.push(name, value);
    switch (LOOKED_AT[name.length] === true ? name.toLowerCase() : '') {
      case 'host':
        hosts++;
        break;
      case 'content-length':
        if (contentLength !== -1 || !CONTENT_LENGTH.test(value) || endsInTab(text, at)) return 'repeated or malformed Content-Length';
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
  // "METHOD /target HTTP/1.1": the method ends at the first space, the target before the last 9 characters.
  const space = text.indexOf(' ');
  return { method: text.slice(0, space), url: text.slice(space + 1, requestLineEnd - 9), rawHeaders, contentLength: Math.max(0, contentLength), keepAlive };
}

/** Why a head failed WELL_FORMED_HEAD: the first thing wrong with its lines, in order. */
function malformedHeadReason(text: string): string {
  let at = lineEnd(text, 0);
  const problem = requestLineProblem(text.slice(0, at));
  if (problem !== undefined) return problem;
  while (at < text.length) {
    const start = at + 2;
    at = lineEnd(text, start);
    const lineProblem = fieldLineProblem(text.slice(start, at));
    if (lineProblem !== undefined) return lineProblem;
  }
  // The line checks and the pattern describe one grammar (http-syntax.test.ts holds them to it);
  // should they ever differ, the pattern's verdict stands.
  return 'malformed head';
}

function requestLineProblem(line: string): string | undefined {
  if (BAD_LINE_CHAR.test(line)) return BAD_CHARACTER;
  if (!REQUEST_LINE.test(line)) return 'not an origin-form HTTP/1.1 request line';
  return undefined;
}

function fieldLineProblem(line: string): string | undefined {
  if (BAD_LINE_CHAR.test(line)) return BAD_CHARACTER;
  const colon = line.indexOf(':');
  if (colon <= 0) return 'header line without a name';
  if (!TOKEN.test(line.slice(0, colon))) return 'malformed header name';
  return undefined;
}
