import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { FAST_PATH_MODES, startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost, startBalancerFronting } from '../helpers/registration';

/**
 * Defects found reviewing the listener (balancer/listener), the own upstream client (balancer/upstream)
 * and their wiring. Each test is one behaviour, against the real balancer process on 127.0.0.1.
 */

const MB = 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

const listenLocal = (server: Server | NetServer) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const urlOf = (server: Server | NetServer) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw socket to the balancer that records everything it receives and when it closes. */
class Raw {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;

  private constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1' });
    this.socket.on('data', (c: Buffer) => (this.received = Buffer.concat([this.received, c])));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
  }

  static open(port: number): Promise<Raw> {
    const raw = new Raw(port);
    opened.push(raw);
    return new Promise((resolve, reject) => {
      raw.socket.once('connect', () => resolve(raw));
      raw.socket.once('error', reject);
    });
  }

  get text(): string {
    return this.received.toString('latin1');
  }
}
const opened: Raw[] = [];

/** Reads one Content-Length-framed response from the front of `buf` (the only framing these tests need). */
function takeResponse(buf: Buffer): { status: number; headers: Record<string, string>; body: string; rest: Buffer } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.toString('latin1', 0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: buf.toString('latin1', end + 4, end + 4 + length),
    rest: buf.subarray(end + 4 + length),
  };
}

afterAll(() => {
  for (const raw of opened) raw.socket.destroy();
});

