import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { FAST_PATH_MODES, waitFor, type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';
import { startBalancerFronting } from '../helpers/registration';

/**
 * A worker that counts how many requests it holds at once. /count/<n> answers `n` after a short
 * pause (so requests dispatched together overlap); /hold/<n> answers only when the test lets it.
 */
async function startCountingWorker() {
  let current = 0;
  const state = { max: 0, seen: [] as string[], held: [] as ServerResponse[], calledOff: 0 };
  const server = createServer((req, res) => {
    state.seen.push(req.url!);
    current++;
    state.max = Math.max(state.max, current);
    res.on('close', () => {
      current--;
      if (!res.writableFinished) state.calledOff++;
    });
    if (req.url!.startsWith('/hold/')) return void state.held.push(res);
    setTimeout(() => res.end(req.url!.slice('/count/'.length)), 20);
  });
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    reset: () => Object.assign(state, { max: 0, seen: [], held: [], calledOff: 0 }),
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: pipelining.test\r\n\r\n`;
const upgrade = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: pipelining.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// GET /workers (a control path) sends the connection to node:http on the fast path; with FAST_PATH=off
// it is there from the start. Either way the requests pipelined behind it are node:http's to serve.
describe.each(FAST_PATH_MODES)('pipelined requests on a connection node:http serves (FAST_PATH=%s)', (fastPath) => {
  let worker: Awaited<ReturnType<typeof startCountingWorker>>;
  let balancer: RunningProcess;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    worker = await startCountingWorker();
    balancer = await startBalancerFronting(worker.url, 'counting', { FAST_PATH: fastPath });
  });
  beforeEach(() => worker.reset());
  afterAll(async () => {
    for (const raw of sockets) raw.socket.destroy();
    await balancer?.stop();
    await worker?.close();
  });

  it('are sent to the worker one at a time and answered in order', async () => {
    const n = 30;
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write(get('/workers') + Array.from({ length: n }, (_, i) => get(`/count/${i}`)).join(''));
    expect((await raw.answer()).status).toBe(200);
    const bodies: string[] = [];
    for (let i = 0; i < n; i++) bodies.push((await raw.answer()).body);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(worker.state.max).toBe(1);
    expect(worker.state.seen).toHaveLength(n);
  });

  it('switches protocols only after answering the request pipelined before the upgrade', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write(get('/workers') + get('/count/7') + upgrade('/ws'));
    expect((await raw.answer()).status).toBe(200);
    expect((await raw.answer()).body).toBe('7');
    await waitFor(() => raw.rest.startsWith('HTTP/1.1 101 '), 'the 101 after the answer');
  });

  it('never sends the worker what a client that left had queued', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write(get('/workers') + Array.from({ length: 50 }, (_, i) => get(`/hold/${i}`)).join(''));
    await waitFor(() => worker.state.seen.length > 0, 'the first held request at the worker');
    // A reset, not a FIN: a FIN alone is a half-close, whose requests are still answered (half-close.test.ts).
    raw.socket.resetAndDestroy();
    // The exchange in flight is called off (the worker sees its response closed); nothing queued follows it.
    await waitFor(() => worker.state.calledOff === 1, 'the held request to be called off');
    await sleep(300);
    expect(worker.state.seen).toEqual(['/hold/0']);
  });
});
