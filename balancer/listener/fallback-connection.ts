import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { requestTimeout } from '../errors';
import { sendProxyError } from '../proxy/handle-failure';
import type { GatewayStats } from '../stats/gateway-stats';
import type { ClientSlot } from './client-slots';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * A client connection node:http serves (handed over by the listener, or all of them with
 * FAST_PATH=off), its requests served one at a time and in order, as nginx does. node:http emits
 * 'request' for every request it parses, pipelined ones at once, and would have each one proxied on
 * its own worker connection; here the next one is dispatched only when the previous response has
 * closed. While a request waits, the socket is paused so node parses no more: the queue holds at most
 * what node parsed from the reads already taken (node parses a read whole). A client that leaves
 * cancels what it queued: none of it is ever dispatched. A request body that stops arriving gets the
 * fast path's body-silence limit (IDLE_TIMEOUT_MS, as nginx's client_body_timeout): node's own
 * requestTimeout counts the whole upload, not its silence.
 */
export class FallbackConnection implements ClientSlot {
  private active = false;
  private closed = false;
  /** Whether this paused the socket (node pauses it too, for its own write backpressure, and resumes it itself). */
  private paused = false;
  private idleAt = -1;
  /** Requests parsed while one was being served, as [req, res] pairs in arrival order. */
  private readonly waiting: (IncomingMessage | ServerResponse)[] = [];
  private head = 0;
  /** requestId: set by the proxy pipeline (ProxyResponse), for the 408 below. */
  private activeRes: (ServerResponse & { requestId?: string }) | null = null;
  /** An upgrade parsed behind a response still under way: it waits for that response (node ends parsing at one). */
  private upgrade: (() => void) | null = null;
  /** Upgraded: a tunnel, never idle between requests again. */
  private tunnel = false;

  constructor(
    private readonly socket: Socket,
    private readonly serve: RequestHandler,
    /** Longest silence inside a request body (IDLE_TIMEOUT_MS); 0 is none. */
    private readonly bodyIdleTimeoutMs: number,
    /** Counts the 408 a stalled upload gets. */
    private readonly gatewayStats: GatewayStats,
  ) {
    socket.once('close', this.onClose);
  }

  idleSince(): number {
    return this.active || this.tunnel ? -1 : this.idleAt;
  }

  /** node:http's 'upgrade' for this connection: run now, or once the response before it has closed (node would write both at once). */
  acceptUpgrade(serve: UpgradeHandler, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.tunnel = true;
    if (!this.active) return serve(req, socket, head);
    this.upgrade = () => serve(req, socket, head);
  }

  /** node:http's 'request' for this connection. */
  accept(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) return;
    if (!this.active) return this.dispatch(req, res);
    this.waiting.push(req, res);
    this.paused = true;
    this.socket.pause();
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    this.active = true;
    // The last one queued may still be receiving its body: the socket must flow for it.
    if (this.paused && this.head === this.waiting.length) {
      this.paused = false;
      this.socket.resume();
    }
    res.once('close', this.next);
    this.activeRes = res;
    // Only a request whose body is still to come is timed (a socket timer, re-armed by node per read).
    if (this.bodyIdleTimeoutMs > 0 && !req.complete) {
      req.setTimeout(this.bodyIdleTimeoutMs, this.onBodySilence);
      req.once('end', this.onBodyEnd);
    }
    this.serve(req, res);
  }

  /** node:http's timeout for an incomplete request: 408, the exchange called off first, as on the fast path (ClientConnection.giveUpOnBody). */
  private readonly onBodySilence = (): void => {
    const res = this.activeRes;
    if (res === null || res.headersSent) return void this.socket.destroy();
    res.shouldKeepAlive = false;
    res.emit('close');
    sendProxyError(res, requestTimeout, this.gatewayStats, res.requestId);
  };

  /** The body is whole: waiting for the worker is the worker's limits' business. Node's keep-alive timer, set if the answer came first, stays. */
  private readonly onBodyEnd = (): void => {
    if (this.activeRes !== null && !this.activeRes.writableEnded) this.socket.setTimeout(0);
  };

  /** After a response closed (finished, or called off): the next request in order, if any. */
  private readonly next = (): void => {
    this.active = false;
    this.activeRes = null;
    if (this.closed) return;
    if (this.head < this.waiting.length) {
      const req = this.waiting[this.head] as IncomingMessage;
      const res = this.waiting[this.head + 1] as ServerResponse;
      this.waiting[this.head] = this.waiting[this.head + 1] = undefined as never;
      this.head += 2;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      }
      return this.dispatch(req, res);
    }
    if (this.upgrade !== null) {
      const upgrade = this.upgrade;
      this.upgrade = null;
      return upgrade();
    }
    this.idleAt = performance.now();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.upgrade = null;
    this.waiting.length = 0;
    this.head = 0;
  };
}
