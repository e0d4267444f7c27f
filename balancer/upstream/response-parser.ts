import { connectionTokens, dropNamed, HOP_BY_HOP } from '../hop-by-hop';
import {
  BAD_LINE_CHAR,
  CONTENT_LENGTH,
  CRLF,
  CRLFCRLF,
  endsInTab,
  FIELD_CHAR,
  FIELD_LINES,
  hasToken,
  lineEnd,
  MAX_HEAD_BYTES,
  nameLengths,
  TOKEN,
  TOKEN_CHAR,
  trimOws,
} from '../http-syntax';

/**
 * A strict HTTP/1.1 response parser for the worker side of the proxy (RFC 9112). It reads exactly what
 * a proxy needs: the status, the header list, and where the body ends (Content-Length, chunked, or the
 * connection closing), and hands body bytes over as they arrive without copying them.
 *
 * Anything ambiguous is an error rather than a guess, because a proxy that frames a response
 * differently from the worker desynchronises the connection it reuses: differing Content-Lengths, a
 * malformed header name, obs-fold, bare CR/LF inside a value, a bad chunk size. Transfer-Encoding wins
 * over Content-Length, and then the connection is not reused (section 6.3).
 */

export interface ResponseEvents {
  /**
   * Each response head, informational (1xx) ones included. The headers are the end-to-end ones, as a
   * flat [name, value, ...] list in the worker's order and case: what a proxy relays. Hop-by-hop headers
   * and those the Connection header names are read here (framing, keep-alive) and left out.
   */
  onHead(status: number, headers: string[]): void;
  /** A slice of the body, de-chunked. The buffer is the socket's; use it before returning or copy it. */
  onBody(chunk: Buffer): void;
  /**
   * The response is complete; `keepAlive` says whether the connection may carry another request.
   * `lastChunk` is the body's final slice when it arrived with the end of a Content-Length body, handed
   * over here rather than through onBody so the relay can finish the client's response in one call.
   * It is latin1 text, one character per byte: a copy out of the socket's buffer that a small answer's
   * one write to the client takes as it is.
   */
  onEnd(keepAlive: boolean, lastChunk?: string): void;
}

export class ResponseParseError extends Error {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
  constructor(detail: string) {
    super(`the worker sent an invalid HTTP response: ${detail}`);
  }
}

