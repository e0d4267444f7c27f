import { request } from 'node:http';
import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';

/** GET /status with a Host header of our choosing (fetch does not let a caller set Host). */
function statusWithHost(adminUrl: string, host: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(adminUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: '/status', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin listener on loopback refuses a Host that DNS rebinding could forge', () => {
  let balancer: RunningProcess & { adminUrl(): Promise<string> };
  let admin: string;
  beforeAll(async () => {
    balancer = await startBalancer({ ADMIN_HOST: '127.0.0.1', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' });
    admin = await balancer.adminUrl();
  });
  afterAll(() => balancer.stop());

  it.each(['127.0.0.1:8404', 'localhost:8404', 'LOCALHOST', '[::1]:8404', '192.0.2.7'])('answers Host %s', async (host) => {
    expect((await statusWithHost(admin, host)).status).toBe(200);
  });

  it.each(['rebind.example:8404', 'attacker.test', '127.0.0.1.nip.io', 'localhost.attacker.test'])(
    'refuses Host %s with 403 host_not_allowed and one log line',
    async (host) => {
      const answer = await statusWithHost(admin, host);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'host_not_allowed' });
      // The line travels through the child's stdout pipe, which may deliver it after the answer.
      await waitFor(() => balancer.output().includes('admin request refused: Host is not an IP address or localhost') || undefined, 'the refusal line');
    },
  );
});
