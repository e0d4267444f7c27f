import type { BalancerConfig } from '../config';

/**
 * The settings /status shows, under their environment names: those that decide where a request goes,
 * how long it may take, when it is retried and when a worker leaves or rejoins the rotation. An explicit
 * list, so a secret (REGISTRATION_SECRET, ADMIN_TOKEN) can never be added by accident; the address lists
 * (TRUST_PROXY, CONTROL_ALLOW, WORKER_ALLOW) say who may talk, not how traffic flows, and stay out too.
 */
export const TRAFFIC_SETTINGS = [
  'STRATEGY',
  'HASH_KEY',
  'SLOW_START_MS',
  'RETRY_ATTEMPTS',
  'RETRY_BUDGET_PERCENT',
  'RETRY_BODY_LIMIT_BYTES',
  'CONNECT_TIMEOUT_MS',
  'RESPONSE_TIMEOUT_MS',
  'IDLE_TIMEOUT_MS',
  'HEADERS_TIMEOUT_MS',
  'WEBSOCKET_IDLE_TIMEOUT_MS',
  'WORKER_MAX_CONNECTIONS',
  'UPSTREAM_KEEPALIVE_MS',
  'MAX_CLIENT_CONNECTIONS',
  'MAX_REQUEST_HEADERS',
  'HEALTH_CHECK_PATH',
  'HEALTH_CHECK_INTERVAL_MS',
  'HEALTH_CHECK_TIMEOUT_MS',
  'HEALTH_CHECK_SKIP_BUSY',
  'UNHEALTHY_THRESHOLD',
  'HEALTHY_THRESHOLD',
  'OUTLIER_CONSECUTIVE_FAILURES',
  'OUTLIER_BASE_EJECTION_MS',
  'OUTLIER_MAX_EJECTION_MS',
  'PANIC_THRESHOLD_PERCENT',
  'REGISTRATION_TTL_MS',
  'UPGRADE_PROTOCOLS',
  'FAST_PATH',
] as const satisfies readonly (keyof BalancerConfig)[];

export type TrafficSettingName = (typeof TRAFFIC_SETTINGS)[number];
/** The configuration as /status reads it; MAX_CLIENT_CONNECTIONS is the cap in force (auto resolved). */
export type TrafficConfig = Omit<Pick<BalancerConfig, TrafficSettingName>, 'MAX_CLIENT_CONNECTIONS'> & { MAX_CLIENT_CONNECTIONS: number };

export function trafficSettings(config: TrafficConfig): Record<TrafficSettingName, string | number | boolean> {
  return Object.fromEntries(TRAFFIC_SETTINGS.map((name) => [name, config[name]])) as Record<TrafficSettingName, string | number | boolean>;
}
