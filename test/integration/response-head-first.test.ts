import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * A worker that sends its head and then waits (long-poll, SSE before the first event, flushHeaders())
 * has its head relayed at once; a body that then stays silent past IDLE_TIMEOUT_MS leaves the client
 * with that status line and a cut connection, and the log says what the client got.
 */

/** Short, so a silent body is cut within the test; far above what a loaded machine needs for a local hop. */
const IDLE_TIMEOUT_MS = 3000;

/** How each request is sent: as the listener reads it itself, and as it hands it to node:http (chunked upload). */
const MODES = [
  ['the fast path', false],
  ['the node:http hand-over', true],
] as const;

/** `promise`, or a failure naming `what` after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('a response head sent before its body', () => {
  let balancer: RunningProcess;
  let worker: Server;
  /** Responses whose head the worker flushed, waiting for the test to end them. */
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    worker = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const length = req.url === '/silent' ? { 'Content-Length': '10' } : {};
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'X-Kind': 'head-first', ...length });
        res.flushHeaders();
        held.push(res);
      });
    });
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    balancer = await startBalancer({
      IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      HEALTH_CHECK_INTERVAL_MS: '0',
      REGISTRATION_TTL_MS: '0',
      OUTLIER_CONSECUTIVE_FAILURES: '0',
    });
    const url = `http://127.0.0.1:${(worker.address() as AddressInfo).port}`;
    expect((await signedPost(balancer.url, 'register-worker', { url, name: 'head-first' })).status).toBe(201);
  });
  afterAll(async () => {
    await balancer?.stop();
    worker?.closeAllConnections();
    await new Promise<void>((resolve) => (worker ? worker.close(() => resolve()) : resolve()));
  });

  it.each(MODES)('reaches a node client, status and headers, before the body is sent (%s)', async (_mode, chunked) => {
    const before = held.length;
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        `${balancer.url}/wait`,
        { method: chunked ? 'POST' : 'GET', agent: false, headers: chunked ? { 'Transfer-Encoding': 'chunked' } : {} },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    // The worker holds the body until the client has seen the head: a held-back head never arrives.
    const res = await withDeadline(response, 5000, 'the response head to reach the client');
    expect(held.length).toBe(before + 1);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-kind']).toBe('head-first');
    expect(res.headers['content-type']).toBe('text/event-stream');

    let body = '';
    res.setEncoding('latin1');
    res.on('data', (c: string) => (body += c));
    const ended = new Promise((resolve) => res.on('end', resolve));
    held[before].write('data: first\n\n');
    held[before].end('data: last\n\n');
    await ended;
    expect(body).toBe('data: first\n\ndata: last\n\n');
  });

  it.each(MODES)('leaves the status line and then cuts the connection when the body stays silent past IDLE_TIMEOUT_MS (%s)', async (_mode, chunked) => {
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(balancer.port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('the balancer neither answered nor closed')));
      socket.write(chunked ? 'POST /silent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' : 'GET /silent HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    const [head, body] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\nX-Kind: head-first(\r\n|$)/i);
    expect(head).toMatch(/\r\nContent-Length: 10(\r\n|$)/i);
    // Declared 10 bytes, got none: the client can tell the response was cut, not complete.
    expect(body).toBe('');

    // The log names the status the client got and why its response was cut, not a 504 nobody received.
    const line = await waitFor(
      () =>
        balancer
          .output()
          .split('\n')
          .find((l) => l.includes('"UPSTREAM_BODY_TIMEOUT"') && l.includes(chunked ? '"POST"' : '"GET"')),
      'the cut response to be logged',
      5000,
    );
    expect(JSON.parse(line)).toMatchObject({
      msg: 'upstream response cut short',
      status: 200,
      code: 'UPSTREAM_BODY_TIMEOUT',
      responseStarted: true,
      path: '/silent',
    });
  });
});