// Each wire behaviour holds whichever reader serves the connection: the listener's own or node:http's.
describe.each(FAST_PATH_MODES)('FAST_PATH=%s', (fastPath) => {
  describe('listener review: synchronous answers to pipelined requests', () => {
    let balancer: RunningProcess;

    beforeAll(async () => {
      // No worker registered: every data-plane request is answered 503 by the balancer itself, synchronously.
      balancer = await startBalancer({ FAST_PATH: fastPath, HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0' });
    });
    afterAll(async () => {
      await balancer?.stop();
    });

    it('answers 3000 pipelined GETs with 3000 503s and stays up (no recursion per pipelined request)', async () => {
      const count = 3000;
      const client = await Raw.open(balancer.port);
      // 25 bytes each, 75 KB in one write: each 503 is written from inside the previous one's end().
      client.socket.write('GET / HTTP/1.1\r\nHost:\r\n\r\n'.repeat(count));
      const answered = () => client.text.split('HTTP/1.1 503 ').length - 1;
      await waitFor(() => answered() >= count || client.closed || balancer.child.exitCode !== null, 'all 503s or the end of the connection', 15_000);
      // Give a crash time to surface before looking.
      await sleep(200);
      expect(balancer.child.exitCode).toBeNull();
      expect(balancer.output()).not.toMatch(/Maximum call stack size exceeded/);
      expect(answered()).toBe(count);
    });
  });

  describe('listener review: request framing to the worker', () => {
    let balancer: RunningProcess;
    let upstream: Server;
    const seen: { method: string; url: string; bytes: number; headers: Record<string, unknown> }[] = [];

    beforeAll(async () => {
      upstream = createServer((req, res) => {
        let bytes = 0;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => {
          seen.push({ method: req.method!, url: req.url!, bytes, headers: req.headers });
          res.writeHead(200, { 'content-length': String(bytes).length });
          res.end(String(bytes));
        });
      });
      await listenLocal(upstream);
      balancer = await startBalancerFronting(urlOf(upstream), 'framing', { FAST_PATH: fastPath });
    });
    afterAll(async () => {
      await balancer?.stop();
      upstream?.closeAllConnections();
      upstream?.close();
    });

    it('keeps Content-Length on the request to the worker when the client names it in Connection (no smuggled request)', async () => {
      const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: inner\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
      const client = await Raw.open(balancer.port);
      client.socket.write(`POST /submit HTTP/1.1\r\nHost: outer\r\nConnection: content-length\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
      const res = await waitFor(() => takeResponse(client.received), 'the response to the POST');
      expect(res.status).toBe(200);
      // Let a smuggled request, if the worker saw one, be recorded.
      await sleep(300);
      expect(seen.map((r) => r.url)).not.toContain('/smuggled');
      expect(seen.find((r) => r.url === '/submit')).toMatchObject({ method: 'POST', bytes: smuggled.length });
    });
  });

  describe('listener review: response framing to the client', () => {
    let balancer: RunningProcess;
    let upstream: NetServer;
    const inner = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nINJECTED';

    beforeAll(async () => {
      // A raw worker: /te-cl answers with both Transfer-Encoding: chunked and Content-Length: 5; the de-chunked
      // body is longer than 5 and carries a whole response. Anything else gets a plain 200 "next".
      upstream = createNetServer((socket) => {
        let buf = '';
        socket.on('error', () => {});
        socket.on('data', (c: Buffer) => {
          buf += c.toString('latin1');
          // One request head per round; the buffer's length bounds the rounds.
          for (let round = 0; round < 100 && buf.includes('\r\n\r\n'); round++) {
            const end = buf.indexOf('\r\n\r\n');
            const path = buf.slice(0, end).split(' ')[1];
            buf = buf.slice(end + 4);
            if (path === '/te-cl') {
              const body = `hello${inner}`;
              socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
            } else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
          }
        });
      });
      await listenLocal(upstream);
      balancer = await startBalancerFronting(urlOf(upstream), 'te-cl', { FAST_PATH: fastPath });
    });
    afterAll(async () => {
      await balancer?.stop();
      upstream?.close();
    });

    it('does not relay the worker Content-Length beside Transfer-Encoding: no bytes past the response as framed', async () => {
      const client = await Raw.open(balancer.port);
      client.socket.write('GET /te-cl HTTP/1.1\r\nHost: a\r\n\r\n');
      // The whole de-chunked body has arrived once "INJECTED" is in (whatever framing the balancer chose).
      await waitFor(() => client.text.includes('INJECTED') || client.closed, 'the response');
      await sleep(100);
      // RFC 9112 section 6.3: a proxy forwarding such a message must drop Content-Length and frame the body itself.
      expect(client.text).not.toMatch(/\r\ncontent-length: 5\r\n/i);
      const framed = takeResponse(client.received);
      if (framed !== undefined && framed.headers['content-length'] !== undefined) {
        // A keep-alive client would read these bytes as the answer to its next request (response splitting).
        expect(framed.rest.toString('latin1')).toBe('');
      }
    });
  });

  describe('listener review: pipelined requests from a client that does not read', () => {
    let balancer: RunningProcess;
    let upstream: Server;
    let served = 0;
    const body = Buffer.alloc(32 * 1024, 0x61);

    beforeAll(async () => {
      upstream = createServer((req, res) => {
        served++;
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      });
      await listenLocal(upstream);
      balancer = await startBalancerFronting(urlOf(upstream), 'bulk', { FAST_PATH: fastPath });
    });
    afterAll(async () => {
      await balancer?.stop();
      upstream?.closeAllConnections();
      upstream?.close();
    });

    it('stops reading requests while responses pile up unread: RSS grows by far less than the 500 MB of answers', async () => {
      const count = 16_000; // 16,000 x 32 KB = 500 MB of responses
      const pid = balancer.child.pid!;
      const baseline = rssBytes(pid);
      let peak = baseline;
      const client = await Raw.open(balancer.port);
      client.socket.pause(); // never reads a byte
      client.socket.write('GET /bulk HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(count));
      // Sample until the upstream has stopped receiving requests for a second (bounded rounds).
      let last = -1;
      let still = 0;
      for (let round = 0; round < 120 && still < 4; round++) {
        await sleep(250);
        peak = Math.max(peak, rssBytes(pid));
        still = served === last ? still + 1 : 0;
        last = served;
      }
      expect(balancer.child.exitCode).toBeNull();
      expect(peak - baseline).toBeLessThan(150 * MB);
    }, 60_000);
  });

  describe('listener review: a client that goes silent in the middle of an upload', () => {
    let balancer: RunningProcess;
    let upstream: Server;

    beforeAll(async () => {
      upstream = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      });
      await listenLocal(upstream);
      // The body idle limit short, the worker's response timeout long: the client's silence, not the
      // worker's, is what must end these exchanges (with equal limits the two would race).
      balancer = await startBalancer({
        FAST_PATH: fastPath,
        HEALTH_CHECK_INTERVAL_MS: '0',
        REGISTRATION_TTL_MS: '0',
        OUTLIER_CONSECUTIVE_FAILURES: '0',
        CONNECT_TIMEOUT_MS: '1000',
        RESPONSE_TIMEOUT_MS: '30000',
        IDLE_TIMEOUT_MS: '1000',
      });
      expect((await signedPost(balancer.url, 'register-worker', { url: urlOf(upstream), name: 'upload' })).status).toBe(201);
    });
    afterAll(async () => {
      await balancer?.stop();
      upstream?.closeAllConnections();
      upstream?.close();
    });

    it("gives up on a stalled POST upload (streamed to the worker): 408, with the client's X-Request-Id", async () => {
      const client = await Raw.open(balancer.port);
      client.socket.write('POST /stalled HTTP/1.1\r\nHost: a\r\nX-Request-Id: stalled-upload-1\r\nContent-Length: 100\r\n\r\n0123456789');
      await waitFor(() => client.closed || client.text.includes('\r\n\r\n'), 'an answer or the end of the connection', 15_000);
      expect(client.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(client.text).toMatch(/\r\nX-Request-Id: stalled-upload-1\r\n/i);
    }, 20_000);

    it('also gives up on a stalled PUT upload (kept whole for replay), instead of holding the connection forever', async () => {
      const client = await Raw.open(balancer.port);
      // PUT is idempotent and 100 bytes is under RETRY_BODY_LIMIT_BYTES: the proxy reads the body whole first.
      client.socket.write('PUT /stalled HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
      // Bounded at three times the longest timeout the balancer has here (the 5 s keep-alive).
      await waitFor(() => client.closed || client.text.includes('\r\n\r\n'), 'an answer or the end of the connection', 15_000);
      expect(client.text).toMatch(/^HTTP\/1\.1 408 /);
      // No id from the client: the one the balancer made for the request (balancer/proxy/request-id.ts).
      expect(client.text).toMatch(/\r\nX-Request-Id: [0-9a-f]{12}-\d+\r\n/i);
    }, 25_000);

    it('closes a client connection left idle after a response once the keep-alive timeout it announced has passed, not before', async () => {
      const client = await Raw.open(balancer.port);
      client.socket.write('GET /then-idle HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitFor(() => takeResponse(client.received) !== undefined, 'the answer', 10_000);
      const answeredAt = Date.now();
      const announcedMs = Number(/Keep-Alive: timeout=(\d+)/.exec(client.text)?.[1]) * 1000;
      expect(announcedMs).toBeGreaterThan(0);
      await waitFor(() => client.closed, 'the balancer to close the idle connection', announcedMs * 3);
      // Closing early would break a client that reuses the socket within the time it was told it may.
      expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(announcedMs);
    }, 25_000);

    it('keeps a client connection that sends its next request within the keep-alive timeout', async () => {
      const client = await Raw.open(balancer.port);
      for (let i = 0; i < 3; i++) {
        client.received = Buffer.alloc(0);
        client.socket.write('GET /steady HTTP/1.1\r\nHost: a\r\n\r\n');
        await waitFor(() => takeResponse(client.received) !== undefined, 'the answer', 10_000);
        expect(takeResponse(client.received)!.status).toBe(200);
        // Three pauses of 2 s add up to more than the 5 s limit: each request starts the count again.
        await sleep(2000);
      }
      expect(client.closed).toBe(false);
    }, 25_000);
  });
});
