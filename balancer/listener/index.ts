import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createNetServer, Socket, type Server as NetServer } from 'node:net';
import { InactivityWatch } from '../inactivity-watch';
import type { Logger } from '../logger';
import { GatewayStats } from '../stats/gateway-stats';
import { ClientConnection, type ConnectionDeps } from './client-connection';
import { ClientSlots } from './client-slots';
import { FallbackConnection, type RequestHandler, type UpgradeHandler } from './fallback-connection';

export interface Listener {
  /** The listening socket; every connection starts here. */
  readonly server: NetServer;
  /**
   * Stops accepting; every connection ends after its next response, and one still idle after
   * SHUTDOWN_IDLE_GRACE_MS is closed then.
   */
  shutdown(): void;
  /**
   * Gives node:http back a socket it had detached at 'upgrade', with `bytes` as the first it reads:
   * how an Upgrade request the balancer does not make is served as a plain request (proxy/upgrade.ts).
   * The connection is a plain one again: served in order, reclaimable when idle, half-open allowed.
   */
  adopt(socket: Duplex, bytes: Buffer): void;
  /** Client connections open now, on the fast path and node:http alike (lb_client_connections_open). */
  readonly openConnections: number;
}

export interface ListenerOptions extends Omit<ConnectionDeps, 'released' | 'keepAliveLine' | 'watch' | 'handOver' | 'gatewayStats'> {
  /** What node:http does with each request it parses (control plane or data plane); called one request at a time per connection. */
  serveFallback: RequestHandler;
  /** What node:http does with an Upgrade request (the WebSocket proxy); called after any response before it on the connection. */
  serveUpgrade?: UpgradeHandler;
  /** False (FAST_PATH=off): the listener never reads a request, every connection goes to node:http as it is accepted. */
  fastPath?: boolean;
  /** Most client connections open at once (MAX_CLIENT_CONNECTIONS); see ClientSlots. */
  maxClientConnections?: number;
  log?: Logger;
  /** Counts the gateway's own answers and the connections refused at the cap; createBalancer passes the one /metrics reads. */
  gatewayStats?: GatewayStats;
}

const SILENT = { warn: () => {} } as unknown as Logger;

/** How long a connection idle at shutdown may still send one request (see shutdown() below). */
export const SHUTDOWN_IDLE_GRACE_MS = 1_000;

/**
 * The balancer's front door. It reads plain HTTP/1.1 requests for the data plane itself, which spares
 * them node:http's per-request server objects (docs/performance.md), and hands every other connection,
 * with the bytes already read, to node:http (`deps.fallback`): the control plane, upgrades, chunked
 * uploads, HTTP/1.0 and anything unusual are served there, one request at a time per connection.
 * Every client connection, wherever it is served, counts against one cap.
 */
