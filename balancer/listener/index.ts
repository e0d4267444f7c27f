import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { InactivityWatch } from '../inactivity-watch';
import { ClientConnection, type ConnectionDeps } from './client-connection';

export interface Listener {
  /** The listening socket; every connection starts here. */
  readonly server: NetServer;
  /** Stops accepting, closes idle connections now and busy ones after their response. */
  shutdown(): void;
}

/**
 * The balancer's front door. It reads plain HTTP/1.1 requests for the data plane itself, which spares
 * them node:http's per-request server objects (docs/performance.md), and hands every other connection,
 * with the bytes already read, to node:http (`deps.fallback`): the control plane, upgrades, chunked
 * uploads, HTTP/1.0 and anything unusual are served there exactly as before.
 */
export function createListener(deps: Omit<ConnectionDeps, 'released' | 'keepAliveLine' | 'watch'>): Listener {
  const connections = new Set<ClientConnection>();
  const watch = InactivityWatch.forLimits(deps.keepAliveTimeoutMs, deps.bodyIdleTimeoutMs);
  const released = (conn: ClientConnection) => {
    connections.delete(conn);
    watch.delete(conn);
  };
  const keepAliveLine = `Keep-Alive: timeout=${Math.floor(deps.keepAliveTimeoutMs / 1000)}\r\n`;
  // node:http starts tracking connections (for its headers and request timeouts, and for
  // closeIdleConnections) when it starts listening; this one never listens itself, only adopts sockets.
  deps.fallback.emit('listening');
  // One object shared by every connection, never a copy per connection: the property loads on the
  // request path must keep seeing one object shape (docs/performance.md, "One shape per call site").
  const connectionDeps: ConnectionDeps = { ...deps, released, keepAliveLine, watch };
  const server = createNetServer({ noDelay: true }, (socket) => {
    connections.add(new ClientConnection(socket, connectionDeps));
  });
  return {
    server,
    shutdown() {
      for (const conn of [...connections]) conn.shutdown();
    },
  };
}
