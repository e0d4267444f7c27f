import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { ExchangeHandler } from '../../../../balancer/upstream/connection';
import { UpstreamPool, type PoolOptions } from '../../../../balancer/upstream/pool';
import { serializeRequestHead, type OutgoingRequest } from '../../../../balancer/upstream/request-head';
import { mulberry32 } from '../../../helpers/random';

/**
 * The upstream pool against real workers on 127.0.0.1: node:http servers where ordinary HTTP will do,
 * raw node:net servers where the test must control every byte the worker sends (or does not send).
 */

const OPTIONS: PoolOptions = { connectTimeoutMs: 2000, responseTimeoutMs: 5000, idleTimeoutMs: 5000, maxConnections: 0 };

// ---------------------------------------------------------------------------------------------------
// Helpers

interface RecorderOptions {
  rescuable?: boolean;
  /** Decides onData's answer (true when absent); called after the chunk is recorded. */
  onData?: (chunk: Buffer, rec: Recorder) => boolean;
  /** Called on flushHeaders(). */
  onFlush?: (rec: Recorder) => void;
}

/** Everything one exchange delivered to its handler; `done` settles when it ends either way. */
class Recorder implements ExchangeHandler {
  readonly rescuable: boolean;
  status: number | undefined;
  headers: string[] | undefined;
  readonly chunks: Buffer[] = [];
  connects = 0;
  /** onComplete and onError calls together: the contract says exactly one. */
  endings = 0;
  completed = false;
  error: Error | undefined;
  abort: ((reason: Error) => void) | undefined;
  resume: (() => void) | undefined;
  /** flushHeaders() calls, and what `chunks` held at the first one. */
  headFlushes = 0;
  chunksAtFlush: number | undefined;
  /** Handler calls in order, for asserting sequences (e.g. headers before the error). */
  readonly calls: string[] = [];
  readonly done: Promise<void>;
  private settle!: () => void;

