import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FAST_PATH_MODES, waitFor, type RunningProcess } from '../helpers/processes';
import { startBalancerFronting } from '../helpers/registration';

/** One request as the raw upstream parsed it, with the number of the connection it arrived on. */
interface SeenRequest {
  conn: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

type Behaviour = (req: SeenRequest, socket: Socket) => void;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A reply that is exactly these bytes, written as they are. */
const bytes =
  (...parts: (string | Buffer)[]): Behaviour =>
  (_req, socket) => {
    for (const part of parts) socket.write(part);
  };

const LARGE = randomBytes(2 * 1024 * 1024);
/** Larger than loopback's socket buffers on both sides, so a client that stops reading makes the balancer queue. */
const BIG_A = randomBytes(24 * 1024 * 1024);
const BIG_B = randomBytes(8 * 1024 * 1024);
/** Every byte value, 16 times over: small enough to be relayed in one write with its head. */
const ALL_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
/** The same, split so the last read holds the end of the body and the start of nothing else. */
const SPLIT_BYTES = randomBytes(7000);
const CLOSE_DELIMITED_BODY = 'framed by the end of the connection, '.repeat(200);

/** Response heads whose header order and case the balancer must keep (end-to-end) or drop (hop-by-hop). */
const END_TO_END = [
  'Content-Type: text/plain; charset=utf-8',
  'X-Trace-ID: Abc-123',
  'Set-Cookie: a=1; Path=/',
  'cache-control: no-store',
  'Set-Cookie: b=2; Path=/',
  'ETag: "v1"',
  'Date: Tue, 01 Jul 2025 00:00:00 GMT',
  'X-MiXeD-CaSe: kept',
  'Content-Length: 2',
];
const HOP_BY_HOP = ['Connection: keep-alive, X-Hop-Private', 'Keep-Alive: timeout=99, max=7', 'X-Hop-Private: drop me'];

/** What the upstream answers, by request path: exact bytes on the wire, framing errors included. */
const UPSTREAM: Record<string, Behaviour> = {
  '/ok': bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
  '/chunked': bytes(
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n',
    '5;name=value\r\nhello\r\n',
    '8;quoted="a;b";flag\r\n, chunke\r\n',
    '2\r\nd!\r\n',
    '0;last=1\r\nX-Checksum: 1234\r\nX-Other-Trailer: yes\r\n\r\n',
  ),
  // A HEAD answer declares the GET's length and has no body; the GET has the 1000 bytes.
  '/head-length': (req, socket) =>
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${req.method === 'HEAD' ? '' : 'x'.repeat(1000)}`),
  '/no-content': bytes('HTTP/1.1 204 No Content\r\nX-Kind: empty\r\n\r\n'),
  // A 304 may carry the representation's Content-Length (RFC 9110 section 8.6) and still has no body.
  '/not-modified': bytes('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1000\r\n\r\n'),
  '/close-delimited': (_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
    socket.write(CLOSE_DELIMITED_BODY.slice(0, 1000));
    socket.end(CLOSE_DELIMITED_BODY.slice(1000));
  },
  // Whitespace in a chunk size line, which node's parser (llhttp) refuses: so does the balancer.
  '/chunk-ext-spaces': bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '8 ; flag\r\n, chunke\r\n0\r\n\r\n'),
  '/conflicting-length': bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'),
  // Says Connection: close but leaves the socket open, so only the balancer honouring the header closes it.
  '/connection-close': bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'),
  // The 100 Continue itself is sent by the upstream as soon as it reads a head with the expectation.
  '/upload': (req, socket) => {
    const summary = JSON.stringify({ bytes: req.body.length, sha256: sha256(req.body) });
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(summary)}\r\n\r\n${summary}`);
  },
  '/early-hints': bytes(
    'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nfinal reply',
  ),
  '/headers': bytes(
    `HTTP/1.1 200 OK\r\n${[...END_TO_END.slice(0, 3), HOP_BY_HOP[0], ...END_TO_END.slice(3, 6), HOP_BY_HOP[1], HOP_BY_HOP[2], ...END_TO_END.slice(6)].join('\r\n')}\r\n\r\nok`,
  ),
  '/all-bytes': sendBody(ALL_BYTES),
  '/split-bytes': (_req, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SPLIT_BYTES.length}\r\n\r\n`);
    socket.write(SPLIT_BYTES.subarray(0, 3000));
    setTimeout(() => socket.write(SPLIT_BYTES.subarray(3000)), 20);
  },
  '/large': sendBody(LARGE),
  '/big-a': sendBody(BIG_A),
  '/big-b': sendBody(BIG_B),
};

function sendBody(body: Buffer): Behaviour {
  return (_req, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let at = 0; at < body.length; at += 64 * 1024) socket.write(body.subarray(at, at + 64 * 1024));
  };
}

/**
 * A hand-written HTTP/1.1 server on 127.0.0.1 over node:net: parses requests (Content-Length bodies
 * only), records each with its connection number, and answers with UPSTREAM[path].
 */
async function startRawUpstream() {
  const seen: SeenRequest[] = [];
  const closed = new Set<number>();
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed.add(conn);
      sockets.delete(socket);
    });
    let buffered = Buffer.alloc(0);
    let head: Omit<SeenRequest, 'conn' | 'body'> | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let requests = 0; requests < 100; requests++) {
        if (head === undefined) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const [requestLine, ...lines] = buffered.toString('latin1', 0, end).split('\r\n');
          const [method, path] = requestLine.split(' ');
          const headers: Record<string, string> = {};
          for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
          head = { method, path, headers };
          buffered = buffered.subarray(end + 4);
          if (headers.expect?.toLowerCase() === '100-continue') socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
        const length = Number(head.headers['content-length'] ?? 0);
        if (buffered.length < length) return;
        const req: SeenRequest = { ...head, conn, body: Buffer.from(buffered.subarray(0, length)) };
        buffered = buffered.subarray(length);
        head = undefined;
        seen.push(req);
        (UPSTREAM[req.path] ?? bytes('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'))(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    closed,
    connections: () => connections,
    /** The last request the upstream received for `path`. */
    last: (path: string) => [...seen].reverse().find((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface ClientReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Whether the agent sent this request on a connection an earlier request had used. */
  reusedSocket: boolean;
}

/** One request through node's http client; with `expectContinue`, the body waits for the 100 Continue. */
function send(
  agent: Agent,
  url: string,
  method: string,
  opts: { headers?: Record<string, string | number>; body?: Buffer; expectContinue?: boolean } = {},
): Promise<ClientReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}: no answer`)));
    req.on('error', reject);
    if (opts.expectContinue) req.on('continue', () => req.end(opts.body));
    else req.end(opts.body);
  });
}