export function createListener(options: ListenerOptions): Listener {
  const { serveFallback, serveUpgrade, fastPath = true, maxClientConnections = Infinity, log = SILENT, gatewayStats = new GatewayStats(), ...deps } = options;
  const connections = new Set<ClientConnection>();
  const slots = new ClientSlots(maxClientConnections, log, gatewayStats);
  const watch = InactivityWatch.forLimits(deps.keepAliveTimeoutMs, deps.bodyIdleTimeoutMs);
  const released = (conn: ClientConnection) => {
    connections.delete(conn);
    watch.delete(conn);
  };
  /** Gives `socket` to node:http; `pending` is what the listener read of it so far. */
  const handOver = (socket: Socket, pending: Buffer | null, peerEnded: boolean) => {
    slots.reassign(socket, new FallbackConnection(socket, serveFallback, deps.bodyIdleTimeoutMs, gatewayStats));
    deps.fallback.emit('connection', socket);
    // Resumed before the replay: a FallbackConnection that pauses the socket for a queued request
    // while node parses `pending` must stay paused (a pause after a resume wins).
    if (socket.isPaused()) socket.resume();
    if (pending !== null) socket.emit('data', pending);
    // The stream emits 'end' once: a FIN the listener already saw is replayed for node:http's own
    // handler, which answers what it parsed and then ends the connection (httpAllowHalfOpen).
    if (peerEnded) socket.emit('end');
  };
  // node:http's keep-alive limit on the connections it serves is a socket timer, and node destroys
  // the socket from it unless a 'timeout' listener takes the decision; see closeUnlessReadMeanwhile.
  deps.fallback.on('timeout', closeUnlessReadMeanwhile);
  deps.fallback.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const slot = slots.slotOf(req.socket);
    if (slot instanceof FallbackConnection) slot.accept(req, res);
    else serveFallback(req, res); // refused or closed since: node answers into a socket being destroyed
  });
  if (serveUpgrade !== undefined) {
    deps.fallback.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // A tunnel is not half-open: a FIN from the client ends it (and calls off a declined upgrade's
      // answer), as before the listener's server became allowHalfOpen.
      socket.allowHalfOpen = false;
      const slot = slots.slotOf(req.socket);
      if (slot instanceof FallbackConnection) slot.acceptUpgrade(serveUpgrade, req, socket, head);
      else serveUpgrade(req, socket, head);
    });
  }
  const keepAliveLine = `Keep-Alive: timeout=${Math.floor(deps.keepAliveTimeoutMs / 1000)}\r\n`;
  // node:http starts tracking connections (for its headers and request timeouts, and for
  // closeIdleConnections) when it starts listening; this one never listens itself, only adopts sockets.
  deps.fallback.emit('listening');
  // One object shared by every connection, never a copy per connection: the property loads on the
  // request path must keep seeing one object shape (docs/performance.md, "One shape per call site").
  const connectionDeps: ConnectionDeps = { ...deps, released, keepAliveLine, watch, handOver, gatewayStats };
  // allowHalfOpen: a client may send FIN once its request is written and still wants the answer
  // (RFC 9112 section 9.6); each connection ends its side itself once it has answered.
  const server = createNetServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    if (!fastPath) {
      if (slots.admit(socket, new FallbackConnection(socket, serveFallback, deps.bodyIdleTimeoutMs, gatewayStats))) deps.fallback.emit('connection', socket);
      return;
    }
    const conn = new ClientConnection(socket, connectionDeps);
    if (slots.admit(socket, conn)) connections.add(conn);
  });
  return {
    server,
    get openConnections() {
      return slots.size;
    },
    shutdown() {
      // Every connection ends after its next response (Connection: close). One idle now (between
      // requests, or accepted with no request yet) may be writing a request at this very moment:
      // ending it at once fails that request unanswered (a reset, Node's "socket hang up"). So it gets
      // SHUTDOWN_IDLE_GRACE_MS to send one, answered with Connection: close; the client's next
      // request opens a new connection, to a process that accepts (a SIGHUP's replacement).
      for (const conn of connections) conn.closeAfterNextResponse();
      setTimeout(() => {
        for (const conn of [...connections]) conn.shutdown();
      }, SHUTDOWN_IDLE_GRACE_MS).unref();
    },
    adopt(socket, bytes) {
      // node:http's upgrades come on the net.Socket it was given (a TLSSocket is one too).
      if (!(socket instanceof Socket)) return void socket.destroy();
      socket.allowHalfOpen = true;
      slots.reassign(socket, new FallbackConnection(socket, serveFallback, deps.bodyIdleTimeoutMs, gatewayStats));
      deps.fallback.emit('connection', socket);
      if (socket.isPaused()) socket.resume();
      socket.emit('data', bytes);
    },
  };
}

/** What node:http keeps on a socket it serves: the response under way, and the request being parsed. */
type ServedSocket = Socket & { _httpMessage?: ServerResponse | null; parser?: { incoming?: IncomingMessage | null } | null };

/**
 * node:http's 'timeout' for a connection it serves. Without a listener here node destroys the socket
 * unless the request or response took the timeout; mid-exchange that rule stands. Between requests
 * it is the keep-alive limit, and timers run before node polls for I/O: after a stall of the process
 * the limit is reached by the clock while the client's next request, sent in time, waits unread in
 * the kernel's buffer, and destroying the socket then resets it. So an idle socket is closed once the
 * poll has run (the check phase), and only if nothing was read meanwhile; a read re-arms node's timer,
 * and the request it brings clears it. InactivityWatch does the same for the listener's own connections.
 */
function closeUnlessReadMeanwhile(socket: ServedSocket): void {
  const res = socket._httpMessage;
  if (res != null) {
    const req = socket.parser?.incoming;
    const taken = (req != null && !req.complete && req.listenerCount('timeout') > 0) || res.listenerCount('timeout') > 0;
    if (!taken) socket.destroy();
    return;
  }
  const bytesRead = socket.bytesRead;
  setImmediate(() => {
    if (socket.bytesRead === bytesRead) socket.destroy();
  });
}
