import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo, Server } from 'node:net';
import { createStrategy } from '../strategies';
import { ReplayGuard } from '../utils/auth';
import type { BalancerConfig } from './config';
import { createControlPlane, isControlPath } from './control-plane';
import { createLogger, type Logger } from './logger';
import { InactivityWatch } from './inactivity-watch';
import { createProxy } from './proxy';
import { createAccessLog } from './proxy/access-log';
import { fromIncomingMessage } from './proxy/client-types';
import { RetryBudget } from './proxy/retry-policy';
import { createUpgradeHandler } from './proxy/upgrade';
import { createRequestCheck } from './proxy/check-request';
import { parseUpgradeProtocols } from './proxy/upgrade-protocols';
import { clientAddress, TrustPolicy } from './proxy/forwarding';
import { sendProxyError } from './proxy/handle-failure';
import { controlForbidden } from './errors';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from './registry';
import { createRegistryBackend } from './registry-backend/choose';
import { UpstreamPool } from './upstream/pool';
import { createListener } from './listener';
import { createAdminServer, type AdminServer } from './admin';
import { WorkerAddressPolicy } from './worker-address';
import { createClientErrorHandler } from './listener/client-error';
import { GatewayStats } from './stats/gateway-stats';
import { defaultClientCap, FALLBACK_DESCRIPTOR_LIMIT, softDescriptorLimit } from './listener/descriptor-budget';
import { StatusSampler } from './stats/sampler';
import { buildStatus, type StatusInputs } from './stats/status';
import { packageVersion } from './package-files';
import { restoreRegistry } from './state/restore';
import { SNAPSHOT_FILE } from './state/state-dir';
import { lastSeenResolutionMs, SnapshotWriter } from './state/snapshot-writer';

export interface Balancer {
  /** The listening socket (see balancer/listener). */
  readonly server: Server;
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  /** The client connection cap in force (MAX_CLIENT_CONNECTIONS, or derived from the descriptor limit). */
  readonly limits: { maxClientConnections: number; descriptorLimit: number };
  /** The operator's listener (balancer/admin); undefined with ADMIN_PORT=off. */
  readonly admin: AdminServer | undefined;
  /** True from the moment close() began: /readyz answers 503 from then on. */
  readonly draining: boolean;
  /** Opens the gateway, then the admin listener; resolves with both bound ports (useful with PORT=0, ADMIN_PORT=0). */
  listen(): Promise<{ port: number; adminPort: number | undefined }>;
  /** Marks the balancer draining, stops accepting, lets in-flight requests finish, closes every worker pool, then the admin listener. */
  close(): Promise<void>;
}

/** What the process around the balancer provides: the entry point owns the exit, so POST /admin/drain asks it. */
export interface BalancerHooks {
  /** Called by POST /admin/drain; must end in close() and the process's exit, as SIGTERM does. Default: close(). */
  requestDrain?: (by: string) => void;
  /**
   * STATE_DIR, made ready by the entry point (balancer/state/state-dir.ts): listen() restores the
   * registry snapshot kept there, and every change is written back. Undefined: nothing survives a restart.
   */
  stateDir?: string;
}

export type BalancerOptions = Omit<BalancerConfig, 'REGISTRATION_SECRET'> & { REGISTRATION_SECRET: string };

/** Health settings from the environment: active checks and outlier detection are each off at 0. */
function healthOptions(config: BalancerOptions, lookup: WorkerAddressPolicy['lookup']): HealthOptions {
  return {
    active:
      config.HEALTH_CHECK_INTERVAL_MS > 0
        ? {
            path: config.HEALTH_CHECK_PATH,
            intervalMs: config.HEALTH_CHECK_INTERVAL_MS,
            timeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
            unhealthyThreshold: config.UNHEALTHY_THRESHOLD,
            healthyThreshold: config.HEALTHY_THRESHOLD,
            skipBusy: config.HEALTH_CHECK_SKIP_BUSY,
            lookup,
          }
        : undefined,
    outlier:
      config.OUTLIER_CONSECUTIVE_FAILURES > 0
        ? {
            consecutiveFailures: config.OUTLIER_CONSECUTIVE_FAILURES,
            baseEjectionMs: config.OUTLIER_BASE_EJECTION_MS,
            maxEjectionMs: config.OUTLIER_MAX_EJECTION_MS,
          }
        : undefined,
    panicThresholdPercent: config.PANIC_THRESHOLD_PERCENT,
    registrationTtlMs: config.REGISTRATION_TTL_MS,
    slowStartMs: config.SLOW_START_MS,
  };
}

/**
 * Wires the balancer: registry, strategy, control plane and data plane behind one HTTP server. The
 * server's request listener sends the three control paths to Express and everything else straight to
 * the proxy, so Express's router never runs per proxied request.
 */
