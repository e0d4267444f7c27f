import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger';
import type { GatewayStats } from '../stats/gateway-stats';

/** A client connection as the cap sees it: idle between requests, or busy. */
export interface ClientSlot {
  /** The performance.now() time since which it waits idle for a next request; -1 while busy (a head, a request or a tunnel under way). */
  idleSince(): number;
}

/** At most this many idle connections are closed at once to make room (nginx's ngx_drain_connections closes 32). */
const MAX_RECLAIM = 32;

/** After a scan finds nothing idle, refusals skip the scan for this long: a flood at the cap must not cost a scan per connection. */
const RESCAN_AFTER_MS = 100;

/**
 * Every open client connection, fast path and node:http alike, against MAX_CLIENT_CONNECTIONS. At
 * the cap, a new connection is admitted by closing the oldest idle keep-alive connections (a
 * sixteenth of the cap, 1 to 32 at once), as nginx reuses its connections; with none idle it is
 * refused (closed unanswered: writing needs the descriptor the cap protects). The scan for idle ones
 * runs only at the cap, so nothing here is on the request path.
 */
export class ClientSlots {
  private readonly open = new Map<Socket, ClientSlot>();
  private readonly reclaimBatch: number;
  private fruitlessScanAt = -Infinity;
  private refusedSinceLog = 0;
  private loggedAt = -Infinity;

  constructor(
    readonly max: number,
    private readonly log: Logger,
    /** Counts each connection refused at the cap (lb_client_connections_refused_total). */
    private readonly stats: GatewayStats,
  ) {
    this.reclaimBatch = Math.max(1, Math.min(MAX_RECLAIM, Math.floor(max / 16)));
  }

  get size(): number {
    return this.open.size;
  }

  /** Called by the listener for each accepted socket: false when it was refused (and destroyed). */
  admit(socket: Socket, slot: ClientSlot): boolean {
    if (this.open.size >= this.max && !this.reclaimIdle()) {
      socket.destroy();
      this.noteRefusal();
      return false;
    }
    this.open.set(socket, slot);
    socket.once('close', () => this.open.delete(socket));
    return true;
  }

  /** The slot now answering for `socket` (a connection handed to node:http changes hands). */
  reassign(socket: Socket, slot: ClientSlot): void {
    if (this.open.has(socket)) this.open.set(socket, slot);
  }

  slotOf(socket: Socket): ClientSlot | undefined {
    return this.open.get(socket);
  }

  private reclaimIdle(): boolean {
    const now = performance.now();
    if (now - this.fruitlessScanAt < RESCAN_AFTER_MS) return false;
    const idle: [number, Socket][] = [];
    for (const [socket, slot] of this.open) {
      const since = slot.idleSince();
      if (since >= 0) idle.push([since, socket]);
    }
    if (idle.length === 0) {
      this.fruitlessScanAt = now;
      return false;
    }
    idle.sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < idle.length && i < this.reclaimBatch; i++) {
      this.open.delete(idle[i][1]);
      idle[i][1].destroy();
    }
    return true;
  }

  /** One warning a second at most: a flood at the cap must not flood the log too. */
  private noteRefusal(): void {
    this.stats.connectionsRefused++;
    this.refusedSinceLog++;
    const now = performance.now();
    if (now - this.loggedAt < 1000) return;
    this.loggedAt = now;
    this.log.warn({ maxClientConnections: this.max, refused: this.refusedSinceLog }, 'client connection limit reached: refusing new connections');
    this.refusedSinceLog = 0;
  }
}
