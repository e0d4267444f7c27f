import { hostname } from 'node:os';
import { z } from 'zod';
import { host, httpUrl, logLevel, nonNegativeInt, port, positiveMs, type SettingsOf, type SettingsSpec, loadSettings, ConfigError } from '../utils/env';

/** Every variable the worker reads, with its default: the single source of validation and of --help. */
export const workerSettings = {
  PORT: { description: 'port the worker listens on', default: '8080', accepts: 'an integer 0-65535', schema: port },
  HOST: { description: 'address the worker binds', default: '0.0.0.0', accepts: 'an IP address or hostname', schema: host },
  NAME: { description: 'name shown in responses and logs', default: hostname(), accepts: 'a non-empty string', schema: z.string().min(1).max(128) },
  LOAD_BALANCER_REGISTER: {
    description: "the balancer's address, e.g. http://balancer:8080 (/register-worker is appended); unset runs the worker stand-alone",
    accepts: 'an http(s) URL with no path, or one whose path ends in /register-worker, e.g. http://balancer:8080',
    schema: httpUrl.transform(registerUrl).pipe(z.string()).optional(),
  },
  REGISTRATION_SECRET: {
    description: 'shared HMAC secret (the balancer prints it if it generated one); required with LOAD_BALANCER_REGISTER',
    accepts: 'a string of at least 16 characters',
    secret: true,
    schema: z.string().min(16).optional(),
  },
  WORKER_URL: {
    description: 'address to advertise; default: http://HOST:PORT if HOST is concrete, else the first non-internal IPv4',
    accepts: 'an http(s) URL with no path, e.g. http://192.0.2.5:8080',
    schema: httpUrl.optional(),
  },
  WORKER_WEIGHT: {
    description: 'relative share for weighted strategies',
    default: '1',
    accepts: 'an integer 1-1000',
    schema: z.coerce.number().int().min(1).max(1000),
  },
  WORKER_DELAY_MS: {
    description: "how long GET / waits before answering (the seed's one second)",
    default: '1000',
    accepts: 'a non-negative integer (ms)',
    schema: nonNegativeInt,
  },
  HEARTBEAT_INTERVAL_MS: {
    description: 'how often the worker re-registers once registered',
    default: '5000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  SHUTDOWN_TIMEOUT_MS: {
    description: 'longest wait for in-flight requests on SIGTERM before exiting anyway',
    default: '10000',
    accepts: 'a positive integer (ms)',
    schema: positiveMs,
  },
  LOG_LEVEL: { description: 'pino log level', default: 'info', accepts: 'fatal, error, warn, info, debug, trace or silent', schema: logLevel },
} satisfies SettingsSpec;

/**
 * A base URL gets the balancer's /register-worker; a path ending in it is kept (a balancer behind a
 * path prefix); any other path is refused, because a POST to it would reach whatever the balancer
 * proxies there (another worker, whose 200 would look like a registration).
 */
function registerUrl(raw: string, ctx: z.RefinementCtx): string {
  const url = new URL(raw);
  if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'no query or fragment' });
  else if (url.pathname === '/') return `${url.origin}/register-worker`;
  else if (!url.pathname.endsWith('/register-worker')) ctx.addIssue({ code: 'custom', message: 'path must be empty or end in /register-worker' });
  return url.toString();
}

export type WorkerConfig = SettingsOf<typeof workerSettings>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const config = loadSettings(workerSettings, env);
  if (config.LOAD_BALANCER_REGISTER && !config.REGISTRATION_SECRET) {
    throw new ConfigError(['REGISTRATION_SECRET=(unset): expected a string of at least 16 characters (required when LOAD_BALANCER_REGISTER is set)']);
  }
  return config;
}
