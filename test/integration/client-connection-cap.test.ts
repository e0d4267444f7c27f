import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { defaultClientCap } from '../../balancer/listener/descriptor-budget';
import { FAST_PATH_MODES, startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';
import { startBalancerFronting } from '../helpers/registration';

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: cap.test\r\n\r\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the client connection cap at start', () => {
  let balancer: RunningProcess | undefined;
  afterEach(async () => {
    await balancer?.stop();
    balancer = undefined;
  });

  it('logs the cap it derived from the descriptor limit', async () => {
    balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' });
    const line = await waitFor(
      () =>
        balancer!
          .output()
          .split('\n')
          .find((l) => l.includes('"maxClientConnections"')),
      'the start line',
    );
    const logged = JSON.parse(line) as { maxClientConnections: number; descriptorLimit: number };
    expect(logged.descriptorLimit).toBeGreaterThan(0);
    expect(logged.maxClientConnections).toBe(defaultClientCap(logged.descriptorLimit));
  });

  it('logs a cap set with MAX_CLIENT_CONNECTIONS', async () => {
    balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', MAX_CLIENT_CONNECTIONS: '7' });
    await waitFor(() => balancer!.output().includes('"maxClientConnections":7'), 'the start line');
  });
});

describe.each(FAST_PATH_MODES)('at MAX_CLIENT_CONNECTIONS=3 (FAST_PATH=%s)', (fastPath) => {
  let balancer: RunningProcess;
  let close: () => void;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    const worker = createServer((req, res) => res.end(`answer to ${req.url}`));
    const wss = new WebSocketServer({ server: worker });
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    close = () => {
      wss.close();
      worker.closeAllConnections();
      worker.close();
    };
    balancer = await startBalancerFronting(`http://127.0.0.1:${(worker.address() as AddressInfo).port}`, 'cap', {
      FAST_PATH: fastPath,
      MAX_CLIENT_CONNECTIONS: '3',
    });
  });
  afterEach(async () => {
    // Each test starts with every slot free.
    for (const raw of sockets.splice(0)) raw.socket.destroy();
    await sleep(100);
  });
  afterAll(async () => {
    await balancer?.stop();
    close?.();
  });

  /** A connection that has had one answer and now waits, idle, for its next request. */
  async function idleConnection(name: string): Promise<RawSocket> {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write(get(`/${name}`));
    expect((await raw.answer()).body).toBe(`answer to /${name}`);
    return raw;
  }

  it('closes the oldest idle keep-alive connection to admit a new one', async () => {
    // Idle connections opened before these (the readiness probe's) are older still, so they go first.
    const a = await idleConnection('a');
    const b = await idleConnection('b');
    const c = await idleConnection('c');
    const d = await idleConnection('d');
    await a.whenClosed();
    expect([b.closed, c.closed, d.closed]).toEqual([false, false, false]);
    // The ones kept still serve.
    b.socket.write(get('/b-again'));
    expect((await b.answer()).body).toBe('answer to /b-again');
  });

  it('never closes an upgraded connection to make room, even one that served requests before it', async () => {
    const tunnel = await idleConnection('before-upgrade');
    tunnel.socket.write(
      'GET /ws HTTP/1.1\r\nHost: cap.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await waitFor(() => tunnel.rest.startsWith('HTTP/1.1 101 '), 'the 101');
    const x = await idleConnection('x');
    await idleConnection('y');
    await idleConnection('z');
    await x.whenClosed();
    expect(tunnel.closed).toBe(false);
  });

  it('refuses a new connection while every slot is busy, and admits one again once a slot frees', async () => {
    // A head under way is busy, not idle: nginx does not reuse such a connection either.
    const busy = [];
    for (let i = 0; i < 3; i++) {
      const raw = await RawSocket.open(balancer.port, sockets);
      raw.socket.write('GET /slow-head HTTP/1.1\r\n');
      busy.push(raw);
      await sleep(50);
    }
    const refused = await RawSocket.open(balancer.port, sockets);
    refused.socket.write(get('/refused'));
    await refused.whenClosed();
    expect(refused.received.length).toBe(0);
    // The busy ones are served when their heads complete.
    busy[0].socket.write('Host: cap.test\r\n\r\n');
    expect((await busy[0].answer()).body).toBe('answer to /slow-head');
    busy[1].socket.destroy();
    await busy[1].whenClosed();
    await sleep(100);
    const admitted = await idleConnection('admitted');
    expect(admitted.closed).toBe(false);
    expect(balancer.output()).toMatch(/client connection limit reached/);
  });
});
