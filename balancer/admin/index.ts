import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tagListenError } from '../../utils/network';
import type { Logger } from '../logger';
import { sendError } from './answers';
import { createTokenCheck } from './bearer-token';
import { createHostCheck } from './host-check';
import { metricsRoutes } from './metrics-routes';
import { createRouter, type AdminRoute } from './router';
import { adminRoutes, type AdminTarget } from './routes';

export type { AdminTarget } from './routes';

export interface AdminOptions {
  readonly host: string;
  /** 0 lets the kernel pick; listen() resolves with the port bound. */
  readonly port: number;
  /** ADMIN_TOKEN; unset, every changing route answers 403. A secret: never logged, never in an answer. */
  readonly token: string | undefined;
  readonly log: Logger;
  readonly target: AdminTarget;
}

/** The operator's listener: its own node:http server, so nothing here runs on the gateway's per-request path. */
export interface AdminServer {
  readonly server: Server;
  listen(): Promise<number>;
  /** Closes the listener and every connection to it; called last by Balancer.close(), after the drain. */
  close(): Promise<void>;
}

const UNSET_MESSAGE = 'changing admin routes are disabled: set ADMIN_TOKEN (at least 16 characters) and send it as Authorization: Bearer <token>';

/**
 * Builds the admin listener (issue 12). Read-only routes answer anyone who reaches the port (ADMIN_HOST
 * is loopback by default); changing routes need the bearer token. A refused attempt is one warn line with
 * the peer and the reason, never the header's value.
 */
export function createAdminServer(options: AdminOptions): AdminServer {
  const { log } = options;
  const checkToken = createTokenCheck(options.token);
  const guard = (req: IncomingMessage, res: ServerResponse, route: AdminRoute): boolean => {
    const verdict = checkToken(req.headers.authorization);
    if (verdict === 'allowed') return true;
    log.warn({ who: req.socket.remoteAddress, route: `${route.method} ${route.path}`, reason: verdict }, 'admin request refused');
    if (verdict === 'no_token_configured') sendError(res, 403, 'admin_token_unset', UNSET_MESSAGE);
    // RFC 6750 section 3: a missing or wrong bearer token is 401 with a Bearer challenge.
    else sendError(res, 401, 'unauthorized', 'a valid Authorization: Bearer <ADMIN_TOKEN> header is required', { 'www-authenticate': 'Bearer realm="admin"' });
    return false;
  };
  const route = createRouter([...adminRoutes(options.target, log), ...metricsRoutes(options.target.metrics, log)], guard);
  const hostAllowed = createHostCheck(options.host);
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (hostAllowed(req.headers.host)) return route(req, res);
    log.info({ who: req.socket.remoteAddress, host: req.headers.host?.slice(0, 100) }, 'admin request refused: Host is not an IP address or localhost');
    sendError(
      res,
      403,
      'host_not_allowed',
      `the admin listener on ${options.host} answers only requests for an IP address or localhost (a DNS-rebinding guard)`,
    );
  });
  // A broken admin connection is an expected event: a 400 if the socket still takes one, never a crash.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        const failed = (err: Error) => reject(tagListenError(err, { portSetting: 'ADMIN_PORT', hostSetting: 'ADMIN_HOST' }));
        server.once('error', failed);
        server.listen(options.port, options.host, () => {
          server.off('error', failed);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