const enum State {
  Idle,
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

// The limit for a response head, and for the trailer section.
export { MAX_HEAD_BYTES };
const MAX_CHUNK_LINE = 1024;
/** "HTTP/1.x NNN" and an optional reason phrase. */
const STATUS_LINE_PATTERN = `HTTP\\/1\\.[01] [1-9]\\d\\d(?: ${FIELD_CHAR}*)?`;
const STATUS_LINE = new RegExp(`^${STATUS_LINE_PATTERN}$`);
const WELL_FORMED_HEAD = new RegExp(`^${STATUS_LINE_PATTERN}${FIELD_LINES}$`);
/** The names read here: hop-by-hop ones and Content-Length. */
const LOOKED_AT = nameLengths([...HOP_BY_HOP, 'content-length']);
const KEEP_ALIVE_TIMEOUT = /(?:^|[,\s])timeout=(\d+)/i;
/** A read up to this size is copied out as text whole to find its head: a worker's usual answer, head and body. */
const ONE_COPY_BYTES = 4 * 1024;
/**
 * A chunk size and its extensions (RFC 9112 section 7.1.1), written without whitespace: node's parser
 * (llhttp) refuses a space or tab anywhere in the line, an extension without a name, an unbalanced quote.
 */
const CHUNK_SIZE = new RegExp(`^([0-9a-fA-F]{1,12})(?:;${TOKEN_CHAR}+(?:=(?:${TOKEN_CHAR}+|"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"))?)*$`);
/** A trailer line: a field line, as in the head. */
const TRAILER_LINE = new RegExp(`^${TOKEN_CHAR}+:${FIELD_CHAR}*$`);
/** In a Transfer-Encoding value, characters llhttp does not take for optional whitespace where we would (tab, and NBSP for String.trim). */
const AMBIGUOUS_CODING = /[\t\x80-\xff]/;

export class ResponseParser {
  private state = State.Idle;
  /** Bytes of an unfinished line or head, kept until the rest arrives. */
  private partial: Buffer | null = null;
  private remaining = 0;
  private keepAlive = true;
  private noBody = false;
  /** Keep-Alive: timeout=N from the last response, in ms; 0 when the worker gave none. */
  keepAliveHintMs = 0;

  constructor(private readonly events: ResponseEvents) {}

  /** Expects a new response; `isHead` because the answer to a HEAD request has no body whatever it declares. */
  start(isHead: boolean): void {
    this.state = State.Head;
    this.partial = null;
    this.noBody = isHead;
    this.keepAlive = true;
  }

  /** Whether a response is expected or being read. */
  get busy(): boolean {
    return this.state !== State.Idle;
  }

  /** Whether the final response head is still awaited (so a timeout now means the worker never answered). */
  get inHead(): boolean {
    return this.state === State.Head;
  }

  /** Feeds bytes read from the socket. Throws ResponseParseError on a malformed response. */
  execute(input: Buffer): void {
    let data = input;
    if (this.partial !== null) {
      data = Buffer.concat([this.partial, input]);
      this.partial = null;
    }
    let pos = 0;
    while (pos < data.length) {
      switch (this.state) {
        case State.Idle:
          // Bytes nobody asked for: the connection's framing can no longer be trusted.
          throw new ResponseParseError('data after the end of the response');
        case State.Head:
          pos = this.readHead(data, pos);
          break;
        case State.Body:
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - pos);
          this.remaining -= n;
          const start = pos;
          pos += n;
          if (this.state === State.Body) {
            if (this.remaining === 0) {
              this.complete(pos < data.length, data.toString('latin1', start, pos));
              return;
            }
          } else if (this.remaining === 0) this.state = State.ChunkDataEnd;
          this.events.onBody(data.subarray(start, pos));
          break;
        }
        case State.ChunkSize:
          pos = this.readChunkSize(data, pos);
          break;
        case State.ChunkDataEnd:
          if (data.length - pos < 2) return this.keep(data, pos, 2);
          if (data[pos] !== 13 || data[pos + 1] !== 10) throw new ResponseParseError('chunk not followed by CRLF');
          pos += 2;
          this.state = State.ChunkSize;
          break;
        case State.Trailers: {
          // Trailer fields are dropped: Node's ServerResponse would need them declared up front.
          const end = this.endOf(data, pos, CRLF, MAX_HEAD_BYTES, 'trailer line too long');
          if (end < 0) return;
          const emptyLine = end === pos;
          if (!emptyLine && !TRAILER_LINE.test(data.toString('latin1', pos, end))) throw new ResponseParseError('bad trailer line');
          pos = end + 2;
          if (emptyLine) {
            this.complete(pos < data.length);
            return;
          }
          break;
        }
        case State.UntilClose:
          this.events.onBody(pos === 0 ? data : data.subarray(pos));
          return;
      }
    }
  }

  /** The worker closed the connection: that ends a close-delimited body, and is an error anywhere else. */
  finish(): boolean {
    if (this.state !== State.UntilClose) return false;
    this.keepAlive = false;
    this.state = State.Idle;
    this.events.onEnd(false);
    return true;
  }

  /** Keeps an unfinished line; the slack is the line ending's own bytes, so a split read never changes the verdict. */
  private keep(data: Buffer, pos: number, limit: number): void {
    if (data.length - pos > limit + 3) throw new ResponseParseError(this.state === State.Head ? 'response head too large' : 'line too long');
    this.partial = Buffer.from(data.subarray(pos));
  }

  /**
   * Where the line (or head) starting at `pos` ends, at `delimiter`; -1 when its end has not arrived
   * yet, its start then kept for the next read. Longer than `limit` is an error either way.
   */
  private endOf(data: Buffer, pos: number, delimiter: Buffer, limit: number, tooLong: string): number {
    const end = data.indexOf(delimiter, pos);
    if (end < 0) this.keep(data, pos, limit);
    else if (end - pos > limit) throw new ResponseParseError(tooLong);
    return end;
  }

  private readHead(data: Buffer, pos: number): number {
    // The usual answer is one small read, head and body: copied out as text once, the head is found
    // and cut there, and a body that ends in the same read is cut from it too (see the end). That is
    // two calls into C++ fewer than searching the bytes, then copying head and body out apart.
    const readStart = pos;
    const readText = data.length - pos <= ONE_COPY_BYTES ? data.toString('latin1', pos) : null;
    let end: number;
    if (readText !== null) {
      const headLength = readText.indexOf('\r\n\r\n');
      if (headLength < 0) {
        this.keep(data, pos, MAX_HEAD_BYTES);
        return data.length;
      }
      end = pos + headLength;
    } else {
      end = this.endOf(data, pos, CRLFCRLF, MAX_HEAD_BYTES, 'response head too large');
      if (end < 0) return data.length;
    }
    const text = readText !== null ? readText.slice(0, end - pos) : data.toString('latin1', pos, end);
    // One grammar: a head that fails the whole-head pattern is refused, whatever a closer look at its
    // lines finds; that look only names the reason.
    if (!WELL_FORMED_HEAD.test(text)) throw malformedHeadError(text);
    let at = lineEnd(text, 0);
    // "HTTP/1.x NNN": the minor version and the status code sit at fixed places.
    const http10 = text.charCodeAt(7) === 48;
    const code = Number(text.slice(9, 12));

    let headers: string[] = [];
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection = '';
    let connectionTab = false;
    this.keepAliveHintMs = 0;
    while (at < text.length) {
      const start = at + 2;
      at = lineEnd(text, start);
      const colon = text.indexOf(':', start);
      const name = text.slice(start, colon);
      const value = trimOws(text, colon + 1, at);
      const lower = LOOKED_AT[name.length] === true ? name.toLowerCase() : '';
      switch (lower) {
        case '':
          headers.push(name, value);
          break;
        case 'content-length': {
          // A tab after the digits is not a Content-Length to llhttp (it allows spaces only).
          if (endsInTab(text, at)) throw new ResponseParseError('bad Content-Length');
          const single = CONTENT_LENGTH.test(value);
          const n = single ? Number(value) : lengthOfList(value);
          if (contentLength !== -1) {
            // RFC 9110 section 8.6: the same length repeated is one length, relayed once (node's and
            // undici's parsers refuse a repeated header); two different lengths are no framing at all.
            if (contentLength !== n) throw new ResponseParseError('conflicting Content-Length headers');
            break;
          }
          contentLength = n;
          headers.push(name, single ? value : String(n));
          break;
        }
        case 'transfer-encoding':
          // "chunked" then a tab is not chunked to llhttp: a coding we could read otherwise is refused.
          if (endsInTab(text, at) || AMBIGUOUS_CODING.test(value)) throw new ResponseParseError('ambiguous Transfer-Encoding');
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
          break;
        case 'connection':
        case 'proxy-connection':
          // node's parser (llhttp) takes Proxy-Connection's close and keep-alive as Connection's.
          connection = connection === '' ? value : `${connection},${value}`;
          if (!connectionTab) {
            const tab = text.indexOf('\t', colon);
            connectionTab = tab >= 0 && tab < at;
          }
          break;
        case 'keep-alive': {
          const hint = KEEP_ALIVE_TIMEOUT.exec(value);
          if (hint) this.keepAliveHintMs = Number(hint[1]) * 1000;
          break;
        }
        default:
          if (!HOP_BY_HOP.has(lower)) headers.push(name, value);
      }
    }
    // Tokens other than keep-alive and close name headers to leave out.
    if (connection !== '') headers = dropNamed(headers, connectionTokens(connection));

    pos = end + 4;
    // Section 6.3: Transfer-Encoding overrides Content-Length, and a proxy must not forward the latter;
    // relayed beside a de-chunked body, it would let a worker end the body early and append a response.
    if (transferEncoding !== undefined && contentLength !== -1) headers = withoutContentLength(headers);
    if (code < 200) {
      // 101 would switch protocols on a connection we pool; upgrades never take this path.
      if (code === 101) throw new ResponseParseError('unexpected 101 Switching Protocols');
      // HTTP/1.0 has no interim answers (RFC 9110 section 15.2); llhttp reads one as the connection's last.
      if (http10) throw new ResponseParseError('interim answer in HTTP/1.0');
      this.events.onHead(code, headers);
      return pos;
    }
    if (connection === '') this.keepAlive = !http10;
    // An HTTP/1.0 answer is reused only on a keep-alive token llhttp (the worker's node) reads as one:
    // it does not take a tab after a token for whitespace, so a tab in the header means no reuse.
    else this.keepAlive = http10 ? hasToken(connection, 'keep-alive') && !connectionTab : !hasToken(connection, 'close');
    this.events.onHead(code, headers);

    if (this.noBody || code === 204 || code === 304) {
      // A worker that sends a body anyway (some answer HEAD like GET) may send it in a later read,
      // where it would pass for the next response on this socket. Where that is possible, the
      // connection is not reused: after every HEAD (as undici does), and after a 204 or 304 that
      // declares a body.
      if (this.noBody || transferEncoding !== undefined || (code === 204 && contentLength > 0)) this.keepAlive = false;
      this.complete(pos < data.length);
      return data.length;
    }
    if (transferEncoding !== undefined) {
      // Section 6.1 and 6.3: with Content-Length beside it, or from an HTTP/1.0 peer, the framing is suspect.
      if (contentLength !== -1 || http10) this.keepAlive = false;
      const codings = transferEncoding.split(',');
      if (trimOws(codings[codings.length - 1]).toLowerCase() === 'chunked') this.state = State.ChunkSize;
      else this.readUntilClose();
    } else if (contentLength > 0) {
      if (readText !== null && data.length - pos >= contentLength) {
        // The whole body came with the head: handed over as its cut of the text already made.
        const bodyStart = pos - readStart;
        this.complete(pos + contentLength < data.length, readText.slice(bodyStart, bodyStart + contentLength));
        return data.length;
      }
      this.state = State.Body;
      this.remaining = contentLength;
    } else if (contentLength === 0) {
      this.complete(pos < data.length);
      return data.length;
    } else this.readUntilClose();
    return pos;
  }

  private readChunkSize(data: Buffer, pos: number): number {
    const end = this.endOf(data, pos, CRLF, MAX_CHUNK_LINE, 'chunk size line too long');
    if (end < 0) return data.length;
    const size = CHUNK_SIZE.exec(data.toString('latin1', pos, end));
    if (size === null) throw new ResponseParseError('bad chunk size');
    this.remaining = parseInt(size[1], 16);
    this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
    return end + 2;
  }

  private readUntilClose(): void {
    this.keepAlive = false;
    this.state = State.UntilClose;
  }

  /** Bytes after the end of a response are not relayed, and they make the connection unfit for reuse. */
  private complete(trailingBytes: boolean, lastChunk?: string): void {
    this.state = State.Idle;
    this.events.onEnd(this.keepAlive && !trailingBytes, lastChunk);
  }
}

