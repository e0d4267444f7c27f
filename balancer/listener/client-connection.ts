import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { requestTimeout } from '../errors';
import { CRLFCRLF, MAX_HEAD_BYTES } from '../http-syntax';
import type { InactivityWatch, Watched } from '../inactivity-watch';
import { sendProxyError } from '../proxy/handle-failure';
import type { ProxyHandler } from '../proxy';
import type { GatewayStats } from '../stats/gateway-stats';
import { ClientRequest, type RequestBody } from './client-request';
import { ClientResponse, type ResponseOwner } from './client-response';
import type { ClientSlot } from './client-slots';
import { parseRequestHead, type RequestHead } from './request-head';

export interface ConnectionDeps {
  proxy: ProxyHandler;
  /** Takes over a connection whose request is outside the listener's subset, or for a control path. */
  fallback: HttpServer;
  /** Whether a request target belongs to the data plane (everything but the control paths). */
  isProxied(url: string): boolean;
  /** Idle time allowed between requests, and the longest silence while a head arrives. */
  keepAliveTimeoutMs: number;
  /** Longest time to receive one complete request head (slow-header attacks). */
  headersTimeoutMs: number;
  /** Longest silence inside a request body (nginx's client_body_timeout); IDLE_TIMEOUT_MS. */
  bodyIdleTimeoutMs: number;
  /** The connection closed or was handed over: the listener stops tracking it. */
  released(conn: ClientConnection): void;
  /** `Keep-Alive: timeout=N\r\n`, made once from keepAliveTimeoutMs. */
  keepAliveLine: string;
  /** Times the keep-alive and body-silence limits of every connection on one interval. */
  watch: InactivityWatch;
  /** Gives the socket to node:http with the bytes read so far; `peerEnded` when the client's FIN already came. */
  handOver(socket: Socket, pending: Buffer | null, peerEnded: boolean): void;
  /** Counts the 408 a stalled upload gets (lb_gateway_answers_total). */
  gatewayStats: GatewayStats;
}

/**
 * Buffered bytes up to this size are copied out as text whole to find a head in them. Small, because
 * pipelined requests are copied again from each one's end: a larger window would copy more per request.
 */
const ONE_COPY_BYTES = 2 * 1024;

/** Pipelined bytes kept while a response is in flight before the socket is paused. */
const MAX_PIPELINED_BYTES = 64 * 1024;

/**
 * One client connection read by the listener: heads through the strict parser, one exchange at a time
 * (pipelined requests wait their turn, as HTTP/1.1 requires answers in order), a Content-Length body
 * streamed into the request with backpressure. At the first request it does not serve itself, it
 * hands the whole connection, with the bytes already read, to node:http, which keeps it from then on.
 */