  constructor(private readonly opts: RecorderOptions = {}) {
    this.rescuable = opts.rescuable ?? false;
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onConnect(abort: (reason: Error) => void): void {
    this.connects++;
    this.abort = abort;
    this.calls.push('connect');
  }

  onHeaders(statusCode: number, headers: string[], resume: () => void): boolean {
    this.status = statusCode;
    this.headers = [...headers];
    this.resume = resume;
    this.calls.push('headers');
    return true;
  }

  flushHeaders(): void {
    this.headFlushes++;
    this.chunksAtFlush ??= this.chunks.length;
    if (this.opts.onFlush !== undefined) this.opts.onFlush(this);
  }

  onData(chunk: Buffer): boolean {
    // Held as delivered, never copied here: the contract makes each slice the handler's to keep, so a
    // slice still pointing into the pool's shared read buffer shows as bytes overwritten by later reads.
    this.chunks.push(chunk);
    if (this.calls[this.calls.length - 1] !== 'data') this.calls.push('data');
    return this.opts.onData === undefined ? true : this.opts.onData(chunk, this);
  }

  onComplete(lastChunk?: string): void {
    // The body's last slice may come with the end, as latin1 text; recorded as the bytes it is.
    if (lastChunk !== undefined) {
      this.chunks.push(Buffer.from(lastChunk, 'latin1'));
      if (this.calls[this.calls.length - 1] !== 'data') this.calls.push('data');
    }
    this.endings++;
    this.completed = true;
    this.calls.push('complete');
    this.settle();
  }

  onError(err: Error): void {
    this.endings++;
    this.error = err;
    this.calls.push('error');
    this.settle();
  }
}

/** The exchange ended with onComplete, once, and no error. */
function expectCompleted(rec: Recorder): void {
  expect({ error: rec.error?.message, completed: rec.completed, endings: rec.endings }).toEqual({ error: undefined, completed: true, endings: 1 });
}

/** The exchange ended with onError carrying `code`, once, and never completed. */
function expectFailed(rec: Recorder, code: string): void {
  expect({ code: (rec.error as { code?: string } | undefined)?.code, completed: rec.completed, endings: rec.endings }).toEqual({
    code,
    completed: false,
    endings: 1,
  });
}

/** `name`'s value in a flat [name, value, ...] list, matching the name exactly (case included). */
function headerValue(headers: string[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

function get(path = '/', headers: string[] = []): OutgoingRequest {
  return { method: 'GET', path, headers, body: null, chunked: false };
}

/** Polls `cond` every 20 ms for at most `ms`; fails the test with `what` if it never holds. */
async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  for (let waited = 0; waited <= ms; waited += 20) {
    if (cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deterministic bytes covering every value, so a byte-for-byte comparison means something. */
function bytesOf(length: number, seed: number): Buffer {
  const random = mulberry32(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** `blocks` copies of one 64 KiB block, each rotated differently, so a lost, repeated or reordered slice shows (and it is quick to make). */
function largeBody(blocks: number, seed: number): Buffer {
  const block = bytesOf(64 * 1024, seed);
  const copies: Buffer[] = [];
  for (let i = 0; i < blocks; i++) copies.push(Buffer.concat([block.subarray(i * 97), block.subarray(0, i * 97)]));
  return Buffer.concat(copies);
}

const pools: UpstreamPool[] = [];
const closers: Array<() => Promise<void>> = [];

function pool(origin: string, options: Partial<PoolOptions> = {}): UpstreamPool {
  const p = new UpstreamPool(origin, { ...OPTIONS, ...options });
  pools.push(p);
  return p;
}

afterEach(async () => {
  // Servers first: that ends any exchange still held open, so each pool's close() can resolve.
  for (const close of closers.splice(0)) await close();
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  remotePort: number;
}

interface HttpWorker {
  origin: string;
  port: number;
  server: Server;
  /** TCP connections accepted. */
  connections: number;
  /** Connections the worker saw closed. */
  closed: number;
  requests: SeenRequest[];
}

/** A node:http worker that reads each request body whole, records it, then calls `handle`. */
async function httpWorker(handle: (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void): Promise<HttpWorker> {
  const server = createHttpServer();
  const worker: HttpWorker = { origin: '', port: 0, server, connections: 0, closed: 0, requests: [] };
  server.on('connection', (socket: Socket) => {
    worker.connections++;
    socket.on('close', () => worker.closed++);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks), remotePort: req.socket.remotePort! };
      worker.requests.push(seen);
      handle(req, res, seen);
    });
  });
  await listen(server);
  worker.port = (server.address() as AddressInfo).port;
  worker.origin = `http://127.0.0.1:${worker.port}`;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return worker;
}

interface RawWorker {
  origin: string;
  port: number;
  connections: number;
  closed: number;
  /** Request heads received, in order, as latin1 text without the final blank line. */
  heads: string[];
}

/**
 * A node:net worker that calls `onHead` for each request head it reads, and answers with whatever bytes
 * the test writes. Request bodies are not parsed, so the tests that send one send no CRLFCRLF in it.
 */
async function rawWorker(onHead: (socket: Socket, head: string, worker: RawWorker) => void): Promise<RawWorker> {
  const sockets = new Set<Socket>();
  const worker: RawWorker = { origin: '', port: 0, connections: 0, closed: 0, heads: [] };
  const server = createNetServer((socket) => {
    worker.connections++;
    sockets.add(socket);
    socket.on('close', () => {
      worker.closed++;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        worker.heads.push(head);
        onHead(socket, head, worker);
      }
    });
  });
  await listen(server);
  worker.port = (server.address() as AddressInfo).port;
  worker.origin = `http://127.0.0.1:${worker.port}`;
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return worker;
}

function listen(server: Server | ReturnType<typeof createNetServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

/** A port on 127.0.0.1 with nothing listening on it: one the OS just handed out and we gave back. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------------

describe('serializeRequestHead', () => {
  it('adds the worker as Host when the request has none', () => {
    const head = serializeRequestHead(get('/a?b=1', ['Accept', '*/*']), '127.0.0.1:8080');
    expect(head).toBe('GET /a?b=1 HTTP/1.1\r\nAccept: */*\r\nhost: 127.0.0.1:8080\r\n\r\n');
  });

  it("keeps the given headers in their order and case, and the client's Host", () => {
    const head = serializeRequestHead(get('/', ['X-First', 'one', 'HOST', 'example.test', 'x-Second', 'two']), '127.0.0.1:8080');
    expect(head).toBe('GET / HTTP/1.1\r\nX-First: one\r\nHOST: example.test\r\nx-Second: two\r\n\r\n');
  });

  it('adds transfer-encoding: chunked only for a stream body marked chunked', () => {
    const stream = new PassThrough() as unknown as IncomingMessage;
    const post = (body: OutgoingRequest['body'], chunked: boolean): string =>
      serializeRequestHead({ method: 'POST', path: '/', headers: ['Host', 'w'], body, chunked }, 'w');
    expect(post(stream, true)).toBe('POST / HTTP/1.1\r\nHost: w\r\ntransfer-encoding: chunked\r\n\r\n');
    expect(post(stream, false)).toBe('POST / HTTP/1.1\r\nHost: w\r\n\r\n');
    expect(post(Buffer.from('abc'), true)).toBe('POST / HTTP/1.1\r\nHost: w\r\n\r\n');
    expect(post(null, true)).toBe('POST / HTTP/1.1\r\nHost: w\r\n\r\n');
  });
});

describe('UpstreamPool exchanges', () => {
  it('delivers status, headers in their original case and the body, then reuses the socket', async () => {
    const worker = await httpWorker((_req, res, seen) => {
      res.writeHead(201, { 'X-Custom-Header': `Request-${worker.requests.length}`, 'Content-Type': 'text/plain' });
      // Two writes and no length: Node answers chunked, which the pool de-chunks.
      res.write('hello ');
      res.end(`world ${seen.url}`);
    });
    const p = pool(worker.origin);

    const first = new Recorder();
    p.dispatch(get('/one', ['X-Client', 'yes']), first);
    await first.done;
    expectCompleted(first);
    expect(first.status).toBe(201);
    expect(headerValue(first.headers, 'X-Custom-Header')).toBe('Request-1');
    expect(headerValue(first.headers, 'Content-Type')).toBe('text/plain');
    // Hop-by-hop: it framed the body here, and is not handed over to be relayed.
    expect(headerValue(first.headers, 'Transfer-Encoding')).toBeUndefined();
    expect(headerValue(first.headers, 'Connection')).toBeUndefined();
    expect(first.body.toString()).toBe('hello world /one');
    expect(first.calls).toEqual(['connect', 'headers', 'data', 'complete']);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });

    const second = new Recorder();
    p.dispatch(get('/two'), second);
    await second.done;
    expectCompleted(second);
    expect(headerValue(second.headers, 'X-Custom-Header')).toBe('Request-2');
    expect(second.body.toString()).toBe('hello world /two');

    expect(worker.connections).toBe(1);
    expect(worker.requests.map((r) => r.url)).toEqual(['/one', '/two']);
    expect(worker.requests[0].remotePort).toBe(worker.requests[1].remotePort);
    // The worker got the client's header and a Host naming itself.
    expect(headerValue(worker.requests[0].rawHeaders, 'X-Client')).toBe('yes');
    expect(headerValue(worker.requests[0].rawHeaders, 'host')).toBe(`127.0.0.1:${worker.port}`);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('sends a Buffer body byte for byte', async () => {
    const worker = await httpWorker((_req, res) => res.end('ok'));
    const p = pool(worker.origin);
    const body = bytesOf(256 * 1024, 1);

    const rec = new Recorder();
    p.dispatch({ method: 'POST', path: '/upload', headers: ['Content-Length', String(body.length)], body, chunked: false }, rec);
    await rec.done;
    expectCompleted(rec);
    expect(rec.status).toBe(200);
    expect(worker.requests).toHaveLength(1);
    expect(worker.requests[0].method).toBe('POST');
    expect(worker.requests[0].body.equals(body)).toBe(true);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it("streams a client's chunked upload through a front server, de-chunked and identical at the worker", async () => {
    const worker = await httpWorker((_req, res, seen) => res.end(`got ${seen.body.length}`));
    const p = pool(worker.origin);
    const relayed: Recorder[] = [];

    // The proxy's shape: the front server's request stream is the body handed to the pool.
    const front = createHttpServer((req, res) => {
      const rec = new Recorder();
      relayed.push(rec);
      p.dispatch({ method: req.method!, path: req.url!, headers: ['Content-Type', 'application/octet-stream'], body: req, chunked: true }, rec);
      void rec.done.then(() => res.end(rec.error === undefined ? rec.body : `error ${rec.error.message}`));
    });
    await listen(front);
    closers.push(async () => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    });

    const pieces = [bytesOf(1, 2), bytesOf(70 * 1024, 3), bytesOf(5, 4), bytesOf(300 * 1024, 5)];
    const expected = Buffer.concat(pieces);
    const reply = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: (front.address() as AddressInfo).port, method: 'POST', path: '/stream', agent: false }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      for (const piece of pieces) req.write(piece);
      req.end();
    });

    expect(reply).toBe(`got ${expected.length}`);
    expectCompleted(relayed[0]);
    expect(worker.requests).toHaveLength(1);
    expect(headerValue(worker.requests[0].rawHeaders, 'transfer-encoding')).toBe('chunked');
    expect(worker.requests[0].body.equals(expected)).toBe(true);
    // The body ended cleanly, so the socket went back to the pool.
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('streams a PassThrough body with chunked=true, including pieces written after the head went out', async () => {
    const worker = await httpWorker((_req, res, seen) => res.end(`got ${seen.body.length}`));
    const p = pool(worker.origin);
    const upload = new PassThrough();
    const rec = new Recorder();
    p.dispatch({ method: 'PUT', path: '/', headers: [], body: upload, chunked: true }, rec);

    const pieces = [Buffer.from('first;'), Buffer.alloc(0), bytesOf(40 * 1024, 6), Buffer.from('last')];
    for (const piece of pieces) {
      upload.write(piece);
      await sleep(5);
    }
    upload.end();
    await rec.done;

    expectCompleted(rec);
    expect(worker.requests[0].body.equals(Buffer.concat(pieces))).toBe(true);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('completes a HEAD answer at its head, whatever Content-Length says, and does not reuse the socket', async () => {
    const worker = await httpWorker((req, res) => {
      res.writeHead(200, { 'Content-Length': '5', 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const p = pool(worker.origin);

    const head = new Recorder();
    p.dispatch({ ...get('/'), method: 'HEAD' }, head);
    await head.done;
    expectCompleted(head);
    expect(head.status).toBe(200);
    expect(headerValue(head.headers, 'Content-Length')).toBe('5');
    expect(head.chunks).toEqual([]);
    // A worker may send a body after a HEAD head anyway, where it would pass for the next response.
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });

    const after = new Recorder();
    p.dispatch(get('/'), after);
    await after.done;
    expectCompleted(after);
    expect(after.body.toString()).toBe('hello');
    expect(worker.connections).toBe(2);
  });

  it('keeps every body slice it hands over intact after later reads, of this and other sockets, reuse the shared read buffer', async () => {
    // Each worker socket reads into one buffer; a slice the handler holds must be its own copy. The
    // slices are compared only after the exchanges ended, when later reads have overwritten that buffer.
    const bodies = [bytesOf(3000, 11), bytesOf(3000, 12)];
    const sockets = new Map<string, Socket>();
    const worker = await rawWorker((socket, head) => {
      sockets.set(head.slice(4, 6), socket);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${bodies[0].length * 2}\r\n\r\n`);
    });
    // The next piece of a body is written only once the last one was delivered: each is a read of its own.
    const pieces = (i: number) => [bodies[i].subarray(0, 1000), bodies[i].subarray(1000), bodies[i]];
    const driven = (path: string, i: number) => {
      const next = pieces(i);
      const writeNext = () => sockets.get(path)!.write(next.shift()!);
      return new Recorder({ onFlush: writeNext, onData: () => (next.length > 0 && writeNext(), true) });
    };
    const p = pool(worker.origin);
    const recs = [driven('/0', 0), driven('/1', 1)];
    p.dispatch(get('/0'), recs[0]);
    p.dispatch(get('/1'), recs[1]);
    await Promise.all(recs.map((r) => r.done));
    // And more reads after them, into the same buffer.
    const after = driven('/0', 1);
    p.dispatch(get('/0'), after);
    await after.done;

    for (const [i, rec] of recs.entries()) {
      expectCompleted(rec);
      // Two slices through onData, the last with the end.
      expect(rec.chunks.map((c) => c.length)).toEqual([1000, 2000, 3000]);
      expect(rec.body.equals(Buffer.concat([bodies[i], bodies[i]]))).toBe(true);
    }
  });

  it('asks for the head to be flushed when the read that brought it ended without body bytes', async () => {
    // A worker that sends its head and waits (long-poll, SSE, flushHeaders()): the client must see the
    // head now, not when the first body byte comes.
    let socketOf: Socket | undefined;
    const worker = await rawWorker((socket) => {
      socketOf = socket;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n');
    });
    const p = pool(worker.origin);
    const rec = new Recorder({ onFlush: () => socketOf!.write('late') });
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect({ flushes: rec.headFlushes, chunksAtFlush: rec.chunksAtFlush, body: rec.body.toString() }).toEqual({ flushes: 1, chunksAtFlush: 0, body: 'late' });
  });

  it.each([
    ['the whole body', 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody'],
    ['the start of the body', 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nbody'],
    ['the start of a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n'],
    ['the end of a bodyless answer', 'HTTP/1.1 204 No Content\r\n\r\n'],
  ])('asks for no flush when the head came with %s: head and body leave together', async (_what, answer) => {
    const worker = await rawWorker((socket) => {
      socket.write(answer);
      // The rest of a body that did not end in that read, in a read of its own.
      if (answer.includes('Content-Length: 8')) setTimeout(() => socket.write('more'), 30);
      else if (answer.includes('chunked')) setTimeout(() => socket.write('0\r\n\r\n'), 30);
    });
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect(rec.headFlushes).toBe(0);
  });

  it('skips a 100 Continue and delivers the final response once', async () => {
    const worker = await rawWorker((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect(rec.calls).toEqual(['connect', 'headers', 'data', 'complete']);
    expect(rec.status).toBe(200);
    expect(rec.body.toString()).toBe('ok');
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('reads a body delimited by the worker closing, and does not keep that socket', async () => {
    const worker = await rawWorker((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil ');
      socket.end('close');
    });
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect(rec.body.toString()).toBe('until close');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });
});

describe('UpstreamPool queueing (maxConnections)', () => {
  it('queues the second request behind the only connection and sends it when the first ends', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res, seen) => {
      if (seen.url === '/slow') held.push(res);
      else res.end(`answer ${seen.url}`);
    });
    const p = pool(worker.origin, { maxConnections: 1 });

    const first = new Recorder();
    const second = new Recorder();
    p.dispatch(get('/slow'), first);
    p.dispatch(get('/queued'), second);
    expect(p.stats).toEqual({ open: 1, idle: 0, queued: 1 });
    expect(second.connects).toBe(1);

    await waitFor(() => held.length === 1, 'the first request to reach the worker');
    expect(worker.requests.map((r) => r.url)).toEqual(['/slow']);
    held[0].end('slow done');

    await first.done;
    await second.done;
    expectCompleted(first);
    expectCompleted(second);
    expect(first.body.toString()).toBe('slow done');
    expect(second.body.toString()).toBe('answer /queued');
    // Connect is called again once the queued request is actually sent.
    expect(second.connects).toBe(2);
    expect(worker.connections).toBe(1);
    expect(worker.requests.map((r) => r.url)).toEqual(['/slow', '/queued']);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('drops a queued request aborted through onConnect, with that reason, and never sends it', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res) => held.push(res));
    const p = pool(worker.origin, { maxConnections: 1 });

    const first = new Recorder();
    const queued = new Recorder();
    p.dispatch(get('/first'), first);
    p.dispatch(get('/queued'), queued);
    expect(p.stats.queued).toBe(1);

    const reason = new Error('client went away');
    queued.abort!(reason);
    expect(queued.error).toBe(reason);
    expect(queued.endings).toBe(1);
    expect(queued.completed).toBe(false);
    expect(p.stats).toEqual({ open: 1, idle: 0, queued: 0 });
    // A second abort is a no-op.
    queued.abort!(new Error('again'));
    expect(queued.endings).toBe(1);

    await waitFor(() => held.length === 1, 'the first request to reach the worker');
    held[0].end('done');
    await first.done;
    expectCompleted(first);
    expect(queued.connects).toBe(1);
    expect(worker.requests.map((r) => r.url)).toEqual(['/first']);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('aborts an exchange in flight: onError with the reason, and the socket is closed', async () => {
    const worker = await httpWorker(() => {}); // never answers
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get('/'), rec);
    await waitFor(() => worker.requests.length === 1, 'the request to reach the worker');

    const reason = new Error('client went away');
    rec.abort!(reason);
    await rec.done;
    expect(rec.error).toBe(reason);
    expect(rec.endings).toBe(1);
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });
});

describe('UpstreamPool keep-alive', () => {
  it('does not reuse a socket whose response said Connection: close', async () => {
    const worker = await httpWorker((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('bye');
    });
    const p = pool(worker.origin);
    for (const path of ['/1', '/2']) {
      const rec = new Recorder();
      p.dispatch(get(path), rec);
      await rec.done;
      expectCompleted(rec);
      expect(rec.body.toString()).toBe('bye');
      expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    }
    expect(worker.connections).toBe(2);
    expect(worker.requests).toHaveLength(2);
  });

  it("closes an idle socket within the worker's Keep-Alive timeout, less a margin", async () => {
    const worker = await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=2\r\n\r\nok'));
    const p = pool(worker.origin); // default keep-alive: 4 s
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
    // timeout=2 leaves 1 s of idleness; the sweep runs every second, so it goes within about 2 s.
    await waitFor(() => p.stats.open === 0, 'the pool to close the idle socket');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    // It was the pool that closed it: this worker never closes a connection.
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('does not keep a socket at all when the Keep-Alive timeout=1 leaves no margin', async () => {
    const worker = await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=1\r\n\r\nok'));
    const p = pool(worker.origin);
    for (let i = 0; i < 2; i++) {
      const rec = new Recorder();
      p.dispatch(get(), rec);
      await rec.done;
      expectCompleted(rec);
      await waitFor(() => p.stats.open === 0, 'the pool to close the socket');
    }
    expect(worker.connections).toBe(2);
  });

  it('closes sockets idle longer than keepAliveMs', async () => {
    const worker = await httpWorker((_req, res) => res.end('ok'));
    const p = pool(worker.origin, { keepAliveMs: 200 });
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectCompleted(rec);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
    await waitFor(() => p.stats.open === 0, 'the keep-alive sweep to close the idle socket');
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');

    const next = new Recorder();
    p.dispatch(get(), next);
    await next.done;
    expectCompleted(next);
    expect(worker.connections).toBe(2);
  });

  it('keeps an idle socket for keepAliveMs even when idleTimeoutMs (body silence) is shorter', async () => {
    // idleTimeoutMs is documented as the longest silence inside a response body; keepAliveMs as how long
    // an unused connection is kept. An idle pooled socket is not inside any body.
    const worker = await httpWorker((_req, res) => res.end('ok'));
    const p = pool(worker.origin, { idleTimeoutMs: 200, keepAliveMs: 3000 });
    const first = new Recorder();
    p.dispatch(get(), first);
    await first.done;
    expectCompleted(first);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });

    await sleep(700); // well past idleTimeoutMs, well inside keepAliveMs
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
    const second = new Recorder();
    p.dispatch(get(), second);
    await second.done;
    expectCompleted(second);
    expect(worker.connections).toBe(1);
  });

  it('forgets an idle socket the worker closed and opens a new one for the next request', async () => {
    const worker = await rawWorker((socket, _head, w) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      // The first connection is closed by the worker soon after answering, as a keep-alive timeout would.
      if (w.connections === 1) setTimeout(() => socket.end(), 50);
    });
    const p = pool(worker.origin);
    const first = new Recorder();
    p.dispatch(get(), first);
    await first.done;
    expectCompleted(first);
    await waitFor(() => p.stats.open === 0, 'the pool to forget the closed socket');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });

    const second = new Recorder();
    p.dispatch(get(), second);
    await second.done;
    expectCompleted(second);
    expect(second.body.toString()).toBe('ok');
    expect(worker.connections).toBe(2);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });
});

describe('UpstreamPool errors', () => {
  it('reports ECONNREFUSED when nothing listens', async () => {
    const port = await closedPort();
    const p = pool(`http://127.0.0.1:${port}`);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'ECONNREFUSED');
    expect(rec.status).toBeUndefined();
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });

  it('reports UPSTREAM_CLOSED when the worker closes after reading the request', async () => {
    const worker = await rawWorker((socket) => socket.end());
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_CLOSED');
    expect(rec.calls).toEqual(['connect', 'error']);
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });

  it('reports UPSTREAM_CLOSED after the headers when the worker closes inside a Content-Length body', async () => {
    const worker = await rawWorker((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_CLOSED');
    expect(rec.calls).toEqual(['connect', 'headers', 'data', 'error']);
    expect(rec.status).toBe(200);
    expect(rec.body.toString()).toBe('abc');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });

  it('reports UPSTREAM_HEADERS_TIMEOUT when the worker never answers', async () => {
    const worker = await rawWorker(() => {});
    const p = pool(worker.origin, { responseTimeoutMs: 200 });
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_HEADERS_TIMEOUT');
    expect(worker.heads).toHaveLength(1);
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('reports UPSTREAM_HEADERS_TIMEOUT on a reused socket too', async () => {
    const worker = await rawWorker((socket, _head, w) => {
      if (w.heads.length === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const p = pool(worker.origin, { responseTimeoutMs: 200 });
    const first = new Recorder();
    p.dispatch(get(), first);
    await first.done;
    expectCompleted(first);
    const second = new Recorder();
    p.dispatch(get(), second);
    await second.done;
    expectFailed(second, 'UPSTREAM_HEADERS_TIMEOUT');
    expect(worker.connections).toBe(1);
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });

  it('reports UPSTREAM_BODY_TIMEOUT when the worker stalls inside the body', async () => {
    const worker = await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart'));
    const p = pool(worker.origin, { idleTimeoutMs: 200 });
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_BODY_TIMEOUT');
    expect(rec.calls).toEqual(['connect', 'headers', 'data', 'error']);
    expect(rec.body.toString()).toBe('part');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('reports UPSTREAM_BAD_RESPONSE for a malformed response and closes the socket', async () => {
    const worker = await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok'));
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_BAD_RESPONSE');
    expect(rec.status).toBeUndefined();
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('sends a queued request on a new connection when the busy one fails', async () => {
    let answered = 0;
    const worker = await rawWorker((socket) => {
      // The first connection dies without an answer; later ones answer.
      if (answered++ === 0) socket.end();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const p = pool(worker.origin, { maxConnections: 1 });
    const first = new Recorder();
    const second = new Recorder();
    p.dispatch(get('/1'), first);
    p.dispatch(get('/2'), second);
    expect(p.stats.queued).toBe(1);
    await first.done;
    await second.done;
    expectFailed(first, 'UPSTREAM_CLOSED');
    expectCompleted(second);
    expect(worker.connections).toBe(2);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });

  it('completes when the worker answers before reading the whole body, and does not reuse that socket', async () => {
    // Answers at the head, reading none of the body; never closes the connection itself.
    const worker = await rawWorker((socket) => socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo long'));
    const p = pool(worker.origin);
    const upload = new PassThrough();
    const rec = new Recorder();
    p.dispatch({ method: 'POST', path: '/', headers: [], body: upload, chunked: true }, rec);
    upload.write('the start of a body that will not be finished before the answer');
    await rec.done;

    expectCompleted(rec);
    expect(rec.status).toBe(413);
    expect(rec.body.toString()).toBe('too long');
    // The request's framing is unfinished on that socket, so it must not carry another request.
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
    // The abandoned upload is detached and left flowing, so the rest of it does not block anything.
    upload.end('and the rest');
    expect(upload.listenerCount('data')).toBe(0);

    const next = new Recorder();
    p.dispatch(get(), next);
    await next.done;
    expectCompleted(next);
    expect(worker.connections).toBe(2);
  });
});

describe('UpstreamPool backpressure', () => {
  it('pauses the socket while onData returns false, resumes on resume(), and delivers the whole body', async () => {
    const body = largeBody(64, 7); // 4 MiB
    const worker = await httpWorker((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(body.length) });
      res.end(body);
    });
    const p = pool(worker.origin);

    let paused = false;
    let refusals = 0;
    let dataWhilePaused = 0;
    const rec = new Recorder({
      onData: (_chunk, r) => {
        if (paused) dataWhilePaused++;
        // Refuse the first few slices, each for a little while, then take everything.
        if (refusals >= 5) return true;
        refusals++;
        paused = true;
        setTimeout(() => {
          paused = false;
          r.resume!();
        }, 30);
        return false;
      },
    });
    p.dispatch(get(), rec);
    await rec.done;

    expectCompleted(rec);
    expect(refusals).toBe(5);
    expect(dataWhilePaused).toBe(0);
    expect(rec.chunks.length).toBeGreaterThan(5);
    expect(rec.body.equals(body)).toBe(true);
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });
  });
});

describe('UpstreamPool rescueWaiting()', () => {
  it('calls off only rescuable requests still waiting for their head, and leaves the others running', async () => {
    const held = new Map<string, ServerResponse>();
    const worker = await httpWorker((_req, res, seen) => {
      if (seen.url === '/started') {
        // The response has begun: headers and part of the body are out.
        res.writeHead(200, { 'Content-Length': '10' });
        res.write('12345');
      }
      held.set(seen.url, res);
    });
    const p = pool(worker.origin);
    const waiting = new Recorder({ rescuable: true });
    const notRescuable = new Recorder({ rescuable: false });
    const started = new Recorder({ rescuable: true });
    p.dispatch(get('/waiting'), waiting);
    p.dispatch(get('/not-rescuable'), notRescuable);
    p.dispatch(get('/started'), started);
    await waitFor(() => held.size === 3 && started.status !== undefined, 'all three requests to reach the worker');

    const reason = new Error('worker unhealthy');
    expect(p.rescueWaiting(reason)).toBe(1);
    expect(waiting.error).toBe(reason);
    expect(waiting.endings).toBe(1);
    expect(p.stats).toEqual({ open: 2, idle: 0, queued: 0 });

    held.get('/not-rescuable')!.end('late');
    held.get('/started')!.end('67890');
    await notRescuable.done;
    await started.done;
    expectCompleted(notRescuable);
    expectCompleted(started);
    expect(started.body.toString()).toBe('1234567890');
  });

  it('calls off a rescuable queued request without sending it, and leaves a non-rescuable one queued', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res) => held.push(res));
    const p = pool(worker.origin, { maxConnections: 1 });
    const busy = new Recorder({ rescuable: false });
    const queuedRescuable = new Recorder({ rescuable: true });
    const queuedOther = new Recorder({ rescuable: false });
    p.dispatch(get('/busy'), busy);
    p.dispatch(get('/queued-rescuable'), queuedRescuable);
    p.dispatch(get('/queued-other'), queuedOther);
    await waitFor(() => held.length === 1, 'the first request to reach the worker');

    const reason = new Error('worker unhealthy');
    expect(p.rescueWaiting(reason)).toBe(1);
    expect(queuedRescuable.error).toBe(reason);
    expect(p.stats).toEqual({ open: 1, idle: 0, queued: 1 });

    held[0].end('busy');
    await waitFor(() => held.length === 2, 'the queued request to reach the worker');
    held[1].end('other');
    await queuedOther.done;
    expectCompleted(busy);
    expectCompleted(queuedOther);
    expect(worker.requests.map((r) => r.url)).toEqual(['/busy', '/queued-other']);
  });

  it('calls off both a rescued in-flight request and the rescuable one queued behind it, sending neither to the worker again', async () => {
    // maxConnections 1: rescuing the in-flight request frees the only slot while the queued one is still waiting.
    const worker = await rawWorker(() => {}); // a frozen worker: reads requests, never answers
    const p = pool(worker.origin, { maxConnections: 1 });
    const inFlight = new Recorder({ rescuable: true });
    const queued = new Recorder({ rescuable: true });
    p.dispatch(get('/in-flight'), inFlight);
    p.dispatch(get('/queued'), queued);
    await waitFor(() => worker.heads.length === 1, 'the first request to reach the worker');

    const reason = new Error('worker unhealthy');
    const rescued = p.rescueWaiting(reason);
    expect({ rescued, inFlight: inFlight.error, queued: queued.error }).toEqual({ rescued: 2, inFlight: reason, queued: reason });
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await sleep(100);
    expect(worker.heads).toHaveLength(1);
  });
});

describe('UpstreamPool close()', () => {
  it('refuses a dispatch after close with UPSTREAM_POOL_CLOSED', async () => {
    const worker = await httpWorker((_req, res) => res.end('ok'));
    const p = pool(worker.origin);
    await p.close();
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expectFailed(rec, 'UPSTREAM_POOL_CLOSED');
    expect(rec.connects).toBe(0);
    expect(worker.connections).toBe(0);
  });

  it('destroys idle sockets at once', async () => {
    const worker = await httpWorker((_req, res) => res.end('ok'));
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await rec.done;
    expect(p.stats).toEqual({ open: 1, idle: 1, queued: 0 });

    const closing = p.close();
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await closing;
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('resolves only after the exchange in flight completes, then closes its socket', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res) => held.push(res));
    const p = pool(worker.origin);
    const order: string[] = [];
    const rec = new Recorder();
    p.dispatch(get(), rec);
    void rec.done.then(() => order.push('exchange ended'));
    await waitFor(() => held.length === 1, 'the request to reach the worker');

    const closing = p.close().then(() => order.push('pool closed'));
    await sleep(100);
    expect(order).toEqual([]);
    expect(p.stats).toEqual({ open: 1, idle: 0, queued: 0 });

    held[0].end('finished');
    await closing;
    expectCompleted(rec);
    expect(rec.body.toString()).toBe('finished');
    expect(order).toEqual(['exchange ended', 'pool closed']);
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
    await waitFor(() => worker.closed === 1, 'the worker to see the socket closed');
  });

  it('lets a queued request finish before resolving', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res, seen) => {
      if (seen.url === '/first') held.push(res);
      else res.end('second');
    });
    const p = pool(worker.origin, { maxConnections: 1 });
    const first = new Recorder();
    const second = new Recorder();
    p.dispatch(get('/first'), first);
    p.dispatch(get('/second'), second);
    await waitFor(() => held.length === 1, 'the first request to reach the worker');

    const closing = p.close();
    held[0].end('first');
    await closing;
    expectCompleted(first);
    expectCompleted(second);
    expect(second.body.toString()).toBe('second');
    expect(p.stats).toEqual({ open: 0, idle: 0, queued: 0 });
  });

  it('resolves every close() call, not just the last, when called twice with an exchange in flight', async () => {
    const held: ServerResponse[] = [];
    const worker = await httpWorker((_req, res) => held.push(res));
    const p = pool(worker.origin);
    const rec = new Recorder();
    p.dispatch(get(), rec);
    await waitFor(() => held.length === 1, 'the request to reach the worker');

    const settled: string[] = [];
    const first = p.close().then(() => settled.push('first'));
    const second = p.close().then(() => settled.push('second'));
    held[0].end('done');
    await rec.done;
    await Promise.race([Promise.all([first, second]), sleep(1000)]);
    expect(settled.sort()).toEqual(['first', 'second']);
  });
});
