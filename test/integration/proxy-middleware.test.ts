import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { proxyMiddleware } from '../../balancer/proxy';
import { TrustPolicy } from '../../balancer/proxy/forwarding';
import { WorkerRegistry, type WorkerRecord } from '../../balancer/registry';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { RoundRobin } from '../../strategies/round-robin';
import { startEchoServer } from '../helpers/registration';

/** The data plane embedded in someone else's Express app, in front of two real upstreams on 127.0.0.1. */
describe('proxyMiddleware', () => {
  let app: Server;
  let url: string;
  let echoes: Awaited<ReturnType<typeof startEchoServer>>[];
  let registry: WorkerRegistry;

  beforeAll(async () => {
    echoes = [await startEchoServer(), await startEchoServer()];
    const strategy = new RoundRobin<WorkerRecord>();
    const log = pino({ level: 'silent' });
    const pool = { connectTimeoutMs: 2000, responseTimeoutMs: 5000, idleTimeoutMs: 5000, maxConnections: 0 };
    registry = new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pool), log);
    echoes.forEach((e, i) => registry.register({ url: e.url, name: `echo-${i}`, weight: 1 }));
    const host = express();
    host.get('/own', (_req, res) => res.send('the host app answered'));
    host.use('/api', proxyMiddleware({ strategy, trust: new TrustPolicy(''), log }));
    await new Promise<void>((resolve) => {
      app = host.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    app?.closeAllConnections();
    app?.close();
    await registry?.close();
    for (const e of echoes ?? []) await e.close();
  });

  it('proxies what it is mounted on, round robin, and leaves the host app its own routes', async () => {
    expect(await (await fetch(`${url}/own`)).text()).toBe('the host app answered');
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/api/items?n=${i}`, { method: 'POST', body: `body-${i}` });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`body-${i}`);
    }
    // Express strips the mount path; the upstreams saw /items, two requests each.
    expect(echoes.map((e) => e.seen.map((s) => s.url))).toEqual([
      ['/items?n=0', '/items?n=2'],
      ['/items?n=1', '/items?n=3'],
    ]);
  });
});