/**
 * The length a Content-Length list of one value repeated (`2, 2`) stands for (RFC 9110 section 8.6);
 * anything else (differing values, an empty element, a non-number) is refused.
 */
function lengthOfList(value: string): number {
  let n = -1;
  for (const item of value.split(',')) {
    const digits = trimOws(item);
    if (!CONTENT_LENGTH.test(digits)) throw new ResponseParseError('bad Content-Length');
    if (n !== -1 && Number(digits) !== n) throw new ResponseParseError('conflicting Content-Length values');
    n = Number(digits);
  }
  return n;
}

function withoutContentLength(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() !== 'content-length') out.push(headers[i], headers[i + 1]);
  return out;
}

/** Why a head failed WELL_FORMED_HEAD: the first thing wrong with its lines, in order. */
function malformedHeadError(text: string): ResponseParseError {
  let at = lineEnd(text, 0);
  try {
    checkStatusLine(text.slice(0, at));
    while (at < text.length) {
      const start = at + 2;
      at = lineEnd(text, start);
      checkFieldLine(text.slice(start, at));
    }
  } catch (err) {
    return err as ResponseParseError;
  }
  // The line checks and the pattern describe one grammar (http-syntax.test.ts holds them to it);
  // should they ever differ, the pattern's verdict stands.
  return new ResponseParseError('malformed head');
}

function checkStatusLine(line: string): void {
  if (BAD_LINE_CHAR.test(line) || !STATUS_LINE.test(line)) throw new ResponseParseError('bad status line');
}

function checkFieldLine(line: string): void {
  const colon = line.indexOf(':');
  if (BAD_LINE_CHAR.test(line)) throw badCharacterError(line, colon);
  if (colon <= 0) throw new ResponseParseError(line === '' ? 'empty header line' : 'header line without a name');
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) throw new ResponseParseError(`bad header name ${JSON.stringify(name)}`);
}

/** Names the header a bad character sits in, when it sits in a value. */
function badCharacterError(line: string, colon: number): ResponseParseError {
  return new ResponseParseError(
    colon > 0 && colon < line.search(BAD_LINE_CHAR) ? `bad character in header ${line.slice(0, colon)}` : 'header line without a name',
  );
}