export class ClientConnection implements ResponseOwner, Watched, ClientSlot {
  activeAt = 0;
  private buffered: Buffer | null = null;
  private requestBody: RequestBody | null = null;
  private bodyRemaining = 0;
  private response: ClientResponse | null = null;
  private headStartedAt = 0;
  private closingDown = false;
  /** The connection is ending: nothing more it receives is a request (RFC 9112 section 9.6). */
  private done = false;
  /** Set while readRequests runs: a response that ends synchronously (a 503) must not re-enter it. */
  private reading = false;
  /** The client is not reading its responses: no further request is started until the socket drains. */
  private awaitingDrain = false;
  /** The client half-closed: what it sent before is answered, then the connection ends (RFC 9112 section 9.6). */
  private peerEnded = false;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    deps.watch.add(this);
  }

  /** At shutdown, first: the next response is the connection's last (Connection: close); an idle connection stays open for it. */
  closeAfterNextResponse(): void {
    this.closingDown = true;
  }

  /** At shutdown, after the idle grace: closes now when idle, otherwise after the response in flight. */
  shutdown(): void {
    this.closingDown = true;
    if (this.response === null && this.bodyRemaining === 0) {
      this.done = true;
      this.socket.end();
    }
  }

  /** Shutting down: the response being written is the connection's last. */
  get closing(): boolean {
    return this.closingDown;
  }

  get keepAliveLine(): string {
    return this.deps.keepAliveLine;
  }

  /** Whether the request's declared body has not all arrived: a response now must close the connection. */
  get bodyPending(): boolean {
    return this.bodyRemaining > 0;
  }

  responseEnded(res: ClientResponse): void {
    if (this.response !== res) return;
    this.response = null;
    this.activeAt = this.deps.watch.now;
    if (!res.keepAlive || this.closingDown || this.bodyRemaining > 0) {
      // Connection: close, shutdown, or the worker answered before the upload ended. Whatever the
      // client sends from here is discarded, never parsed: the rest of a declared body is body, and
      // reading requests out of it would let a client smuggle one past an early 401 or 413.
      this.done = true;
      this.abandonBody();
      this.buffered = null;
      this.socket.end();
      return;
    }
    // A client that does not read its answers gets no more of them until it does: pipelined requests
    // would otherwise pile their responses up in memory.
    if (this.socket.writableNeedDrain) {
      this.awaitingDrain = true;
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.readRequests();
  }

  /** For the connection cap: idle between requests since the last activity, or busy (-1). */
  idleSince(): number {
    return this.response === null && this.buffered === null && this.bodyRemaining === 0 && !this.done ? this.activeAt : -1;
  }

  private readRequests(): void {
    if (this.reading) return;
    this.reading = true;
    try {
      this.readBufferedRequests();
    } finally {
      this.reading = false;
    }
    // Half-closed and nothing left to answer: a partial head after the FIN can never complete.
    if (this.peerEnded && this.response === null && !this.awaitingDrain && !this.done) this.endAfterFin();
  }

  private endAfterFin(): void {
    this.done = true;
    this.buffered = null;
    this.socket.end();
  }

  private readBufferedRequests(): void {
    while (this.buffered !== null && this.response === null && this.bodyRemaining === 0 && !this.awaitingDrain && !this.done) {
      const data = this.buffered;
      // The usual read is one small request head: copied out as text once, the head is found and cut
      // there, one call into C++ fewer than searching the bytes first.
      const text = data.length <= ONE_COPY_BYTES ? data.toString('latin1') : null;
      const end = text !== null ? text.indexOf('\r\n\r\n') : data.indexOf(CRLFCRLF);
      // A longer head goes to node:http, which answers 431.
      if (end < 0 || end > MAX_HEAD_BYTES) {
        if (end > MAX_HEAD_BYTES || data.length > MAX_HEAD_BYTES) return this.handOver();
        const now = Date.now();
        if (this.headStartedAt === 0) this.headStartedAt = now;
        else if (now - this.headStartedAt > this.deps.headersTimeoutMs) this.socket.destroy();
        return;
      }
      this.headStartedAt = 0;
      const head = parseRequestHead(text !== null ? text.slice(0, end) : data.toString('latin1', 0, end));
      if (typeof head === 'string' || !this.deps.isProxied(head.url)) return this.handOver();
      this.buffered = end + 4 < data.length ? data.subarray(end + 4) : null;
      this.start(head);
    }
    if (this.buffered !== null && this.buffered.length > MAX_PIPELINED_BYTES) this.socket.pause();
  }

  private start(head: RequestHead): void {
    const hasBody = head.contentLength > 0;
    const req = new ClientRequest(head, this.socket, hasBody ? this.resumeBody : null);
    const res = new ClientResponse(this.socket, this, head.method === 'HEAD', head.keepAlive && !this.closingDown);
    this.response = res;
    if (hasBody) {
      this.requestBody = req.bodyStream;
      this.bodyRemaining = head.contentLength;
      const pending = this.buffered;
      this.buffered = pending === null ? null : this.feedBody(pending);
    }
    this.deps.proxy(req, res);
  }

  /** Pushes the body's share of `chunk` into the request; returns what follows the body, if anything. */
  private feedBody(chunk: Buffer): Buffer | null {
    const n = Math.min(chunk.length, this.bodyRemaining);
    this.bodyRemaining -= n;
    const body = this.requestBody!;
    const wantsMore = body.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (this.bodyRemaining === 0) {
      body.push(null);
      this.requestBody = null;
    } else if (!wantsMore) this.socket.pause();
    return n < chunk.length ? chunk.subarray(n) : null;
  }

  private abandonBody(): void {
    this.requestBody?.destroy();
    this.requestBody = null;
    this.bodyRemaining = 0;
  }

  /**
   * Gives the connection to node:http as if it had just been accepted there, replaying the bytes read
   * so far into its parser. It answers whatever it is: a control path, an upgrade, a chunked upload,
   * HTTP/1.0, or a request it refuses with 400/431.
   */
  private handOver(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('drain', this.onDrain);
    socket.off('end', this.onEnd);
    const pending = this.buffered;
    this.buffered = null;
    this.done = true;
    this.deps.released(this);
    this.deps.handOver(socket, pending, this.peerEnded);
  }

  private readonly resumeBody = (): void => {
    if (this.bodyRemaining === 0) return;
    // The client's silence is counted from here: while paused it was us not reading.
    this.activeAt = this.deps.watch.now;
    this.socket.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    this.activeAt = this.deps.watch.now;
    if (this.done) return;
    let rest: Buffer | null = chunk;
    if (this.bodyRemaining > 0) rest = this.feedBody(chunk);
    if (rest === null) return;
    this.buffered = this.buffered === null ? rest : Buffer.concat([this.buffered, rest]);
    this.readRequests();
  };

  /**
   * Between requests (or while a head arrives), the keep-alive limit the responses announce; mid-upload,
   * a client that stopped sending (not one we paused) gets the body-silence limit, since a replayable
   * body is read whole before any worker is asked and no worker timeout covers it. During an exchange
   * the worker's limits apply.
   */
  silenceLimitMs(): number {
    if (this.response === null) return this.deps.keepAliveTimeoutMs;
    if (this.bodyRemaining > 0 && !this.socket.isPaused()) return this.deps.bodyIdleTimeoutMs;
    return 0;
  }

  onInactive(): void {
    if (this.response === null) this.socket.destroy();
    else this.giveUpOnBody();
  }

  // A reset or broken pipe is an expected event; 'close' follows and does the cleanup.
  private readonly onError = (): void => {};

  /** 408 as nginx's client_body_timeout: the exchange is called off first (as if the client had gone), then answered. */
  private giveUpOnBody(): void {
    const res = this.response;
    if (res === null || res.headersSent) return void this.socket.destroy();
    res.emit('close');
    sendProxyError(res, requestTimeout, this.deps.gatewayStats, res.requestId);
  }

  private readonly onClose = (): void => {
    const res = this.response;
    this.response = null;
    this.abandonBody();
    if (res !== null && !res.finished) {
      res.destroyed = true;
      res.emit('close');
    }
    this.deps.released(this);
  };

  private readonly onEnd = (): void => {
    this.peerEnded = true;
    // A declared body cut short by the FIN can never be delivered whole: the client is gone.
    if (this.bodyRemaining > 0) return void this.socket.destroy();
    this.readRequests();
  };

  private readonly onDrain = (): void => {
    this.response?.emit('drain');
    if (this.awaitingDrain) {
      this.awaitingDrain = false;
      if (this.socket.isPaused()) this.socket.resume();
      this.readRequests();
    }
  };
}
