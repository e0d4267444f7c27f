import { EventEmitter } from 'node:events';
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { LAST_CHUNK, sameName, writeChunk } from '../http-syntax';
import type { ProxyResponse } from '../proxy/client-types';

/** What the response tells its connection. */
export interface ResponseOwner {
  /** The Keep-Alive header line for responses that keep the connection (how long it stays open idle). */
  readonly keepAliveLine: string;
  /** The request's declared body has not all arrived (the worker answered early). */
  readonly bodyPending: boolean;
  /** The balancer is shutting down: this response is the connection's last. */
  readonly closing: boolean;
  responseEnded(res: ClientResponse): void;
}

/**
 * The response to a request the listener read itself: the subset of ServerResponse the data plane
 * uses, written straight to the socket. The head is kept until the first body bytes (or the end) so
 * head and body leave in one write, unless the relay flushes it first (a worker that sent its head
 * alone). Framing: a Content-Length from the worker is kept; without one
 * the body is chunked, as HTTP/1.1 allows; HEAD, 204 and 304 carry none. Emits 'close' when the client
 * goes away before the end, and 'drain' when a full socket buffer empties.
 */
export class ClientResponse extends EventEmitter implements ProxyResponse {
  headersSent = false;
  destroyed = false;
  finished = false;
  requestId: string | undefined = undefined;
  private head: string | null = null;
  private chunked = false;
  private bodyless: boolean;

  constructor(
    private readonly socket: Socket,
    private readonly owner: ResponseOwner,
    isHead: boolean,
    /** False adds Connection: close, and the connection ends after this response. */
    public keepAlive: boolean,
  ) {
    super();
    this.bodyless = isHead;
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders | string[]): this {
    return this.writeHeadWithLines(statusCode, headers, '');
  }

  /** `lines`: header lines already serialized, written right after the status line (the relay's X-Request-Id). */
  writeHeadWithLines(statusCode: number, headers: OutgoingHttpHeaders | string[], lines: string): this {
    let head = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'}\r\n${lines}`;
    let hasLength = false;
    let hasDate = false;
    // An object only comes from the balancer's own answers (errors); relayed ones are already flat.
    // Such an answer asks for the connection's end with `connection: close`, which is written below.
    let flat: string[];
    if (Array.isArray(headers)) flat = headers;
    else {
      if (headers.connection === 'close') this.keepAlive = false;
      flat = Object.entries(headers).flatMap(([name, value]) => (value === undefined || name === 'connection' ? [] : [name, String(value)]));
    }
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      // A short name is compared in place (sameName); a long one cut from the worker's head is a view, cheaper to lower-case (docs/performance.md).
      else if (name.length === 4 && sameName(name, 'date')) hasDate = true;
      head += `${name}: ${flat[i + 1]}\r\n`;
    }
    if (statusCode === 204 || statusCode === 304) this.bodyless = true;
    if (!this.bodyless && !hasLength) {
      this.chunked = true;
      head += 'Transfer-Encoding: chunked\r\n';
    }
    if (!hasDate) head += `Date: ${utcDate()}\r\n`;
    // An answer before the whole upload arrived ends the connection: the rest is read as nothing else.
    if (this.owner.bodyPending || this.owner.closing) this.keepAlive = false;
    // As node:http does: the idle timeout announced, so a client never reuses a socket being closed.
    head += this.keepAlive ? this.owner.keepAliveLine : 'Connection: close\r\n';
    this.head = `${head}\r\n`;
    this.headersSent = true;
    return this;
  }

  writeEarlyHints(hints: Record<string, string | string[]>): void {
    if (this.headersSent || this.finished || this.destroyed) return;
    let head = 'HTTP/1.1 103 Early Hints\r\n';
    for (const [name, value] of Object.entries(hints)) head += `${name}: ${Array.isArray(value) ? value.join(', ') : value}\r\n`;
    this.socket.write(`${head}\r\n`, 'latin1');
  }

  /** The relay's call when the worker sent its head alone: it leaves now, and the body follows in writes of its own. */
  flushHeaders(): void {
    if (this.destroyed || this.finished) return;
    this.flushHead();
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.finished) return false;
    this.socket.cork();
    const ok = this.writeBody(chunk);
    this.socket.uncork();
    return ok;
  }

  end(chunk?: Buffer | string, encoding: 'utf8' | 'latin1' = 'utf8'): this {
    if (this.finished || this.destroyed) return this;
    this.finished = true;
    if (!this.headersSent) this.writeHead(200, []);
    // From here a string body is latin1, its own bytes: the relay's always is, other text is encoded once.
    const body = typeof chunk === 'string' && encoding !== 'latin1' ? Buffer.from(chunk, encoding) : chunk;
    if (this.head !== null && (body === undefined || body.length <= ONE_WRITE_BODY_BYTES)) {
      // The common small answer leaves as one string in one write(): no cork, no writev of parts.
      this.socket.write(this.head + this.framedBody(body), 'latin1');
      this.head = null;
      this.owner.responseEnded(this);
      return this;
    }
    this.socket.cork();
    if (body !== undefined) this.writeBody(body);
    else this.flushHead();
    if (this.chunked) this.socket.write(LAST_CHUNK, 'latin1');
    this.socket.uncork();
    this.owner.responseEnded(this);
    return this;
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.socket.destroy();
    }
    return this;
  }

  /** The whole of a small body as latin1 text (byte for byte), framed, with the end of a chunked body. */
  private framedBody(body: Buffer | string | undefined): string {
    const bytes = this.bodyless || body === undefined ? '' : typeof body === 'string' ? body : body.toString('latin1');
    if (!this.chunked) return bytes;
    return bytes === '' ? LAST_CHUNK : `${bytes.length.toString(16)}\r\n${bytes}\r\n${LAST_CHUNK}`;
  }

  private flushHead(): void {
    if (this.head === null) return;
    this.socket.write(this.head, 'latin1');
    this.head = null;
  }

  /** `chunk` as a string is latin1. */
  private writeBody(chunk: Buffer | string): boolean {
    this.flushHead();
    if (this.bodyless || chunk.length === 0) return true;
    return this.chunked ? writeChunk(this.socket, chunk) : this.socket.write(chunk, 'latin1');
  }
}

/** Up to this size, head and body are joined into one string and written once; larger bodies are not copied. */
const ONE_WRITE_BODY_BYTES = 8 * 1024;

let cachedDate = '';
let cachedSecond = -1;

/** The Date header for responses the balancer makes itself (workers send their own), recomputed once a second. */
function utcDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}
