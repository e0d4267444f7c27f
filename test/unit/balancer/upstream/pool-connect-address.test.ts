import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExchangeHandler } from '../../../../balancer/upstream/connection';
import { UpstreamPool } from '../../../../balancer/upstream/pool';
import { TrustPolicy } from '../../../../balancer/proxy/forwarding';
import { WorkerAddressPolicy } from '../../../../balancer/worker-address';

/**
 * DNS rebinding: a worker registered by a name that resolved to an ordinary address, and later
 * resolves to the metadata service. The pool judges the addresses on each connect and connects to
 * exactly the ones it judged, so the second connection is refused before any socket is opened.
 */
function exchange(pool: UpstreamPool): Promise<{ status?: number; host?: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    const handler: ExchangeHandler = {
      rescuable: false,
      onConnect: () => {},
      onHeaders: (code) => ((status = code), true),
      onData: () => true,
      flushHeaders: () => {},
      onComplete: () => resolve({ status }),
      onError: (error) => resolve({ error }),
    };
    pool.dispatch({ method: 'GET', path: '/', headers: [], body: null, chunked: false }, handler);
  });
}

describe('UpstreamPool connect with a WorkerAddressPolicy lookup', () => {
  let server: Server;
  let port: number;
  const hosts: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('connects to the address it checked, and refuses the name once it points at a forbidden one', async () => {
    const answers = [['127.0.0.1'], ['169.254.169.254']];
    const resolved: string[][] = [];
    const policy = new WorkerAddressPolicy(new TrustPolicy(''), (name) => {
      const next = answers.shift() ?? [];
      resolved.push(next);
      return name === 'rebinding.test' ? Promise.resolve(next) : Promise.reject(new Error('unexpected name'));
    });
    // keepAliveMs 0: every exchange opens its own connection, so each one resolves again.
    const pool = new UpstreamPool(`http://rebinding.test:${port}`, {
      connectTimeoutMs: 2000,
      responseTimeoutMs: 2000,
      idleTimeoutMs: 2000,
      maxConnections: 0,
      keepAliveMs: 0,
      lookup: policy.lookup,
    });
    try {
      expect(await exchange(pool)).toEqual({ status: 200 });
      expect(hosts).toEqual([`rebinding.test:${port}`]);
      const second = await exchange(pool);
      expect(second.error).toMatchObject({ code: 'WORKER_ADDRESS_REFUSED' });
      expect(hosts).toHaveLength(1);
      expect(resolved).toEqual([['127.0.0.1'], ['169.254.169.254']]);
    } finally {
      await pool.close();
    }
  });
});
