import { createHash } from 'node:crypto';
import { startBalancer, type RunningProcess } from '../helpers/processes';

/**
 * GET /dashboard as served: one page from the admin listener that loads nothing from anywhere else, under
 * a Content-Security-Policy that allows only this origin's scripts and the page's own style block.
 */
let balancer: RunningProcess & { adminUrl(): Promise<string> };
let admin: string;
beforeAll(async () => {
  balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' });
  admin = await balancer.adminUrl();
});
afterAll(() => balancer?.stop());

describe('GET /dashboard', () => {
  it('serves the page with a policy of self-only scripts and its one style block by hash, never framed', async () => {
    const res = await fetch(`${admin}/dashboard`);
    const page = await res.text();
    expect([res.status, res.headers.get('content-type'), res.headers.get('set-cookie')]).toEqual([200, 'text/html; charset=utf-8', null]);
    const policy = res.headers.get('content-security-policy')!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1];
    const hash = createHash('sha256').update(style).digest('base64');
    expect(policy.split('; ')).toEqual([
      "default-src 'none'",
      "script-src 'self'",
      `style-src 'sha256-${hash}'`,
      "connect-src 'self'",
      "img-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page).not.toMatch(/<script>|\son\w+=/); // no inline script, no inline handler
  });

  it('loads only files of its own listener, each module it imports included', async () => {
    const page = await (await fetch(`${admin}/dashboard`)).text();
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual(['/dashboard/favicon.svg', '/dashboard/main.js']);
    const seen = new Set<string>();
    const queue = ['/dashboard/main.js'];
    while (queue.length > 0) {
      const path = queue.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await fetch(`${admin}${path}`);
      const text = await res.text();
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, 'text/javascript; charset=utf-8']);
      for (const m of text.matchAll(/^import .* from '\.\/([\w-]+\.js)';$/gm)) queue.push(`/dashboard/${m[1]}`);
    }
    expect([...seen].sort()).toEqual(['chart', 'controls', 'dom', 'format', 'history', 'main', 'rows', 'summary'].map((m) => `/dashboard/${m}.js`));
    expect((await fetch(`${admin}/dashboard/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
  });
});
