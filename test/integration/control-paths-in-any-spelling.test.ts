import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { RunningProcess } from '../helpers/processes';
import { sendRaw } from '../helpers/raw-http';
import { startBalancerFronting } from '../helpers/registration';

/**
 * The balancer answers its control paths itself in every spelling an Express worker would route to
 * its own route of that name (Express 5's router: case-insensitive, one optional trailing slash,
 * query and fragment cut off, absolute-form by its path), so no such request reaches a worker. The
 * reference is a real Express app, asked directly; spellings it does not route are proxied as usual.
 */
const SPELLINGS = [
  '/workers',
  '/Workers',
  '/WORKERS',
  '/workers/',
  '/WorKers/',
  '/workers?x=1',
  '/workers/?x',
  '/workers#frag',
  '/workers/#f',
  '/register-worker',
  '/Register-Worker/',
  '/DEREGISTER-WORKER',
  '/deregister-worker/?a=b',
  '/workers//',
  '//workers',
  '/%77orkers',
  '/workers%2F',
  '/workers.',
  '/workers;x',
  '/./workers',
  '/a/../workers',
  '/workersx',
  '/worker',
  '/workers/x',
  '/registerworker',
  '/',
  '/x/workers',
  'http://x/workers',
  'http://x/Workers/',
  'HTTP://x/workers?y',
  'http://x//workers',
  'https://x/register-worker',
  'http://x/workersx',
];

const ROUTED = 'worker route';

describe('control paths in any spelling Express would route', () => {
  let worker: Server;
  let workerPort: number;
  let balancer: RunningProcess;

  beforeAll(async () => {
    const app = express();
    app.all(['/workers', '/register-worker', '/deregister-worker'], (_req, res) => void res.send(ROUTED));
    app.use((_req, res) => void res.status(404).send('worker 404'));
    worker = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => worker.once('listening', () => resolve()));
    workerPort = (worker.address() as AddressInfo).port;
    balancer = await startBalancerFronting(`http://127.0.0.1:${workerPort}`, 'express');
  });
  afterAll(async () => {
    await balancer?.stop();
    await new Promise((resolve) => worker?.close(resolve));
  });

  const get = (port: number, target: string, version = '1.1') => sendRaw(port, `GET ${target} HTTP/${version}\r\nHost: x\r\n\r\n`);

  it.each(['/Workers', '/workers/', '/WORKERS'])('answers GET %s itself with the worker list', async (target) => {
    const res = await get(balancer.port, target);
    expect(res?.status).toBe(200);
    expect(JSON.parse(res!.body)).toEqual([`http://127.0.0.1:${workerPort}`]);
  });

  it.each(SPELLINGS)('answers %s itself exactly when Express would route it to a control route', async (target) => {
    const direct = await get(workerPort, target);
    const routedByExpress = direct?.body === ROUTED;
    // HTTP/1.1 origin-form is read by the listener; HTTP/1.0 and absolute-form by node:http.
    for (const version of ['1.1', '1.0']) {
      const res = await get(balancer.port, target, version);
      const fromWorker = res?.body.startsWith('worker') === true;
      expect({ target, version, answeredByBalancer: !fromWorker }).toEqual({ target, version, answeredByBalancer: routedByExpress });
    }
  });

  it('answers a wrong method on a control path in another spelling with 405 and Allow', async () => {
    const res = await sendRaw(balancer.port, 'DELETE /Workers/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res?.status).toBe(405);
    expect(res?.headers.allow).toBe('GET, HEAD');
  });
});
