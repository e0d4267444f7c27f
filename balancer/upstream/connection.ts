import { connect, type LookupFunction, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { LAST_CHUNK, writeChunk } from '../http-syntax';
import type { InactivityWatch, Watched } from '../inactivity-watch';
import { UpstreamError } from './errors';
import { serializeRequestHead, type OutgoingRequest } from './request-head';
import { ResponseParser, type ResponseEvents } from './response-parser';

/**
 * What receives one exchange's response. Its shape is undici's core dispatch handler, which the relay
 * was first written against. Exactly one of onComplete and onError ends an exchange.
 */
export interface ExchangeHandler {
  /** The request may be called off while it waits for its response head, to be retried on another worker. */
  readonly rescuable: boolean;
  /** Called before anything is sent (again if the request waited in the pool's queue); `abort` calls the exchange off. */
  onConnect(abort: (reason: Error) => void): void;
  /** A 103 Early Hints from the worker, before the final response (its Link headers let a browser start early). */
  onEarlyHints?(headers: string[]): void;
  /** The final response's status and headers; `resume` restarts a socket paused by onData returning false. */
  onHeaders(statusCode: number, headers: string[], resume: () => void): boolean;
  /**
   * The read that brought the final head ended with no body byte and the response unfinished: the
   * head should reach the client now (a long-poll, SSE, a worker's flushHeaders()) rather than wait
   * for the body. Not called when body bytes came in the same read, so head and body can leave together.
   */
  flushHeaders(): void;
  /** `bytes` of the request body were just written to the worker (counted for the access log). */
  onBodyWritten?(bytes: number): void;
  /** A body slice, the handler's to keep; returning false pauses the worker's socket until `resume` is called. */
  onData(chunk: Buffer): boolean;
  /** The response ended; `lastChunk` is its final body slice, as latin1 text, when that arrived together with the end. */
  onComplete(lastChunk?: string): void;
  onError(err: Error): void;
}

/** The pool, as a connection sees it. */
export interface ConnectionOwner {
  /** The exchange ended; `reusable` says whether the socket can carry another request. */
  release(conn: UpstreamConnection, reusable: boolean): void;
  /** The socket is gone (closed, failed, destroyed); idempotent. */
  forget(conn: UpstreamConnection): void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Time to the response head. */
  responseTimeoutMs: number;
  /** Longest silence inside a response body. */
  idleTimeoutMs: number;
  /** Times the three limits above, for every connection of every pool on one interval. */
  watch: InactivityWatch;
  /** Resolves and judges a worker's host name at connect (DNS rebinding); Node skips it for an IP literal. */
  lookup?: LookupFunction;
}

/**
 * Every worker socket reads into this one buffer (Node's `onread`), so a read allocates nothing and
 * skips the Readable stream machinery. Reads are handled one at a time on this thread, and whatever
 * outlives a read (an unfinished line in the parser, body bytes handed to the relay) is copied out.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * One keep-alive socket to a worker carrying one exchange at a time: it writes the request head (and
 * streams the body, with backpressure), feeds the answer through the response parser to the handler,
 * and gives itself back to the pool when the response ends cleanly. Timeouts are inactivity limits
 * kept by the shared InactivityWatch: reads and writes stamp the watch's clock, so the per-request
 * path arms no timer.
 */
export class UpstreamConnection implements ResponseEvents, Watched {
  readonly socket: Socket;
  /** When it went back to the pool, for the idle sweep. */
  idleSince = 0;
  /** How long it may sit idle in the pool: the pool's limit, shortened by the worker's Keep-Alive hint. */
  idleLimitMs: number;
  activeAt = 0;
  private readonly parser = new ResponseParser(this);
  private handler: ExchangeHandler | null = null;
  private connected = false;
  private body: Readable | null = null;
  private bodyChunked = false;
  private bodySent = true;
  /** The final head was handed over in this read and no body byte or end has followed it yet. */
  private headOnly = false;

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly opts: ConnectionOptions,
    keepAliveMs: number,
    private readonly hostHeader: string,
  ) {
    this.idleLimitMs = keepAliveMs;
    const socket = connect({
      host: opts.host,
      port: opts.port,
      lookup: opts.lookup,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: this.onSocketRead },
    });
    socket.on('connect', this.onSocketConnect);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    this.socket = socket;
    opts.watch.add(this);
  }

  /** Sends one request; the socket may still be connecting, in which case Node queues the writes. */
  send(req: OutgoingRequest, handler: ExchangeHandler): void {
    this.handler = handler;
    this.parser.start(req.method === 'HEAD');
    handler.onConnect((reason) => {
      if (this.handler === handler) this.fail(reason);
    });
    if (this.handler !== handler) return; // aborted at once: the client had already gone
    this.activeAt = this.opts.watch.now;

    const head = serializeRequestHead(req, this.hostHeader);
    const body = req.body;
    if (body === null) {
      this.bodySent = true;
      this.socket.write(head, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      this.bodySent = true;
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
      handler.onBodyWritten?.(body.length);
    } else {
      this.bodySent = false;
      this.bodyChunked = req.chunked;
      this.body = body;
      this.socket.write(head, 'latin1');
      body.on('data', this.onBodyData);
      body.on('end', this.onBodyEnd);
    }
  }

  /** Calls the exchange off if it is rescuable and no response has begun; says whether it did. */
  rescue(reason: Error): boolean {
    if (this.handler === null || !this.handler.rescuable || !this.parser.inHead) return false;
    this.fail(reason);
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The limit for the phase the exchange is in; none while the socket waits in the pool (the pool's sweep closes it). */
  silenceLimitMs(): number {
    if (this.handler === null) return 0;
    if (!this.connected) return this.opts.connectTimeoutMs;
    return this.parser.inHead ? this.opts.responseTimeoutMs : this.opts.idleTimeoutMs;
  }

  // Parser events.

  onHead(status: number, headers: string[]): void {
    if (this.handler === null) return;
    // Interim answers: 103 is passed on; 100 Continue is the balancer's own business with its client
    // (it answers Expect itself), and 102 Processing is deprecated.
    if (status < 200) {
      if (status === 103) this.handler.onEarlyHints?.(headers);
      return;
    }
    this.headOnly = true;
    this.handler.onHeaders(status, headers, this.resume);
  }

  onBody(chunk: Buffer): void {
    this.headOnly = false;
    // A copy: the relay may queue it on the client's socket, and the next read overwrites READ_BUFFER.
    if (this.handler !== null && !this.handler.onData(Buffer.from(chunk))) this.socket.pause();
  }

  onEnd(keepAlive: boolean, lastChunk?: string): void {
    const handler = this.handler;
    if (handler === null) return;
    this.handler = null;
    this.headOnly = false;
    const reusable = keepAlive && this.bodySent && !this.socket.destroyed;
    this.detachBody();
    if (this.socket.isPaused()) this.socket.resume();
    const hint = this.parser.keepAliveHintMs;
    // A margin under the worker's own keep-alive timeout, so we never send on a socket it is closing.
    if (hint > 0 && hint - 1000 < this.idleLimitMs) this.idleLimitMs = Math.max(0, hint - 1000);
    handler.onComplete(lastChunk);
    this.owner.release(this, reusable && this.idleLimitMs > 0);
  }

  private fail(err: Error): void {
    const handler = this.handler;
    this.handler = null;
    this.headOnly = false;
    this.detachBody();
    this.destroy();
    this.owner.forget(this);
    handler?.onError(err);
  }

  private detachBody(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    // The upload is abandoned: let it flow so Node can finish reading it off the client's connection.
    if (body.isPaused()) body.resume();
  }

  private readonly resume = (): void => {
    // The worker's silence is counted from here: while paused it was the client not reading.
    this.activeAt = this.opts.watch.now;
    this.socket.resume();
  };

  private readonly onBodyData = (chunk: Buffer): void => {
    this.activeAt = this.opts.watch.now;
    const ok = this.bodyChunked ? writeChunk(this.socket, chunk) : this.socket.write(chunk);
    this.handler?.onBodyWritten?.(chunk.length);
    if (!ok) this.body?.pause();
  };

  private readonly onBodyEnd = (): void => {
    if (this.bodyChunked) this.socket.write(LAST_CHUNK, 'latin1');
    this.bodySent = true;
    this.detachBody();
  };

  private readonly onSocketDrain = (): void => {
    this.activeAt = this.opts.watch.now;
    this.body?.resume();
  };

  private readonly onSocketConnect = (): void => {
    this.connected = true;
    this.activeAt = this.opts.watch.now;
  };

  /** Node's onread callback; returning false would pause the socket, which onBody does itself. */
  private readonly onSocketRead = (bytes: number): boolean => {
    this.activeAt = this.opts.watch.now;
    if (!this.parser.busy) {
      // The worker spoke out of turn on an idle connection: nothing it says can be trusted now.
      this.destroy();
      this.owner.forget(this);
      return true;
    }
    try {
      this.parser.execute(READ_BUFFER.subarray(0, bytes));
    } catch (err) {
      this.fail(err as Error);
    }
    if (this.headOnly) {
      this.headOnly = false;
      this.handler?.flushHeaders();
    }
    return true;
  };

  private readonly onSocketEnd = (): void => {
    if (this.parser.busy && this.parser.finish()) return;
    if (this.handler !== null) this.fail(new UpstreamError('UPSTREAM_CLOSED'));
    else {
      this.destroy();
      this.owner.forget(this);
    }
  };

  private readonly onSocketError = (err: Error): void => {
    if (this.handler !== null) this.fail(err);
    else this.owner.forget(this);
  };

  private readonly onSocketClose = (): void => {
    this.opts.watch.delete(this);
    if (this.handler !== null) this.fail(new UpstreamError('UPSTREAM_CLOSED'));
    else this.owner.forget(this);
  };

  /** The watch's verdict: the exchange's current phase went silent for longer than its limit. */
  onInactive(): void {
    if (this.handler === null) return;
    const code = !this.connected ? 'UPSTREAM_CONNECT_TIMEOUT' : this.parser.inHead ? 'UPSTREAM_HEADERS_TIMEOUT' : 'UPSTREAM_BODY_TIMEOUT';
    this.fail(new UpstreamError(code));
  }
}
