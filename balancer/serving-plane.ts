import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { Strategy } from '../strategies';
import { ReplayGuard } from '../utils/auth';
import type { BalancerOptions } from './index';
import { createControlPlane, isControlPath } from './control-plane';
import { controlForbidden } from './errors';
import { createListener, SHUTDOWN_IDLE_GRACE_MS } from './listener';
import { createClientErrorHandler } from './listener/client-error';
import { defaultClientCap, FALLBACK_DESCRIPTOR_LIMIT, softDescriptorLimit } from './listener/descriptor-budget';
import type { Logger } from './logger';
import { createProxy } from './proxy';
import { createAccessLog } from './proxy/access-log';
import { createRequestCheck } from './proxy/check-request';
import { fromIncomingMessage } from './proxy/client-types';
import { clientAddress, TrustPolicy } from './proxy/forwarding';
import { sendProxyError } from './proxy/handle-failure';
import { RetryBudget } from './proxy/retry-policy';
import { createUpgradeHandler } from './proxy/upgrade';
import { parseUpgradeProtocols } from './proxy/upgrade-protocols';
import type { WorkerRecord } from './registry';
import type { RegistryBackend } from './registry-backend/types';
import type { GatewayStats } from './stats/gateway-stats';
import type { WorkerAddressPolicy } from './worker-address';

export interface ServingDeps {
  strategy: Strategy<WorkerRecord>;
  /** The control plane writes through it; its registry is the one the strategy picks from. */
  backend: RegistryBackend;
  addresses: WorkerAddressPolicy;
  gatewayStats: GatewayStats;
  now: () => number;
  random: () => number;
  /**
   * The token this balancer adds to Via and recognises a request of its own by (the loop guard). One
   * process makes its own; the primary hands one to all its serving processes, so a loop is caught at
   * its first return whichever process it lands in.
   */
  via?: string;
  /** Called by the proxy after each exchange with a worker (passive health); on the per-request path. */
  recordExchange: (worker: WorkerRecord, failed: boolean) => void;
}

/** A fresh Via token for one balancer: `1.1 lb-` and 8 hex digits. */
export function viaToken(): string {
  return `1.1 lb-${randomBytes(4).toString('hex')}`;
}

/** The part of a balancer that serves PORT: the gateway's listener, the proxy and the control paths. */
export interface ServingPlane {
  readonly server: Server;
  readonly limits: { maxClientConnections: number; descriptorLimit: number };
  /** Client connections open now, for /metrics. */
  readonly openConnections: number;
  /** Binds PORT on HOST; resolves with the port bound. */
  listen(): Promise<number>;
  /** Stops accepting and resolves once every client connection has finished its exchange (see createBalancer's close()). */
  drain(): Promise<void>;
}

/**
 * Wires the data plane and the control paths behind one HTTP server. The server's request listener
 * sends the three control paths to Express and everything else straight to the proxy, so Express's
 * router never runs per proxied request. Called by createBalancer (PROCESSES=1) and by each serving
 * process (balancer/cluster/serving.ts); it holds no registry of its own.
 */
