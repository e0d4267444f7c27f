import { METHODS } from 'node:http';

/**
 * Node's own HTTP/1.1 parser (llhttp, through the HTTPParser class node:http drives in
 * lib/_http_common.js, _http_server.js and _http_client.js), wrapped to read bytes into messages the
 * way node:http reads them: strict (no lenient flags, as node without --insecure-http-parser), the
 * default 16 KiB header limit, a HEAD answer and a 1xx answer without a body (node's client returns
 * 1, "skip body", from onHeadersComplete for both). The differential tests hold the hand-written
 * parsers to it.
 *
 * HTTPParser is taken from node's `_http_common` module, which exports the class node:http itself
 * uses (`process.binding('http_parser')` gives the same class but prints a deprecation warning,
 * DEP0111). Node names a request's method from the binding's allMethods by llhttp's method number;
 * `_http_common` exports only the HTTP ones, so the numbers are learned once here by parsing a request
 * line for each method name llhttp knows (its HTTP, RTSP and ICE methods).
 */

interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserError;
  finish(): ParserError | undefined;
  close(): void;
  [callback: number]: unknown;
}

interface ParserError extends Error {
  code: string;
  reason: string;
  bytesParsed: number;
}

interface HttpParserClass {
  new (): NodeHttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
  kLenientChunkedLength: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module without types
const { HTTPParser } = require('_http_common') as { HTTPParser: HttpParserClass };

const RTSP_METHODS = ['DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH', 'OPTIONS'];

/** llhttp's method numbers, named: by parsing one request line per method. */
const METHOD_NAMES: string[] = (() => {
  const names: string[] = [];
  const probe = (name: string, line: string) => {
    const parser = new HTTPParser();
    parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, _headers: unknown, method: number) => {
      names[method] = name;
      return 0;
    };
    parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    parser.execute(Buffer.from(line, 'latin1'));
    parser.close();
  };
  for (const name of [...METHODS, 'QUERY', 'PRI']) probe(name, `${name} / HTTP/1.1\r\n\r\n`);
  for (const name of RTSP_METHODS) probe(name, `${name} / RTSP/1.0\r\n\r\n`);
  probe('SOURCE', 'SOURCE / ICE/1.0\r\n\r\n');
  return names;
})();

/** One message as llhttp read it. */
export interface LlhttpMessage {
  /** Requests only. */
  method?: string;
  url?: string;
  /** Responses only. */
  status?: number;
  versionMajor: number;
  versionMinor: number;
  /** Flat [name, value, ...] list as node's rawHeaders. */
  rawHeaders: string[];
  upgrade: boolean;
  shouldKeepAlive: boolean;
  /** The body as delivered (de-chunked), latin1: one character per byte. */
  body: string;
  /** Whether onMessageComplete was reached for it. */
  complete: boolean;
}

export interface LlhttpResult {
  messages: LlhttpMessage[];
  /** The llhttp error code (HPE_*) when it refused the input, with the reason it gave. */
  error?: { code: string; reason: string };
  /** Bytes after an upgrade request's head, which node hands to the upgrade handler unparsed. */
  upgraded: boolean;
}

export interface LlhttpOptions {
  /** The input ends with the peer closing its side: ends a close-delimited body (parser.finish()). */
  eof?: boolean;
  /** Responses: the request each answer is for was a HEAD, by answer index. */
  isHead?: (index: number) => boolean;
  /** llhttp's lenient flags (HTTPParser.kLenient*); none, as node:http, unless a test names one. */
  lenient?: number;
}

/** Lets a response carry Transfer-Encoding beside Content-Length (then framed by the former). */
export const LENIENT_CHUNKED_LENGTH = HTTPParser.kLenientChunkedLength;

/** Parses `pieces`, fed one execute() each, as node:http's server (request) or client (response) would. */
export function llhttpParse(kind: 'request' | 'response', pieces: readonly Buffer[], options: LlhttpOptions = {}): LlhttpResult {
  const parser = new HTTPParser();
  const messages: LlhttpMessage[] = [];
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let current: LlhttpMessage | undefined;
  let upgraded = false;
  parser[HTTPParser.kOnMessageBegin] = () => {};
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
    // More header lines than node collects at once (32 pairs): they arrive ahead of onHeadersComplete.
    pendingHeaders.push(...headers);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    versionMajor: number,
    versionMinor: number,
    headers: string[] | undefined,
    method: number | undefined,
    url: string | undefined,
    statusCode: number | undefined,
    _statusMessage: string | undefined,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ) => {
    const rawHeaders = headers ?? pendingHeaders;
    pendingHeaders = [];
    const fullUrl = url ?? pendingUrl;
    pendingUrl = '';
    current = {
      versionMajor,
      versionMinor,
      rawHeaders: [...rawHeaders],
      upgrade,
      shouldKeepAlive,
      body: '',
      complete: false,
      ...(kind === 'request' ? { method: METHOD_NAMES[method!] ?? `#${method}`, url: fullUrl } : { status: statusCode }),
    };
    messages.push(current);
    if (kind === 'request') {
      if (upgrade) upgraded = true;
      return 0;
    }
    // Node's client: no body after a 1xx or for a HEAD request (lib/_http_client.js, parserOnIncomingClient).
    const status = statusCode!;
    const informational = status >= 100 && status < 200;
    if (informational) return 1;
    return options.isHead?.(messages.filter((m) => !(m.status! >= 100 && m.status! < 200)).length - 1) === true ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    current!.body += chunk.toString('latin1');
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    current!.complete = true;
  };
  parser[HTTPParser.kOnExecute] = () => {};
  parser.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 0, options.lenient ?? HTTPParser.kLenientNone);
  try {
    for (const piece of pieces) {
      const ret = parser.execute(piece);
      if (typeof ret !== 'number') return { messages, error: { code: ret.code, reason: ret.reason }, upgraded };
      if (upgraded) return { messages, upgraded };
    }
    if (options.eof === true) {
      const ret = parser.finish();
      if (ret !== undefined) return { messages, error: { code: ret.code, reason: ret.reason }, upgraded };
    }
    return { messages, upgraded };
  } finally {
    parser.close();
  }
}
