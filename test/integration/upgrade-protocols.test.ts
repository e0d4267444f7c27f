import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * Only the protocols UPGRADE_PROTOCOLS lists (websocket by default) are upgraded to. Any other Upgrade
 * request is served as a plain request, so a worker's 101 for h2c can never open a tunnel in which
 * later requests skip the balancer (h2c smuggling); a worker's 101 the request did not ask for is refused.
 */

interface SeenRequest {
  conn: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface RawWorker {
  url: string;
  seen: SeenRequest[];
  /** Bytes a connection carried after the worker switched it to h2c: requests the balancer never read. */
  tunnelled: string[];
  close(): Promise<void>;
}

const SWITCH_TO_H2C = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

/**
 * A hand-written worker on 127.0.0.1 (node:net): it reads requests (Content-Length bodies), answers 101
 * Switching Protocols to h2c to any request that asks for h2c, and to every request for /always-101;
 * otherwise 200 with the path. After a 101 it answers nothing and records what the tunnel carries.
 */
async function startRawWorker(): Promise<RawWorker> {
  const sockets = new Set<Socket>();
  const worker: RawWorker = { url: '', seen: [], tunnelled: [], close: async () => {} };
  let connections = 0;
  const server: Server = createServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    let switched = false;
    socket.on('data', (chunk: Buffer) => {
      if (switched) return void worker.tunnelled.push(chunk.toString('latin1'));
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0 && !switched; end = buffered.indexOf('\r\n\r\n')) {
        const [requestLine, ...lines] = buffered.slice(0, end).split('\r\n');
        if (requestLine === '0') {
          // The end of an empty chunked upload (the only chunked body the tests send), read as a head of its own.
          buffered = buffered.slice(end + 4);
          continue;
        }
        const headers: Record<string, string> = {};
        for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const [method, path] = requestLine.split(' ');
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        worker.seen.push({ conn, method, path, headers, body });
        if (path === '/slow') {
          // Answers a little later, so a request pipelined behind it is read while this answer is pending.
          setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow'), 300);
        } else if (path === '/always-101' || /\bh2c\b/i.test(headers.upgrade ?? '')) {
          switched = true;
          socket.write(SWITCH_TO_H2C);
          if (buffered !== '') worker.tunnelled.push(buffered);
        } else {
          const answer = `plain ${method} ${path} ${body}`;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  worker.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  worker.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return worker;
}

/** One client connection to the balancer, read as raw bytes, so an answer can be awaited on it and then the next request sent. */
class RawClient {
  private readonly socket: Socket;
  private received = '';
  closed = false;
  private wake: (() => void) | undefined;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (c: string) => {
      this.received += c;
      this.wake?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The next whole response on this connection (Content-Length framed), or undefined when the connection closed first. */
  async response(): Promise<{ head: string; body: string } | undefined> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const end = this.received.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.received.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        // A 101 has no body: what follows it is the tunnel's.
        const bodyLength = head.startsWith('HTTP/1.1 101') ? 0 : length;
        if (this.received.length >= end + 4 + bodyLength) {
          const body = this.received.slice(end + 4, end + 4 + bodyLength);
          this.received = this.received.slice(end + 4 + bodyLength);
          return { head, body };
        }
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error(`no whole response within 10 s; received ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const h2cRequest = (method: string, path: string, body = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n` +
  (body === '' ? '' : `Content-Length: ${body.length}\r\n`) +
  `\r\n${body}`;

async function balancerFor(worker: RawWorker, env: Record<string, string> = {}): Promise<RunningProcess> {
  const balancer = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '0', ...env });
  expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'raw' })).status).toBe(201);
  return balancer;
}

describe('Upgrade to a protocol UPGRADE_PROTOCOLS does not list (the default: websocket only)', () => {
  let worker: RawWorker;
  let balancer: RunningProcess;
  const clients: RawClient[] = [];
  const client = () => {
    const c = new RawClient(balancer.port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    worker = await startRawWorker();
    balancer = await balancerFor(worker);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await balancer?.stop();
    await worker?.close();
  });

  /** Every request the worker saw came through the balancer (its forwarding headers on it), and nothing was tunnelled. */
  function expectNothingSkippedTheBalancer(): void {
    expect(worker.tunnelled).toEqual([]);
    for (const seen of worker.seen) {
      expect({ path: seen.path, via: seen.headers.via, xff: seen.headers['x-forwarded-for'] }).toEqual({
        path: seen.path,
        via: expect.stringMatching(/lb-/),
        xff: '127.0.0.1',
      });
    }
  }

  it.each([
    ['a GET', 'GET', ''],
    ['a POST with a body', 'POST', 'hello'],
  ])('is served as a plain request (%s), and the next request on that connection goes through the balancer', async (_what, method, body) => {
    const c = client();
    c.send(h2cRequest(method, `/first-${method}`, body));
    const first = await c.response();
    expect(first?.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(first?.body).toBe(`plain ${method} /first-${method} ${body}`);
    const forwarded = worker.seen.find((s) => s.path === `/first-${method}`)!;
    // What asked for the switch is gone: the worker saw a plain request, with its body.
    expect(forwarded.headers.upgrade).toBeUndefined();
    expect(forwarded.headers['http2-settings']).toBeUndefined();
    expect(forwarded.headers.connection ?? '').not.toMatch(/upgrade/i);
    expect(forwarded.body).toBe(body);

    // A smuggled request would ride a tunnel here. The connection stays an HTTP/1.1 one the balancer
    // reads: the next request is answered through it, with the forwarding headers on it at the worker.
    c.send(`GET /second-${method} HTTP/1.1\r\nHost: h2c.test\r\n\r\n`);
    const second = await c.response();
    expect(second?.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(second?.body).toBe(`plain GET /second-${method} `);
    expect(worker.seen.filter((s) => s.path === `/second-${method}`)).toHaveLength(1);
    expectNothingSkippedTheBalancer();
  });

  it('answers an h2c request pipelined behind a pending answer on a node:http connection, in order', async () => {
    // The chunked upload makes the listener hand the connection to node:http, which reads the second
    // request while the first answer is still pending.
    const c = client();
    c.send('POST /slow HTTP/1.1\r\nHost: h2c.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' + h2cRequest('GET', '/behind-slow'));
    const first = await c.response();
    const second = await c.response();
    expect([first?.body, second?.body]).toEqual(['slow', 'plain GET /behind-slow ']);
    c.send('GET /after-pipelined HTTP/1.1\r\nHost: h2c.test\r\n\r\n');
    expect((await c.response())?.body).toBe('plain GET /after-pipelined ');
    expectNothingSkippedTheBalancer();
  });

  it('refuses with 431 an h2c request with as many headers as node:http keeps, as node may have cut some', async () => {
    const c = client();
    // 1,200 headers: node:http keeps 1,000 of them (its parser's default), and drops the rest from rawHeaders.
    const filler = Array.from({ length: 1196 }, (_, i) => `x-${i}: 1\r\n`).join('');
    c.send(`POST /many-headers HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n${filler}Content-Length: 0\r\n\r\n`);
    const answer = await c.response();
    expect(answer?.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(worker.seen.filter((s) => s.path === '/many-headers')).toEqual([]);
  });

  it("refuses a worker's 101 to a plain request with 502, and opens no tunnel", async () => {
    const c = client();
    c.send(h2cRequest('GET', '/always-101'));
    const answer = await c.response();
    expect(answer?.head).toMatch(/^HTTP\/1\.1 502 /);
    c.send('GET /after-refused-101 HTTP/1.1\r\nHost: h2c.test\r\n\r\n');
    const next = await c.response();
    if (next !== undefined) expect(next.body).toBe('plain GET /after-refused-101 ');
    expectNothingSkippedTheBalancer();
  });

  it('refuses an allowed upgrade the data plane would refuse as a plain request (two Host headers): 400, never at the worker', async () => {
    const c = client();
    c.send(
      'GET /ws-two-hosts HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const answer = await c.response();
    expect(answer?.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(worker.seen.filter((s) => s.path === '/ws-two-hosts')).toEqual([]);
  });

  it('sends an allowed upgrade with an absolute-form target upstream in origin-form, with the target authority as Host', async () => {
    const c = client();
    c.send(
      'GET http://abs.test/ws-absolute HTTP/1.1\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    // The raw worker declines a websocket upgrade with a plain 200, relayed as an ordinary answer.
    expect((await c.response())?.head).toMatch(/^HTTP\/1\.1 200 /);
    const seen = worker.seen.find((s) => s.path === '/ws-absolute');
    expect(seen?.headers.host).toBe('abs.test');
  });

  it('forwards only the allowed protocol of a mixed offer, and refuses a 101 to a protocol not forwarded', async () => {
    const c = client();
    c.send(
      'GET /always-101 HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const answer = await c.response();
    expect(answer?.head).toMatch(/^HTTP\/1\.1 502 /);
    expect(worker.seen.filter((s) => s.path === '/always-101').pop()!.headers.upgrade).toBe('websocket');
    await waitFor(() => c.closed || undefined, 'the balancer to close the refused connection', 5000);
    expectNothingSkippedTheBalancer();
  });
});

describe('UPGRADE_PROTOCOLS=websocket,h2c', () => {
  let worker: RawWorker;
  let balancer: RunningProcess;

  beforeAll(async () => {
    worker = await startRawWorker();
    balancer = await balancerFor(worker, { UPGRADE_PROTOCOLS: 'websocket,h2c' });
  });
  afterAll(async () => {
    await balancer?.stop();
    await worker?.close();
  });

  it('upgrades to h2c when the operator lists it', async () => {
    const c = new RawClient(balancer.port);
    try {
      c.send(h2cRequest('GET', '/h2c'));
      const answer = await c.response();
      expect(answer?.head).toMatch(/^HTTP\/1\.1 101 /);
      expect(answer?.head).toMatch(/\r\nUpgrade: h2c/i);
      c.send('tunnelled bytes');
      await waitFor(() => worker.tunnelled.join('').includes('tunnelled bytes') || undefined, 'the bytes to reach the worker through the tunnel', 5000);
    } finally {
      c.destroy();
    }
  });
});