export function createServingPlane(config: BalancerOptions, log: Logger, deps: ServingDeps): ServingPlane {
  const { strategy, backend, addresses, gatewayStats, now, random } = deps;
  const control = createControlPlane({
    backend,
    secret: config.REGISTRATION_SECRET,
    log,
    replayGuard: new ReplayGuard(30_000, now, now()),
    addresses,
    stats: gatewayStats,
  });
  const trust = new TrustPolicy(config.TRUST_PROXY);
  const slowStart = { windowMs: config.SLOW_START_MS, now, random };
  // Unique per balancer, so a request that comes back through this balancer is recognised (loop guard).
  const via = deps.via ?? viaToken();
  const proxy = createProxy({
    strategy,
    trust,
    via,
    log,
    now,
    slowStart,
    maxRequestHeaders: config.MAX_REQUEST_HEADERS,
    // Read once here: with ACCESS_LOG=off the proxy holds undefined and tests it once per request.
    accessLog: createAccessLog(config.ACCESS_LOG, log),
    gatewayStats,
    recordExchange: deps.recordExchange,
    retry: { attempts: config.RETRY_ATTEMPTS, budget: new RetryBudget(config.RETRY_BUDGET_PERCENT / 100, 10, now), bodyLimit: config.RETRY_BODY_LIMIT_BYTES },
  });
  const upgrade = createUpgradeHandler({
    strategy,
    trust,
    via,
    log,
    slowStart,
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    protocols: parseUpgradeProtocols(config.UPGRADE_PROTOCOLS),
    // As the listener hands a connection over: node:http takes the socket again and reads `bytes` first.
    serveAsPlain: (socket, bytes) => listener.adopt(socket, bytes),
    // 0 keeps every header. Unset, node's parser keeps 2,000 rawHeaders entries: 1,000 headers, not the
    // 2,000 its documentation gives for maxHeadersCount (_http_common's MAX_HEADER_PAIRS, Node 20).
    checkRequest: createRequestCheck(config.MAX_REQUEST_HEADERS),
    lookup: addresses.lookup,
    idleTimeoutMs: config.WEBSOCKET_IDLE_TIMEOUT_MS,
    headersKept: () => (fallback.maxHeadersCount === 0 ? Infinity : (fallback.maxHeadersCount ?? 1000)),
    gatewayStats,
  });

  const controlAllow = new TrustPolicy(config.CONTROL_ALLOW);
  // node:http serves what the listener hands over: the control paths, upgrades and any request
  // outside the listener's plain HTTP/1.1 subset (which it proxies through the same data plane).
  // Its slow-head limit is HEADERS_TIMEOUT_MS, as on the fast path, checked often enough to hold
  // within a fifth; requestTimeout (the whole request, body included) stays node's 300 s default.
  const fallback = createServer({
    headersTimeout: config.HEADERS_TIMEOUT_MS,
    requestTimeout: Math.max(300_000, config.HEADERS_TIMEOUT_MS),
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(config.HEADERS_TIMEOUT_MS / 5))),
  });
  // A client that half-closes after its request gets the answer, then the connection ends (node's
  // own default aborts the request); undocumented but stable since node 0.x, and tested.
  (fallback as typeof fallback & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  const serveFallback = (req: IncomingMessage, res: ServerResponse) => {
    if (!isControlPath(req.url ?? '/')) proxy(fromIncomingMessage(req), res);
    else if (controlAllow.isEmpty || controlAllow.trusts(clientAddress(req.socket.remoteAddress))) control(req, res);
    else sendProxyError(res, controlForbidden, gatewayStats);
  };
  // node keeps the first maxHeadersCount header lines and drops the rest without a word; one more than
  // the cap keeps an over-cap request recognisable, so the proxy refuses it (431) instead of forwarding a cut list.
  fallback.maxHeadersCount = config.MAX_REQUEST_HEADERS + 1;
  // A broken client socket or a request node refuses is an expected event: answer if we still can, never crash.
  fallback.on('clientError', createClientErrorHandler(gatewayStats));
  const descriptorLimit = softDescriptorLimit() ?? FALLBACK_DESCRIPTOR_LIMIT;
  const maxClientConnections = config.MAX_CLIENT_CONNECTIONS === 'auto' ? defaultClientCap(descriptorLimit) : config.MAX_CLIENT_CONNECTIONS;
  const listener = createListener({
    proxy,
    fallback,
    serveFallback,
    serveUpgrade: upgrade,
    fastPath: config.FAST_PATH,
    maxClientConnections,
    log,
    isProxied: (url) => !isControlPath(url),
    keepAliveTimeoutMs: fallback.keepAliveTimeout,
    bodyIdleTimeoutMs: config.IDLE_TIMEOUT_MS,
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
    gatewayStats,
  });
  const server = listener.server;
  let drained: Promise<void> | undefined;

  return {
    server,
    limits: { maxClientConnections, descriptorLimit },
    get openConnections() {
      return listener.openConnections;
    },
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    drain: () =>
      (drained ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        listener.shutdown();
        // node:http's connections (FAST_PATH=off) as the listener's: each ends after its next response
        // (a listener added only now, so it costs nothing per request before), and those still idle
        // after the grace are closed, then as they appear, since close() waits for every connection.
        fallback.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => (res.shouldKeepAlive = false));
        let reaper: NodeJS.Timeout | undefined;
        const grace = setTimeout(() => {
          fallback.closeIdleConnections();
          reaper = setInterval(() => fallback.closeIdleConnections(), 100);
        }, SHUTDOWN_IDLE_GRACE_MS);
        await closed;
        clearTimeout(grace);
        clearInterval(reaper);
        fallback.close(() => {}); // stops node:http's connection checker; it never listened, so no error matters
      })()),
  };
}
