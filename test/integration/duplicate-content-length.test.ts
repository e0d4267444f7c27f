import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request as undiciRequest } from 'undici';
import { waitFor, type RunningProcess } from '../helpers/processes';
import { startBalancerFronting } from '../helpers/registration';

/**
 * A worker that repeats its Content-Length (RFC 9110 section 8.6) is relayed with one, so node's and
 * undici's clients, which refuse a repeated Content-Length, accept the answer; differing lengths are a 502.
 */

/** What the raw worker answers, by request path: exact bytes, written as they are. */
const ANSWERS: Record<string, string> = {
  '/twice': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Kind: twice\r\nContent-Length: 2\r\n\r\nok',
  '/list': 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok',
  '/differing': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!',
};

interface RawWorker {
  url: string;
  /** Paths requested, with the number of the connection each came on. */
  seen: { path: string; conn: number }[];
  closed: Set<number>;
  close(): Promise<void>;
}

/** A node:net worker on 127.0.0.1 that reads request heads (no bodies but chunked zero-length ends) and answers ANSWERS[path]. */
async function startRawWorker(): Promise<RawWorker> {
  const sockets = new Set<Socket>();
  const worker: RawWorker = { url: '', seen: [], closed: new Set(), close: async () => {} };
  let connections = 0;
  const server: Server = createServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      worker.closed.add(conn);
      sockets.delete(socket);
    });
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        // A chunked upload's empty body is its last chunk: "0\r\n\r\n", read here as a head of its own.
        if (head === '0') continue;
        const path = head.split(' ')[1];
        worker.seen.push({ path, conn });
        socket.write(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
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

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request through node's http client; `chunked` sends an empty chunked body, which the listener hands to node:http. */
function nodeGet(url: string, chunked = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: chunked ? 'POST' : 'GET', agent: false, headers: chunked ? { 'Transfer-Encoding': 'chunked' } : {} }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

const contentLengths = (rawHeaders: string[]) => rawHeaders.filter((_v, i) => i % 2 === 0 && rawHeaders[i].toLowerCase() === 'content-length').length;

describe('a repeated Content-Length from a worker', () => {
  let worker: RawWorker;
  let balancer: RunningProcess;

  beforeAll(async () => {
    worker = await startRawWorker();
    balancer = await startBalancerFronting(worker.url, 'raw');
  });
  afterAll(async () => {
    await balancer?.stop();
    await worker?.close();
  });

  it.each([
    ['the same header twice', '/twice'],
    ['a list of one value repeated', '/list'],
  ])('is relayed once when it is %s, and node http accepts it', async (_what, path) => {
    for (const chunked of [false, true]) {
      const reply = await nodeGet(`${balancer.url}${path}`, chunked);
      expect({ chunked, status: reply.status, body: reply.body, lengths: contentLengths(reply.rawHeaders), length: reply.headers['content-length'] }).toEqual({
        chunked,
        status: 200,
        body: 'ok',
        lengths: 1,
        length: '2',
      });
    }
  });

  it.each(['/twice', '/list'])('is accepted by undici: %s', async (path) => {
    const res = await undiciRequest(`${balancer.url}${path}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('2');
    expect(await res.body.text()).toBe('ok');
  });

  it('answers 502 to differing lengths and closes that worker connection', async () => {
    const reply = await nodeGet(`${balancer.url}/differing`);
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toEqual({ error: 'worker_unreachable', message: expect.any(String) });
    const conn = worker.seen.filter((s) => s.path === '/differing').pop()!.conn;
    await waitFor(() => worker.closed.has(conn) || undefined, 'the balancer to close the connection that carried the bad answer', 5000);
  });
});
