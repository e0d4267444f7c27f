import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { strategyNames } from '../strategies';
import { DEFAULT_MAX_REQUEST_HEADERS } from './proxy/check-request';
import { TrustPolicy } from './proxy/forwarding';
import { isValidUpgradeSpec } from './proxy/upgrade-protocols';
import { boolean, host, logLevel, nonNegativeInt, port, positiveInt, positiveMs, type SettingsSpec, type SettingsOf, loadSettings } from '../utils/env';

/** Every variable the balancer reads, with its default: the single source of validation and of --help. */
export const balancerSettings = {
  PORT: { description: 'port the gateway listens on', default: '8080', accepts: 'an integer 0-65535', schema: port },
  HOST: { description: 'address the gateway binds', default: '0.0.0.0', accepts: 'an IP address or hostname', schema: host },
  REGISTRATION_SECRET: {
    description: 'shared HMAC secret workers sign registrations with; generated and printed when unset',
    accepts: 'a string of at least 16 characters',
    secret: true,
    schema: z.string().min(16).optional(),
  },
  STATE_DIR: {
    description:
      'directory (relative to the working directory) where the registry snapshot and a generated REGISTRATION_SECRET survive restarts; off keeps nothing',
    default: './state',
    accepts: 'a directory path, or off',
    schema: z.string().min(1),
  },
  PROCESSES: {
    description:
      'serving processes (node:cluster): with more than 1 a primary owns the registry, health checks and the admin listener, and each serving process proxies on PORT; auto: one per core Node reports',
    default: '1',
    accepts: 'a positive integer, or auto',
    schema: z.union([z.literal('auto'), positiveInt]),
  },
  STRATEGY: {
    description: `balancing strategy: ${strategyNames.join(', ')}`,
    default: 'round-robin',
    accepts: `one of ${strategyNames.join(', ')}`,
    schema: z.string().refine((s) => strategyNames.includes(s)),
  },
  HASH_KEY: {
    description: 'consistent-hash key: ip, header:<name> or cookie:<name>',
    default: 'ip',
    accepts: 'ip, header:<name> or cookie:<name>',
    schema: z.string().regex(/^(ip|header:[A-Za-z0-9-]+|cookie:[^\s=;]+)$/),
  },
  CONNECT_TIMEOUT_MS: {
    description: 'time to open a connection to a worker before 504',
    default: '5000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  RESPONSE_TIMEOUT_MS: { description: 'time to the first response byte before 504', default: '60000', accepts: 'a positive integer (ms)', schema: positiveMs },
  IDLE_TIMEOUT_MS: {
    description: 'longest silence inside a request or response body before it is cut',
    default: '60000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  WORKER_MAX_CONNECTIONS: {
    description: 'most keep-alive connections to one worker (0 = no limit); requests beyond it queue',
    default: '0',
    accepts: 'a non-negative integer',
    schema: nonNegativeInt,
  },
  UPSTREAM_KEEPALIVE_MS: {
    description: "how long an unused connection to a worker is kept; a worker's Keep-Alive: timeout=N hint shortens it to N-1 s",
    default: '4000',
    accepts: 'a non-negative integer (ms); 0 closes each connection after its response',
    schema: nonNegativeInt,
  },
  TRUST_PROXY: {
    description: 'comma-separated addresses/CIDRs whose X-Forwarded-* headers are kept and appended to; others are replaced',
    default: '',
    accepts: 'a comma-separated list of IPs or CIDRs, e.g. 10.0.0.0/8,127.0.0.1',
    schema: z.string().refine(isValidTrustSpec),
  },
  HEALTH_CHECK_PATH: {
    description: 'path probed on each worker by active health checks',
    default: '/healthz',
    accepts: 'a path starting with /',
    schema: z.string().regex(/^\//),
  },
  HEALTH_CHECK_INTERVAL_MS: {
    description: 'pause between two probes of one worker (0 disables active checks)',
    default: '1000',
    accepts: 'a non-negative integer (ms)',
    schema: nonNegativeInt,
  },
  HEALTH_CHECK_SKIP_BUSY: {
    description: 'skip the probe of a worker that answered proxied requests since the last one (traffic proves it alive)',
    default: 'true',
    accepts: 'true or false',
    schema: boolean,
  },
  HEALTH_CHECK_TIMEOUT_MS: { description: 'a probe slower than this fails', default: '1000', accepts: 'a positive integer (ms)', schema: positiveMs },
  UNHEALTHY_THRESHOLD: { description: 'consecutive failed probes that take a worker out', default: '2', accepts: 'a positive integer', schema: positiveInt },
  HEALTHY_THRESHOLD: { description: 'consecutive good probes that bring it back', default: '2', accepts: 'a positive integer', schema: positiveInt },
  OUTLIER_CONSECUTIVE_FAILURES: {
    description: 'consecutive 5xx or connection errors that eject a worker (0 disables)',
    default: '5',
    accepts: 'a non-negative integer',
    schema: nonNegativeInt,
  },
  OUTLIER_BASE_EJECTION_MS: {
    description: 'first ejection length; each repeat ejection lasts one more multiple',
    default: '10000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  OUTLIER_MAX_EJECTION_MS: { description: 'longest ejection', default: '300000', accepts: 'a positive integer (ms)', schema: positiveMs },
  PANIC_THRESHOLD_PERCENT: {
    description: 'below this share of healthy workers left un-ejected, ejections are ignored (panic mode)',
    default: '50',
    accepts: 'an integer 0-100',
    schema: z.coerce.number().int().min(0).max(100),
  },
  SLOW_START_MS: {
    description: 'a joining or recovering worker ramps its share up over this window (0 = off)',
    default: '0',
    accepts: 'a non-negative integer (ms)',
    schema: nonNegativeInt,
  },
  REGISTRATION_TTL_MS: {
    description: 'a worker silent for this long is dropped (0 = never); after a pause of the balancer, each gets this long again',
    default: '15000',
    accepts: 'a non-negative integer (ms)',
    schema: nonNegativeInt,
  },
  RETRY_ATTEMPTS: {
    description: 'extra tries on other workers for a failed idempotent request (0 = no retries)',
    default: '2',
    accepts: 'a non-negative integer',
    schema: nonNegativeInt,
  },
  RETRY_BUDGET_PERCENT: {
    description: 'retries allowed as a share of requests, beyond 10 per second',
    default: '20',
    accepts: 'an integer 0-100',
    schema: z.coerce.number().int().min(0).max(100),
  },
  RETRY_BODY_LIMIT_BYTES: {
    description: 'request bodies up to this size are kept so they can be replayed on a retry',
    default: '65536',
    accepts: 'a non-negative integer',
    schema: nonNegativeInt,
  },
  MAX_REQUEST_HEADERS: {
    description: 'a request with more header fields than this is refused with 431 (HAProxy and Apache allow 100)',
    default: String(DEFAULT_MAX_REQUEST_HEADERS),
    accepts: 'a positive integer',
    schema: positiveInt,
  },
  CONTROL_ALLOW: {
    description: 'comma-separated addresses/CIDRs allowed to use /workers, /register-worker and /deregister-worker (empty = everyone)',
    default: '',
    accepts: 'a comma-separated list of IPs or CIDRs, e.g. 10.0.0.0/8,127.0.0.1',
    schema: z.string().refine(isValidTrustSpec),
  },
  UPGRADE_PROTOCOLS: {
    description: 'protocols a client may switch to through an HTTP Upgrade; other Upgrade requests are served as plain requests',
    default: 'websocket',
    accepts: 'none, or a comma-separated list of protocol names, e.g. websocket or websocket,h2c',
    schema: z.string().refine(isValidUpgradeSpec),
  },
  WORKER_ALLOW: {
    description:
      'comma-separated addresses/CIDRs a worker may register at (every address its host resolves to must be inside; empty = any address except cloud metadata, link-local, multicast and unspecified ones)',
    default: '',
    accepts: 'a comma-separated list of IPs or CIDRs, e.g. 10.0.0.0/8,127.0.0.1',
    schema: z.string().refine(isValidTrustSpec),
  },
  FAST_PATH: {
    description: "read plain HTTP/1.1 requests with the balancer's own parser; off hands every connection to node:http (slower, for an incident)",
    default: 'on',
    accepts: 'on or off (or true/false)',
    schema: boolean,
  },
  MAX_CLIENT_CONNECTIONS: {
    description:
      'most open client connections; at the cap the oldest idle keep-alive ones are closed, then new ones refused. auto: (descriptor limit - 10 % reserve) / 2',
    default: 'auto',
    accepts: 'auto or a positive integer',
    schema: z.union([z.literal('auto'), positiveInt]),
  },
  HEADERS_TIMEOUT_MS: {
    description: 'longest time to receive one request head; a slower client is disconnected',
    default: '10000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  WEBSOCKET_IDLE_TIMEOUT_MS: {
    description: 'an upgraded connection (WebSocket) silent both ways for this long is closed (0 = never)',
    default: '60000',
    accepts: 'a non-negative integer (ms)',
    schema: nonNegativeInt,
  },
  ADMIN_PORT: {
    description: 'port of the admin listener (/healthz, /readyz, /admin/*), apart from the gateway; 0 picks a free one (logged), off starts none',
    default: '8404',
    accepts: 'an integer 0-65535, or off',
    schema: z.union([z.literal('off'), port]),
  },
  ADMIN_HOST: {
    description: 'address the admin listener binds; loopback by default, as it is meant for the operator only',
    default: '127.0.0.1',
    accepts: 'an IP address or hostname',
    schema: host,
  },
  ADMIN_TOKEN: {
    description: "bearer token for the admin listener's changing routes (Authorization: Bearer <token>); unset, they answer 403",
    accepts: 'at least 16 characters, none of them a space',
    secret: true,
    // No whitespace: the token travels as one Bearer credential (RFC 6750 section 2.1), which cannot hold a space.
    schema: z.string().min(16).regex(/^\S+$/).optional(),
  },
  ADMIN_MAX_STREAMS: {
    description: 'most GET /status/stream readers (the dashboard) at once on the admin listener; one more is answered 503',
    default: '32',
    accepts: 'a positive integer',
    schema: positiveInt,
  },
  ACCESS_LOG: {
    description:
      'json writes one line per proxied request to stdout (status, bytes, times, worker, attempts, X-Request-Id, and why the gateway answered or retried); off writes none',
    default: 'off',
    accepts: 'off or json',
    schema: z.enum(['off', 'json']),
  },
  LOG_LEVEL: { description: 'pino log level', default: 'info', accepts: 'fatal, error, warn, info, debug, trace or silent', schema: logLevel },
} satisfies SettingsSpec;

export type BalancerConfig = SettingsOf<typeof balancerSettings>;

/** PROCESSES as a count: auto is os.availableParallelism() (the cores this process may use). */
export function processCount(setting: BalancerConfig['PROCESSES']): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

export function loadBalancerConfig(env: NodeJS.ProcessEnv = process.env): BalancerConfig {
  return loadSettings(balancerSettings, env);
}

function isValidTrustSpec(spec: string): boolean {
  try {
    new TrustPolicy(spec);
    return true;
  } catch {
    return false;
  }
}
