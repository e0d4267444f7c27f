import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger';
import { dashboardDir } from '../package-files';
import { sendError } from './answers';
import type { AdminRoute } from './router';

/** What the page loads besides itself, by file extension (RFC 9239 for JavaScript). */
const ASSET_TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

/** The page's files, read once at start from the folder dashboardDir() finds; undefined if there is none. */
interface DashboardFiles {
  readonly page: string;
  /** file name -> [content type, body] */
  readonly assets: ReadonlyMap<string, readonly [string, string]>;
}

function readDashboard(dir: string | undefined): DashboardFiles | undefined {
  if (dir === undefined) return undefined;
  try {
    const assets = new Map<string, readonly [string, string]>();
    for (const file of readdirSync(dir)) {
      const type = ASSET_TYPES[extname(file)];
      if (type !== undefined) assets.set(file, [type, readFileSync(join(dir, file), 'utf8')]);
    }
    return { page: readFileSync(join(dir, 'index.html'), 'utf8'), assets };
  } catch {
    return undefined;
  }
}

/**
 * The page's Content-Security-Policy: nothing by default; scripts only from this listener (the page's
 * modules, no inline script); its one inline style block by its hash (a CSP Level 3 hash-source), so no
 * injected style applies either; EventSource and fetch to this origin only; never framed (clickjacking the drain button).
 */
export function dashboardPolicy(page: string): string {
  const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styles.join(' ') || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const COMMON = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

function send(res: ServerResponse, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...COMMON, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * GET /dashboard and what it loads: its ES modules (/dashboard/*.js) and its icon. The files are plain
 * JavaScript from the repository's dashboard/ folder, served as they are: no build, no CDN. Missing
 * (an image built without them), the page answers 503 saying so and the balancer runs on.
 */
export function dashboardRoutes(log: Logger): AdminRoute[] {
  const dir = dashboardDir();
  const files = readDashboard(dir);
  if (files === undefined) {
    log.warn({ dir }, 'dashboard files not found: GET /dashboard answers 503');
    const message = 'the dashboard files (dashboard/index.html) are not in this installation';
    return [{ method: 'GET', path: '/dashboard', changes: false, handle: (_req, res) => sendError(res, 503, 'dashboard_missing', message) }];
  }
  const policy = dashboardPolicy(files.page);
  const page: AdminRoute = {
    method: 'GET',
    path: '/dashboard',
    changes: false,
    handle: (_req, res) => send(res, 'text/html; charset=utf-8', files.page, { 'content-security-policy': policy, 'x-frame-options': 'DENY' }),
  };
  const assets = [...files.assets].map(([file, [type, body]]): AdminRoute => ({
    method: 'GET',
    path: `/dashboard/${file}`,
    changes: false,
    handle: (_req, res) => send(res, type, body),
  }));
  return [page, ...assets];
}