/** Sends `head` on a fresh socket and returns every byte the balancer wrote until it closed the connection. */
function rawExchange(port: number, head: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw exchange: no answer')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.write(head);
  });
}

/** How the balancer relays each way an HTTP/1.1 response can be framed, and what it does with bad framing. */
describe.each(FAST_PATH_MODES)('response framing (FAST_PATH=%s)', (fastPath) => {
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>;
  let balancer: RunningProcess;
  const agents: Agent[] = [];
  /** One keep-alive client connection to the balancer, so follow-up requests reuse it. */
  const oneConnection = () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    upstream = await startRawUpstream();
    // No active probes or heartbeat expiry: the upstream sees only proxied requests, so its connection
    // count is ours to read; no outlier ejection, so the deliberate 502 cannot take the worker out.
    balancer = await startBalancerFronting(upstream.url, 'raw', { FAST_PATH: fastPath });
  });
  afterAll(async () => {
    for (const agent of agents) agent.destroy();
    await balancer?.stop();
    await upstream?.close();
  });

  it('de-chunks a chunked response with chunk extensions and a trailer section', async () => {
    const res = await fetch(`${balancer.url}/chunked`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello, chunked!');
  });

  it('relays a HEAD answer that declares Content-Length: 1000 with no body, and the connection carries the next GET', async () => {
    const agent = oneConnection();
    const head = await send(agent, `${balancer.url}/head-length`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('1000');
    expect(head.body.length).toBe(0);
    const get = await send(agent, `${balancer.url}/head-length`, 'GET');
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('x'.repeat(1000));
    expect(get.reusedSocket).toBe(true);
  });

  it('relays 204 and 304 without a body, and the connection carries the next request', async () => {
    const agent = oneConnection();
    const noContent = await send(agent, `${balancer.url}/no-content`, 'GET');
    expect(noContent.status).toBe(204);
    expect(noContent.headers['x-kind']).toBe('empty');
    expect(noContent.body.length).toBe(0);
    const notModified = await send(agent, `${balancer.url}/not-modified`, 'GET', { headers: { 'If-None-Match': '"v1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe('"v1"');
    expect(notModified.body.length).toBe(0);
    expect(notModified.reusedSocket).toBe(true);
    const next = await send(agent, `${balancer.url}/ok`, 'GET');
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('ok');
    expect(next.reusedSocket).toBe(true);
  });

  it('relays a close-delimited body whole', async () => {
    const res = await fetch(`${balancer.url}/close-delimited`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(CLOSE_DELIMITED_BODY);
  });

  it('cuts the answer off at a chunk size line with whitespace around its extension (the head was already taken)', async () => {
    // The bad line comes after the head, as nginx does with an invalid chunk the client's connection is closed.
    // The worker writes its head and the bad chunk apart: a head that reached the balancer in a read of
    // its own was relayed at once (the client then sees its reply 'aborted'), otherwise the client gets
    // no head at all ('socket hang up'). Either way it never gets a whole answer.
    await expect(send(oneConnection(), `${balancer.url}/chunk-ext-spaces`, 'GET')).rejects.toThrow(/^(socket hang up|aborted)$/);
  });

  it('answers 502 to conflicting Content-Length headers and does not reuse that connection', async () => {
    const agent = oneConnection();
    const bad = await send(agent, `${balancer.url}/conflicting-length`, 'GET');
    expect(bad.status).toBe(502);
    expect(JSON.parse(bad.body.toString())).toEqual({ error: 'worker_unreachable', message: expect.any(String) });
    const badConn = upstream.last('/conflicting-length')!.conn;
    await waitFor(() => upstream.closed.has(badConn) || undefined, 'the balancer to close the bad connection', 5000);
    const afterBad = upstream.connections();

    const good = await send(agent, `${balancer.url}/ok`, 'GET');
    expect(good.status).toBe(200);
    expect(good.body.toString()).toBe('ok');
    // Every test sends one request at a time, so the bad socket was the pool's only one: the good
    // request must arrive on a connection opened for it.
    expect(upstream.connections()).toBe(afterBad + 1);
    expect(upstream.last('/ok')!.conn).toBe(afterBad + 1);
  });

  it('does not reuse a connection the upstream marked Connection: close', async () => {
    const agent = oneConnection();
    const before = upstream.connections();
    for (let i = 0; i < 2; i++) {
      const res = await send(agent, `${balancer.url}/connection-close`, 'GET');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('ok');
    }
    const conns = upstream.seen.filter((r) => r.path === '/connection-close').map((r) => r.conn);
    expect(conns).toHaveLength(2);
    expect(new Set(conns).size).toBe(2);
    expect(conns[1]).toBeGreaterThan(before); // opened for the second request, not taken from the pool
    await waitFor(() => upstream.closed.has(conns[0]) || undefined, 'the balancer to close the first connection', 5000);
  });

  it('delivers a POST sent with Expect: 100-continue and relays the final 200', async () => {
    const payload = randomBytes(4096);
    const res = await send(oneConnection(), `${balancer.url}/upload`, 'POST', {
      headers: { Expect: '100-continue', 'Content-Type': 'application/octet-stream', 'Content-Length': payload.length },
      body: payload,
      expectContinue: true,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ bytes: payload.length, sha256: sha256(payload) });
    expect(upstream.last('/upload')!.body.equals(payload)).toBe(true);
  });

  it('relays the final response after a 103 Early Hints', async () => {
    const res = await fetch(`${balancer.url}/early-hints`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('final reply');
  });

  it('passes the 103 Early Hints on to an HTTP/1.1 client (RFC 9110 section 15.2), before the final response', async () => {
    const hints: { status: number; link: unknown }[] = [];
    const reply = await new Promise<ClientReply>((resolve, reject) => {
      const req = request(`${balancer.url}/early-hints`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: false }));
      });
      req.on('information', (info) => hints.push({ status: info.statusCode, link: info.headers.link }));
      req.on('error', reject);
      req.end();
    });
    expect(hints).toEqual([{ status: 103, link: '</style.css>; rel=preload; as=style' }]);
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('final reply');
  });

  it('sends no 1xx to an HTTP/1.0 client', async () => {
    const raw = (await rawExchange(balancer.port, 'GET /early-hints HTTP/1.0\r\nHost: framing.test\r\n\r\n')).toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).not.toContain('103');
  });

  it('keeps the case and order of end-to-end response headers and drops hop-by-hop ones', async () => {
    const raw = (await rawExchange(balancer.port, 'GET /headers HTTP/1.1\r\nHost: framing.test\r\nConnection: close\r\n\r\n')).toString('latin1');
    const [head, body] = raw.split('\r\n\r\n');
    const [statusLine, ...lines] = head.split('\r\n');
    expect(statusLine).toMatch(/^HTTP\/1\.1 200 /);
    expect(body).toBe('ok');
    // The balancer's own Connection: close answers the client's; nothing of the upstream's hop-by-hop set is left.
    expect(lines.filter((l) => /^connection:/i.test(l))).toEqual(['Connection: close']);
    // The balancer's X-Request-Id leads (test/integration/request-id.test.ts); the worker's own lines follow as sent.
    expect(lines[0]).toMatch(/^X-Request-Id: [0-9a-f]{12}-\d+$/);
    expect(lines.slice(1).filter((l) => !/^connection:/i.test(l))).toEqual(END_TO_END);
    expect(raw).not.toMatch(/keep-alive|x-hop-private|drop me/i);
  });

  it.each([
    ['every byte value, with the head in one read', '/all-bytes', ALL_BYTES],
    ['random bytes whose end arrives in a later read', '/split-bytes', SPLIT_BYTES],
  ])('relays a small binary body byte-identical: %s', async (_name, path, expected) => {
    // A small body's last slice travels as latin1 text and leaves with the head in one string write.
    const res = await fetch(`${balancer.url}${path}`);
    expect(res.status).toBe(200);
    const received = Buffer.from(await res.arrayBuffer());
    expect(received.equals(expected)).toBe(true);
  });

  it('streams a 2 MB Content-Length response byte-identical', async () => {
    const res = await fetch(`${balancer.url}/large`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(LARGE.length));
    const received = Buffer.from(await res.arrayBuffer());
    expect(received.length).toBe(LARGE.length);
    expect(sha256(received)).toBe(sha256(LARGE));
  });

  it("keeps a stalled client's body intact while other responses stream through", async () => {
    // The balancer reads every worker socket into one shared buffer. Body bytes it has to queue for a
    // client that is not reading must be its own copy, or the next read (here: other downloads) overwrites them.
    const socket = connect(balancer.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', resolve);
      socket.on('error', reject);
    });
    socket.write('GET /big-a HTTP/1.1\r\nHost: framing.test\r\nConnection: close\r\n\r\n');
    socket.pause();
    await new Promise((r) => setTimeout(r, 300));
    const others = await Promise.all([1, 2, 3].map(async () => Buffer.from(await (await fetch(`${balancer.url}/big-b`)).arrayBuffer())));
    for (const body of others) expect(sha256(body)).toBe(sha256(BIG_B));
    socket.resume();
    await ended;
    const raw = Buffer.concat(chunks);
    const headEnd = raw.indexOf('\r\n\r\n');
    expect(raw.subarray(0, headEnd).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    const body = raw.subarray(headEnd + 4);
    expect(body.length).toBe(BIG_A.length);
    expect(sha256(body)).toBe(sha256(BIG_A));
  });
});
