import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { FAST_PATH_MODES, waitFor, type RunningProcess } from '../helpers/processes';
import { startBalancerFronting } from '../helpers/registration';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** What the upstream answers for a request it read whole: the request as it arrived, and its body's hash. */
interface Echo {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string | undefined>;
  bytes: number;
  sha256: string;
}

/** The request headers the echo reports back (the rest do not matter to these tests). */
const ECHOED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'x-test', 'x-forwarded-for'];

const EARLY_BODY = 'answered before reading the upload';
const SLOW_FIRST = 'a'.repeat(100);
const SLOW_LENGTH = 1000;

/**
 * A node:http upstream on 127.0.0.1. By path:
 * - /early answers 200 at once and never reads the request body;
 * - /slow sends its head and the first 100 of 1000 body bytes, then holds the rest back (up to 20 s);
 * - anything else reads the body whole and answers JSON (Echo) with a Content-Length, on HEAD too.
 */
async function startUpstream() {
  const seen: Echo[] = [];
  /** Request URLs whose response was cut off before it ended (the balancer called the exchange off). */
  const aborted: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const headersOf = (req: IncomingMessage) => Object.fromEntries(ECHOED_HEADERS.map((name) => [name, req.headers[name] as string | undefined]));

  const server: Server = createServer((req, res) => {
    const path = req.url!.split('?')[0];
    if (path === '/early') {
      seen.push({ method: req.method!, url: req.url!, httpVersion: req.httpVersion, headers: headersOf(req), bytes: -1, sha256: '' });
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(EARLY_BODY) });
      res.end(EARLY_BODY);
      return;
    }
    if (path === '/slow') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SLOW_LENGTH });
      res.write(SLOW_FIRST);
      res.on('close', () => {
        if (!res.writableFinished) aborted.push(req.url!);
      });
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.end('b'.repeat(SLOW_LENGTH - SLOW_FIRST.length));
      }, 20_000);
      timers.add(timer);
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      const echo: Echo = { method: req.method!, url: req.url!, httpVersion: req.httpVersion, headers: headersOf(req), bytes, sha256: hash.digest('hex') };
      seen.push(echo);
      const body = JSON.stringify(echo);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    aborted,
    /** Whether the upstream received a request for `path` (query ignored). */
    saw: (path: string) => seen.some((r) => r.url.split('?')[0] === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface RawResponse {
  version: string;
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One response parsed from the front of `buf`, or undefined while it is incomplete. Framing as a client
 * reads it: none for HEAD, 1xx, 204 and 304; Content-Length; chunked; otherwise up to the connection's end.
 */
function parseResponse(buf: Buffer, isHead: boolean, atEof: boolean): { response: RawResponse; consumed: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = buf.toString('latin1', 0, headEnd).split('\r\n');
  const match = /^HTTP\/(1\.[01]) (\d{3})(?: .*)?$/.exec(statusLine);
  if (match === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const status = Number(match[2]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const start = headEnd + 4;
  const done = (body: Buffer, consumed: number) => ({ response: { version: match[1], status, headers, body }, consumed });
  if (isHead || status < 200 || status === 204 || status === 304) return done(Buffer.alloc(0), start);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = [];
    let at = start;
    // Each round consumes one chunk; the buffer's length bounds the rounds.
    for (let round = 0; round <= buf.length; round++) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd).split(';')[0], 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size line');
      if (size === 0) {
        // The last chunk's line, then trailer lines, then a blank line: the first CRLFCRLF from here ends it.
        const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
        return trailerEnd < 0 ? undefined : done(Buffer.concat(chunks), trailerEnd + 4);
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    throw new Error('chunked body did not end');
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buf.length < start + length) return undefined;
    return done(Buffer.from(buf.subarray(start, start + length)), start + length);
  }
  return atEof ? done(Buffer.from(buf.subarray(start)), buf.length) : undefined;
}

/**
 * A raw client connection to the balancer over node:net, so the bytes on the wire are exactly the
 * test's: it writes what it is given and parses the responses as they arrive, in order.
 */
class RawClient {
  readonly socket: Socket;
  /** The balancer ended its side (FIN) or the connection closed or failed. */
  ended = false;
  closed = false;
  error: Error | undefined;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  private constructor(port: number, allowHalfOpen: boolean) {
    this.socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
    this.socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.notify();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    this.socket.on('error', (err) => {
      this.error = err;
      this.notify();
    });
    this.socket.on('close', () => {
      this.ended = this.closed = true;
      this.notify();
    });
  }

  /** Connects; with allowHalfOpen the client can keep writing after the balancer ended its side. */
  static open(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    const client = new RawClient(port, opts.allowHalfOpen ?? false);
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.socket.once('connect', () => resolve(client));
      client.socket.once('error', reject);
    });
  }

  /** Writes and waits for the socket to take it, pausing on backpressure; resolves early if the connection is gone. */
  async write(data: string | Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    if (this.socket.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Every byte received and not yet consumed as a response. */
  get pending(): Buffer {
    return this.buf;
  }

  /** The next complete response (HEAD: no body), waiting at most `timeoutMs` for it. */
  async response(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    for (;;) {
      const parsed = parseResponse(this.buf, opts.head ?? false, this.ended);
      if (parsed !== undefined) {
        this.buf = this.buf.subarray(parsed.consumed);
        return parsed.response;
      }
      if (this.ended) throw new Error(`connection ended before a whole response: ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
      if (Date.now() > deadline) throw new Error(`no whole response in time: ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
      await this.activity(deadline - Date.now());
    }
  }

  /** Resolves once the balancer has ended the connection; rejects after `timeoutMs`. */
  async endOfStream(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('the balancer did not end the connection');
      await this.activity(deadline - Date.now());
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private activity(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

const clients: RawClient[] = [];

const get = (path: string, ...extra: string[]) => [`GET ${path} HTTP/1.1`, 'Host: listener.test', ...extra, '', ''].join('\r\n');
const echoOf = (res: RawResponse) => JSON.parse(res.body.toString()) as Echo;

/** The balancer's own listener (balancer/listener/), seen from raw client sockets, with a node:http upstream behind it. */
describe.each(FAST_PATH_MODES)('listener (FAST_PATH=%s)', (fastPath) => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let balancer: RunningProcess;

  beforeAll(async () => {
    upstream = await startUpstream();
    // No active probes, no heartbeat expiry, no ejection: the upstream sees only the tests' requests
    // and stays registered whatever they do to it.
    balancer = await startBalancerFronting(upstream.url, 'echo', { FAST_PATH: fastPath });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await balancer?.stop();
    await upstream?.close();
  });
  afterEach(() => {
    // Every test leaves the balancer alive: a crash would show here before the next test's confusing failure.
    expect(balancer.child.exitCode).toBeNull();
  });

  describe('pipelining', () => {
    it('answers two GETs written in one write with two responses, in order', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/first?n=1', 'X-Test: one') + get('/second?n=2', 'X-Test: two'));
      const first = await client.response();
      const second = await client.response();
      expect(first.status).toBe(200);
      expect(echoOf(first)).toMatchObject({ method: 'GET', url: '/first?n=1', headers: { host: 'listener.test', 'x-test': 'one' }, bytes: 0 });
      expect(second.status).toBe(200);
      expect(echoOf(second)).toMatchObject({ method: 'GET', url: '/second?n=2', headers: { host: 'listener.test', 'x-test': 'two' }, bytes: 0 });
      expect(client.pending.length).toBe(0);
      expect(client.ended).toBe(false);
    });

    it('answers a GET, a POST with a body and a GET written in one write, in order', async () => {
      const payload = randomBytes(3000);
      const client = await RawClient.open(balancer.port);
      const post = Buffer.concat([Buffer.from(`POST /middle HTTP/1.1\r\nHost: listener.test\r\nContent-Length: ${payload.length}\r\n\r\n`), payload]);
      await client.write(Buffer.concat([Buffer.from(get('/before')), post, Buffer.from(get('/after'))]));
      expect(echoOf(await client.response())).toMatchObject({ method: 'GET', url: '/before', bytes: 0 });
      expect(echoOf(await client.response())).toMatchObject({ method: 'POST', url: '/middle', bytes: payload.length, sha256: sha256(payload) });
      expect(echoOf(await client.response())).toMatchObject({ method: 'GET', url: '/after', bytes: 0 });
    });
  });

  describe('hand-over to node:http', () => {
    it('serves a proxied GET, then GET /workers (control plane), then a proxied GET on one keep-alive socket', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/before-control'));
      const before = await client.response();
      expect(before.status).toBe(200);
      expect(echoOf(before).url).toBe('/before-control');

      await client.write(get('/workers'));
      const workers = await client.response();
      expect(workers.status).toBe(200);
      expect(workers.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(workers.body.toString())).toEqual([upstream.url]);

      await client.write(get('/after-control', 'X-Test: after'));
      const after = await client.response();
      expect(after.status).toBe(200);
      expect(echoOf(after)).toMatchObject({ method: 'GET', url: '/after-control', headers: { 'x-test': 'after' } });
      expect(client.ended).toBe(false);
    });

    it('answers a proxied GET, GET /workers and a proxied GET pipelined in one write, in order', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/pipelined-before') + get('/workers') + get('/pipelined-after'));
      expect(echoOf(await client.response()).url).toBe('/pipelined-before');
      expect(JSON.parse((await client.response()).body.toString())).toEqual([upstream.url]);
      expect(echoOf(await client.response()).url).toBe('/pipelined-after');
    });

    it('proxies an HTTP/1.0 GET', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write('GET /ten?v=1.0 HTTP/1.0\r\nHost: listener.test\r\n\r\n');
      const res = await client.response();
      expect(res.status).toBe(200);
      expect(echoOf(res)).toMatchObject({ method: 'GET', url: '/ten?v=1.0', headers: { host: 'listener.test' }, bytes: 0 });
      // An HTTP/1.0 client without keep-alive gets its connection closed after the response.
      await client.endOfStream();
    });

    it('proxies an HTTP/1.0 POST with a body', async () => {
      const payload = randomBytes(20_000);
      const client = await RawClient.open(balancer.port);
      await client.write(`POST /ten-post HTTP/1.0\r\nHost: listener.test\r\nContent-Length: ${payload.length}\r\n\r\n`);
      await client.write(payload);
      const res = await client.response();
      expect(res.status).toBe(200);
      expect(echoOf(res)).toMatchObject({ method: 'POST', url: '/ten-post', bytes: payload.length, sha256: sha256(payload) });
    });

    it('delivers a chunked POST (Transfer-Encoding) intact to the upstream', async () => {
      const parts = [randomBytes(1), randomBytes(4096), randomBytes(70_000), randomBytes(13)];
      const whole = Buffer.concat(parts);
      const client = await RawClient.open(balancer.port);
      await client.write('POST /chunked-upload HTTP/1.1\r\nHost: listener.test\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (const part of parts) await client.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
      await client.write('0\r\n\r\n');
      const res = await client.response();
      expect(res.status).toBe(200);
      expect(echoOf(res)).toMatchObject({ method: 'POST', url: '/chunked-upload', bytes: whole.length, sha256: sha256(whole) });
      // And the connection, now node:http's, carries the next request.
      await client.write(get('/after-chunked'));
      expect(echoOf(await client.response()).url).toBe('/after-chunked');
    });
  });

  describe('Content-Length bodies read by the listener', () => {
    it('delivers a ~1 MB POST written in many small pieces intact', async () => {
      const payload = randomBytes(1_000_003);
      const head = `POST /big-upload HTTP/1.1\r\nHost: listener.test\r\nContent-Type: application/octet-stream\r\nContent-Length: ${payload.length}\r\n\r\n`;
      const client = await RawClient.open(balancer.port);
      client.socket.setNoDelay(true);
      // The head in three pieces too, split inside a name and inside the blank line.
      await client.write(head.slice(0, 20));
      await client.write(head.slice(20, head.length - 1));
      await client.write(head.slice(head.length - 1));
      for (let at = 0; at < payload.length; at += 997) await client.write(payload.subarray(at, at + 997));
      const res = await client.response({ timeoutMs: 20_000 });
      expect(res.status).toBe(200);
      expect(echoOf(res)).toMatchObject({
        method: 'POST',
        url: '/big-upload',
        headers: { 'content-length': String(payload.length) },
        bytes: payload.length,
        sha256: sha256(payload),
      });
      await client.write(get('/after-big-upload'));
      expect(echoOf(await client.response()).url).toBe('/after-big-upload');
    });

    it('gives the client the whole 200 when the upstream answers without reading a 2 MB upload', async () => {
      const payload = Buffer.alloc(2 * 1024 * 1024, 'u');
      const client = await RawClient.open(balancer.port);
      await client.write(`POST /early HTTP/1.1\r\nHost: listener.test\r\nContent-Length: ${payload.length}\r\n\r\n`);
      // The balancer may close the connection once the answer is out: writes then fail, which is allowed.
      for (let at = 0; at < payload.length && !client.ended; at += 64 * 1024) await client.write(payload.subarray(at, at + 64 * 1024));
      const res = await client.response();
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(EARLY_BODY);
      // The balancer is still serving.
      const next = await fetch(`${balancer.url}/after-early`);
      expect(next.status).toBe(200);
      expect(((await next.json()) as Echo).url).toBe('/after-early');
    });

    it('never forwards bytes of a declared body as a request, even after an early answer', async () => {
      // RFC 9112 section 6.3: Content-Length frames the body; whatever those bytes say, they are body.
      // A slow uploader: the head goes first and the upstream answers before any body byte arrives.
      const body = Buffer.concat([Buffer.from(get('/smuggled-from-body')), Buffer.alloc(64 * 1024, 'v')]);
      const client = await RawClient.open(balancer.port, { allowHalfOpen: true });
      await client.write(`POST /early HTTP/1.1\r\nHost: listener.test\r\nContent-Length: ${body.length}\r\n\r\n`);
      const res = await client.response();
      expect(res.status).toBe(200);
      // Then the declared body, which happens to start with a request head.
      await client.write(body);
      client.socket.end();
      await client.endOfStream();
      // A request sent after the connection is gone reaches the upstream after anything the balancer
      // dispatched for the old connection.
      const marker = await fetch(`${balancer.url}/marker-after-smuggling`);
      expect(marker.status).toBe(200);
      await marker.arrayBuffer();
      expect(upstream.saw('/smuggled-from-body')).toBe(false);
    });
  });

  describe('Connection: close', () => {
    it('answers with Connection: close and then closes the socket', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/close-me', 'Connection: close'));
      const res = await client.response();
      expect(res.status).toBe(200);
      expect(echoOf(res).url).toBe('/close-me');
      expect(res.headers.connection).toBe('close');
      await client.endOfStream();
      expect(client.pending.length).toBe(0);
    });

    it('does not process a request that arrives after the request that said close', async () => {
      // RFC 9112 section 9.6: the server MUST NOT process any further requests received on that connection.
      const client = await RawClient.open(balancer.port, { allowHalfOpen: true });
      await client.write(get('/close-then-more', 'Connection: close'));
      const res = await client.response();
      expect(res.headers.connection).toBe('close');
      await client.endOfStream();
      await client.write(get('/after-close-was-sent'));
      client.socket.end();
      await waitFor(() => client.closed || undefined, 'the connection to close', 10_000);
      const marker = await fetch(`${balancer.url}/marker-after-close`);
      await marker.arrayBuffer();
      expect(upstream.saw('/after-close-was-sent')).toBe(false);
    });
  });

  describe('bad heads', () => {
    it('answers 400 to a malformed request line and keeps serving other connections', async () => {
      const other = await RawClient.open(balancer.port);
      await other.write(get('/other-before'));
      expect(echoOf(await other.response()).url).toBe('/other-before');

      const bad = await RawClient.open(balancer.port);
      await bad.write('NOT AN HTTP REQUEST LINE\r\nHost: listener.test\r\n\r\n');
      const res = await bad.response();
      expect(res.status).toBe(400);
      await bad.endOfStream();

      await other.write(get('/other-after'));
      expect(echoOf(await other.response()).url).toBe('/other-after');
      const fresh = await fetch(`${balancer.url}/fresh-after-400`);
      expect(fresh.status).toBe(200);
      await fresh.arrayBuffer();
    });

    it('answers 431 to a request head over 16 KiB', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/too-big', `X-Big: ${'b'.repeat(20 * 1024)}`));
      const res = await client.response();
      expect(res.status).toBe(431);
      expect(upstream.saw('/too-big')).toBe(false);
      const fresh = await fetch(`${balancer.url}/fresh-after-431`);
      expect(fresh.status).toBe(200);
      await fresh.arrayBuffer();
    });
  });

  describe('HEAD', () => {
    it('relays the headers with Content-Length and no body, and the socket carries the next request', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/headed'));
      const getLength = Number((await client.response()).headers['content-length']);

      await client.write(['HEAD /headed HTTP/1.1', 'Host: listener.test', '', ''].join('\r\n'));
      const head = await client.response({ head: true });
      expect(head.status).toBe(200);
      // The length of the JSON the upstream would have sent: the GET's, with one letter more in the method.
      expect(Number(head.headers['content-length'])).toBe(getLength + 'HEAD'.length - 'GET'.length);
      expect(head.headers['transfer-encoding']).toBeUndefined();
      expect(upstream.seen.at(-1)).toMatchObject({ method: 'HEAD', url: '/headed' });

      // Had the HEAD answer carried a body, this would parse body bytes as the status line.
      await client.write(get('/after-head'));
      const next = await client.response();
      expect(next.status).toBe(200);
      expect(echoOf(next).url).toBe('/after-head');
      expect(client.pending.length).toBe(0);
    });

    it('keeps a pipelined HEAD and GET apart', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(['HEAD /pipelined-head HTTP/1.1', 'Host: listener.test', '', ''].join('\r\n') + get('/pipelined-get'));
      const head = await client.response({ head: true });
      expect(head.status).toBe(200);
      expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
      expect(echoOf(await client.response()).url).toBe('/pipelined-get');
    });
  });

  describe('client gone', () => {
    it('survives a client that disconnects in the middle of a slow response, and calls the upstream off', async () => {
      const client = await RawClient.open(balancer.port);
      await client.write(get('/slow?client=gone'));
      await waitFor(() => client.pending.includes(SLOW_FIRST) || undefined, 'the first part of the slow body', 10_000);
      // A reset: a client gone for good. A FIN alone is a half-close, and the rest of the answer is
      // still owed to it (RFC 9112 section 9.6; HAProxy without abortonclose): see half-close.test.ts.
      client.socket.resetAndDestroy();
      await waitFor(() => upstream.aborted.includes('/slow?client=gone') || undefined, 'the upstream response to be called off', 10_000);

      const next = await fetch(`${balancer.url}/after-client-gone`);
      expect(next.status).toBe(200);
      expect(((await next.json()) as Echo).url).toBe('/after-client-gone');
      expect(balancer.child.exitCode).toBeNull();
    });
  });
});