export function createBalancer(config: BalancerOptions, log: Logger = createLogger(config.LOG_LEVEL), hooks: BalancerHooks = {}): Balancer {
  const now = Date.now;
  // The fleet-wide counters of /metrics: one object, counted into by every part below.
  const gatewayStats = new GatewayStats();
  const random = Math.random;
  const strategy = createStrategy<WorkerRecord>(config.STRATEGY, { random, now, hashKey: config.HASH_KEY });
  // Judges every address a worker's host stands for, at registration and on every connect to it.
  const addresses = new WorkerAddressPolicy(new TrustPolicy(config.WORKER_ALLOW));
  const poolOptions = {
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.RESPONSE_TIMEOUT_MS,
    idleTimeoutMs: config.IDLE_TIMEOUT_MS,
    maxConnections: config.WORKER_MAX_CONNECTIONS,
    keepAliveMs: config.UPSTREAM_KEEPALIVE_MS,
    watch: InactivityWatch.forLimits(config.CONNECT_TIMEOUT_MS, config.RESPONSE_TIMEOUT_MS, config.IDLE_TIMEOUT_MS),
    lookup: addresses.lookup,
  };
  const registry = new WorkerRegistry(
    strategy,
    (origin) => new UpstreamPool(origin, poolOptions),
    log,
    now,
    // `backend` is built below; the sweep first asks long after this returns.
    { ...healthOptions(config, addresses.lookup), mayExpire: () => backend.mayExpire() },
    gatewayStats,
  );
  const snapshotPath = hooks.stateDir === undefined ? undefined : join(hooks.stateDir, SNAPSHOT_FILE);
  const snapshots =
    snapshotPath === undefined ? undefined : new SnapshotWriter(snapshotPath, registry, log, now, lastSeenResolutionMs(config.REGISTRATION_TTL_MS));
  const backend = createRegistryBackend(config, registry, log, now);
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
  // Unique per process, so a request that comes back through this balancer is recognised (loop guard).
  const via = `1.1 lb-${randomBytes(4).toString('hex')}`;
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
    recordExchange: (worker, failed) => registry.recordExchange(worker, failed),
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
  let draining = false;
  // The windows of GET /status: sampled once a second while the admin listener is open.
  const sampler = new StatusSampler(registry, now);
  const status: StatusInputs = {
    workers: registry,
    sampler,
    config: { ...config, MAX_CLIENT_CONNECTIONS: maxClientConnections },
    version: packageVersion(),
    startedAt: now(),
    isReady: () => !draining,
  };
  const admin =
    config.ADMIN_PORT === 'off'
      ? undefined
      : createAdminServer({
          host: config.ADMIN_HOST,
          port: config.ADMIN_PORT,
          token: config.ADMIN_TOKEN,
          log,
          target: {
            isReady: () => !draining,
            drain: (by) => (hooks.requestDrain ? hooks.requestDrain(by) : void balancer.close()),
            status: { document: () => buildStatus(status, now()), maxStreams: config.ADMIN_MAX_STREAMS },
            registry,
            metrics: { registry, gateway: gatewayStats, slowStartMs: config.SLOW_START_MS, clientConnectionsOpen: () => listener.openConnections },
          },
        });

  const balancer: Balancer = {
    server,
    registry,
    log,
    limits: { maxClientConnections, descriptorLimit },
    admin,
    get draining() {
      return draining;
    },
    listen: async () => {
      // Redis (REDIS_URL) first: a snapshot restored after it adds only what the shared registry lacks.
      await backend.start();
      // Before the gateway accepts anything, so the workers known before a restart are served from the first request.
      if (snapshotPath !== undefined) {
        snapshots?.start();
        await restoreRegistry(snapshotPath, { registry, addresses, registrationTtlMs: config.REGISTRATION_TTL_MS, now, log });
      }
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
      const adminPort = await admin?.listen();
      if (admin !== undefined) sampler.start();
      return { port, adminPort };
    },
    close: async () => {
      // First, so /readyz answers 503 while the rest drains: an L4 balancer or Kubernetes stops sending.
      draining = true;
      // close() waits for every connection; keep-alive ones that go idle after their last response
      // would hold it open until their timeout, so they are closed as they appear.
      // Workers stay in rotation until every client connection has finished its exchange: a request
      // still uploading when the signal came (a PUT read whole before a worker is picked) is served.
      const reaper = setInterval(() => fallback.closeIdleConnections(), 100);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      listener.shutdown();
      fallback.closeIdleConnections();
      await closed;
      clearInterval(reaper);
      // Before the registry empties: the last snapshot holds every worker, as last seen.
      await snapshots?.close();
      await backend.close();
      await registry.close();
      fallback.close(() => {}); // stops node:http's connection checker; it never listened, so no error matters
      // Last, so /readyz keeps answering 503 for as long as anything is in flight.
      sampler.stop();
      await admin?.close();
    },
  };
  return balancer;
}
