import { startBalancer, waitFor, type RunningProcess } from './processes';

/** A token for tests of the changing admin routes; tests assert it never reaches the output. */
export const ADMIN_TEST_TOKEN = 'admin-token-0123456789abcdef-do-not-print';

export type AdminBalancer = RunningProcess & { adminUrl(): Promise<string> };

/** A balancer with its admin listener on a free port, the test token set and health checks off (info logs, for the admin port and audit lines). */
export async function startAdminBalancer(env: Record<string, string> = {}): Promise<{ proc: AdminBalancer; admin: string }> {
  const proc = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', ADMIN_TOKEN: ADMIN_TEST_TOKEN, ...env });
  return { proc, admin: await proc.adminUrl() };
}

/** One admin call with the test token (or `token`), answering status and JSON body. */
export async function adminCall(
  admin: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: string; contentType?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = options.token === undefined ? ADMIN_TEST_TOKEN : options.token;
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${admin}${path}`, { method, headers, body: options.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The admin path of a worker action: `/admin/workers/<URL or name, percent-encoded><suffix>`. */
export const workerPath = (worker: string, suffix = '') => `/admin/workers/${encodeURIComponent(worker)}${suffix}`;

export interface DetailedWorker {
  url: string;
  name: string;
  weight: number;
  registeredWeight: number;
  weightOverride: number | null;
  inflight: number;
  inRotation: boolean;
  lastSeenMsAgo: number;
  drain: { since: string; by: string } | null;
  leaving: boolean;
}

/** GET /workers?details=1 on the public port. */
export async function details(proc: { url: string }): Promise<DetailedWorker[]> {
  return ((await (await fetch(`${proc.url}/workers?details=1`)).json()) as { workers: DetailedWorker[] }).workers;
}

/** Resolves once the worker at `url` has re-registered (a heartbeat) after `since` (ms epoch, this machine's clock). */
export function heartbeatAfter(proc: { url: string }, url: string, since: number): Promise<DetailedWorker> {
  return waitFor(async () => {
    // Read before asking: the balancer's clock was at least this when it measured lastSeenMsAgo.
    const asked = Date.now();
    const w = (await details(proc)).find((d) => d.url === url && !d.leaving);
    return w !== undefined && asked - w.lastSeenMsAgo > since ? w : undefined;
  }, `a heartbeat from ${url}`);
}

/** The balancer's audit lines, parsed. */
export function auditLines(proc: RunningProcess): Record<string, unknown>[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.includes('"admin change"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
