import { z } from 'zod';
import { strategyNames } from '../strategies';
import { host, logLevel, nonNegativeInt, port, positiveMs, type SettingsSpec, type SettingsOf, loadSettings } from '../utils/env';

/** Every variable the balancer reads, with its default: the single source of validation and of --help. */
export const balancerSettings = {
  PORT: { description: 'port the gateway listens on', default: '8080', accepts: 'an integer 0-65535', schema: port },
  HOST: { description: 'address the gateway binds', default: '0.0.0.0', accepts: 'an IP address or hostname', schema: host },
  REGISTRATION_SECRET: {
    description: 'shared HMAC secret workers sign registrations with; generated and printed when unset',
    accepts: 'a string of at least 16 characters',
    schema: z.string().min(16).optional(),
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
  CONNECT_TIMEOUT_MS: { description: 'time to open a connection to a worker before 502', default: '5000', accepts: 'a positive integer (ms)', schema: positiveMs },
  RESPONSE_TIMEOUT_MS: { description: 'time to the first response byte before 504', default: '60000', accepts: 'a positive integer (ms)', schema: positiveMs },
  IDLE_TIMEOUT_MS: { description: 'longest silence inside a response body before it is cut', default: '60000', accepts: 'a positive integer (ms)', schema: positiveMs },
  WORKER_MAX_CONNECTIONS: {
    description: 'most keep-alive connections to one worker (0 = no limit); requests beyond it queue',
    default: '0',
    accepts: 'a non-negative integer',
    schema: nonNegativeInt,
  },
  TRUST_PROXY: {
    description: 'comma-separated addresses/CIDRs whose X-Forwarded-* headers are kept and appended to; others are replaced',
    default: '',
    accepts: 'a comma-separated list of IPs or CIDRs, e.g. 10.0.0.0/8,127.0.0.1',
    schema: z.string().refine((s) => s.split(',').every((p) => p.trim() === '' || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p.trim()))),
  },
  LOG_LEVEL: { description: 'pino log level', default: 'info', accepts: 'fatal, error, warn, info, debug, trace or silent', schema: logLevel },
} satisfies SettingsSpec;

export type BalancerConfig = SettingsOf<typeof balancerSettings>;

export function loadBalancerConfig(env: NodeJS.ProcessEnv = process.env): BalancerConfig {
  return loadSettings(balancerSettings, env);
}
