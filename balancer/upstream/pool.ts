import type { LookupFunction } from 'node:net';
import { InactivityWatch } from '../inactivity-watch';
import { UpstreamConnection, type ConnectionOptions, type ConnectionOwner, type ExchangeHandler } from './connection';
import { UpstreamError } from './errors';
import type { OutgoingRequest } from './request-head';

export interface PoolOptions {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  /** Most connections open to the worker at once; 0 means no limit. Beyond it, requests queue. */
  maxConnections: number;
  /** How long an unused connection is kept; under Node's default 5 s server keep-alive timeout. */
  keepAliveMs?: number;
  /** Times the connect, response and body-silence limits; pools share one, else each makes its own. */
  watch?: InactivityWatch;
  /**
   * Resolves a worker's host name for each new connection and refuses a forbidden address
   * (WorkerAddressPolicy.lookup): the address Node connects to is the one just judged, so a name
   * re-pointed after registration cannot reach the metadata service. Unused for an IP literal.
   */
  lookup?: LookupFunction;
}

/** The part of a pool the registry and the proxy use. */
export interface WorkerPool {
  dispatch(req: OutgoingRequest, handler: ExchangeHandler): void;
  /** Refuses new requests, lets the ones already sent or queued finish, then closes every socket. */
  close(): Promise<void>;
  /**
   * The worker was found dead: calls off every rescuable request still waiting for its response head
   * (sent or queued), so the proxy retries it elsewhere. Returns how many.
   */
  rescueWaiting(reason: Error): number;
  /** Connections open now (busy or idle), idle, and requests queued for one: read by /status and /metrics, never per request. */
  readonly stats: { open: number; idle: number; queued: number };
}

interface Queued {
  req: OutgoingRequest;
  handler: ExchangeHandler;
}

const DEFAULT_KEEP_ALIVE_MS = 4000;

/**
 * Keep-alive connections to one worker, made once at registration. The per-request path takes the most
 * recently used idle socket (the warmest, and the one least likely to have been closed by the worker),
 * or opens one, or queues when the limit is reached. A sweep closes sockets idle too long, so the
 * worker's own keep-alive timeout never closes one under a request.
 */
export class UpstreamPool implements WorkerPool, ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly queue: Queued[] = [];
  private readonly open = new Set<UpstreamConnection>();
  /** What every connection of this pool is opened with: made once, shared by all of them. */
  private readonly connectionOptions: ConnectionOptions;
  private readonly hostHeader: string;
  private readonly keepAliveMs: number;
  private readonly sweepEveryMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  /** Set by close(): from then on new requests are refused, and it resolves once the last socket is gone. */
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(
    origin: string,
    private readonly opts: PoolOptions,
  ) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`only http:// workers are supported, not ${url.protocol}`);
    this.hostHeader = url.host;
    this.keepAliveMs = opts.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.sweepEveryMs = Math.min(1000, Math.max(50, this.keepAliveMs / 4));
    this.connectionOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 80 : Number(url.port),
      connectTimeoutMs: opts.connectTimeoutMs,
      responseTimeoutMs: opts.responseTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      watch: opts.watch ?? InactivityWatch.forLimits(opts.connectTimeoutMs, opts.responseTimeoutMs, opts.idleTimeoutMs),
      lookup: opts.lookup,
    };
  }

  /** Connections open now, busy or idle, and requests waiting for one: for tests and operators. */
  get stats(): { open: number; idle: number; queued: number } {
    return { open: this.open.size, idle: this.idle.length, queued: this.queue.length };
  }

  dispatch(req: OutgoingRequest, handler: ExchangeHandler): void {
    if (this.closed !== undefined) {
      handler.onError(new UpstreamError('UPSTREAM_POOL_CLOSED'));
      return;
    }
    const conn = this.idle.pop() ?? (this.hasRoom() ? this.connect() : undefined);
    if (conn !== undefined) {
      conn.send(req, handler);
      return;
    }
    const entry: Queued = { req, handler };
    this.queue.push(entry);
    handler.onConnect((reason) => {
      const at = this.queue.indexOf(entry);
      if (at < 0) return;
      this.queue.splice(at, 1);
      handler.onError(reason);
    });
  }

  release(conn: UpstreamConnection, reusable: boolean): void {
    if (!reusable) {
      conn.destroy();
      this.forget(conn);
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) return conn.send(next.req, next.handler);
    if (this.closed !== undefined) {
      conn.destroy();
      this.forget(conn);
      return;
    }
    conn.idleSince = Date.now();
    this.idle.push(conn);
    this.sweeper ??= setInterval(this.sweep, this.sweepEveryMs).unref();
  }

  forget(conn: UpstreamConnection): void {
    if (!this.open.delete(conn)) return;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    while (this.queue.length > 0 && this.hasRoom()) {
      const next = this.queue.shift()!;
      this.connect().send(next.req, next.handler);
    }
    if (this.closed !== undefined && this.open.size === 0 && this.queue.length === 0) this.finishClose();
  }

  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    for (const conn of this.idle.splice(0)) {
      conn.destroy();
      this.open.delete(conn);
    }
    if (this.open.size === 0 && this.queue.length === 0) this.finishClose();
    return this.closed;
  }

  rescueWaiting(reason: Error): number {
    // Queued ones first: rescuing a connection frees a slot, which would send the next queued request
    // to the very worker being given up on.
    const queued = this.queue.filter((e) => e.handler.rescuable);
    for (const entry of queued) this.queue.splice(this.queue.indexOf(entry), 1);
    let rescued = queued.length;
    for (const conn of [...this.open]) if (conn.rescue(reason)) rescued++;
    for (const entry of queued) entry.handler.onError(reason);
    return rescued;
  }

  private hasRoom(): boolean {
    return this.opts.maxConnections === 0 || this.open.size < this.opts.maxConnections;
  }

  private connect(): UpstreamConnection {
    const conn = new UpstreamConnection(this, this.connectionOptions, this.keepAliveMs, this.hostHeader);
    this.open.add(conn);
    return conn;
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    // A sweep early rather than one late: no socket outlives its limit, which sits under the worker's own.
    const horizon = now + this.sweepEveryMs;
    for (const conn of this.idle.filter((c) => horizon - c.idleSince >= c.idleLimitMs)) {
      conn.destroy();
      this.forget(conn);
    }
    if (this.idle.length === 0) this.stopSweeper();
  };

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private finishClose(): void {
    this.stopSweeper();
    this.resolveClosed?.();
    this.resolveClosed = undefined;
  }
}
