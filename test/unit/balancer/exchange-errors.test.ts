import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { classify, EXCHANGE_ERROR_REASONS, EXCHANGE_ERRORS, type ExchangeErrorKind, type ExchangeErrorReason } from '../../../balancer/exchange-errors';
import { TrustPolicy } from '../../../balancer/proxy/forwarding';
import { ClientGoneError } from '../../../balancer/proxy/relay-response';
import { WorkerUnhealthyError } from '../../../balancer/registry';
import type { ExchangeHandler } from '../../../balancer/upstream/connection';
import { UpstreamError } from '../../../balancer/upstream/errors';
import { UpstreamPool, type PoolOptions } from '../../../balancer/upstream/pool';
import { WorkerAddressPolicy } from '../../../balancer/worker-address';

/**
 * classify() over the errors as the data plane really raises them: a real UpstreamPool against raw
 * workers on 127.0.0.1 where a loopback socket can produce the failure, the data plane's own error
 * classes where it cannot (a connect timeout needs a peer that drops SYNs), and node-shaped errno
 * errors for the few codes only a remote network produces (EHOSTUNREACH, ETIMEDOUT).
 */

const OPTIONS: PoolOptions = { connectTimeoutMs: 2000, responseTimeoutMs: 5000, idleTimeoutMs: 5000, maxConnections: 0, keepAliveMs: 0 };
const GET = { method: 'GET', path: '/', headers: [], body: null, chunked: false };

/** Runs one exchange and resolves with the error it ended in (undefined on success). */
function failure(pool: UpstreamPool, opts: { rescuable?: boolean; abortWith?: Error } = {}): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const handler: ExchangeHandler = {
      rescuable: opts.rescuable ?? false,
      onConnect: (abort) => {
        if (opts.abortWith) abort(opts.abortWith);
      },
      onHeaders: () => true,
      onData: () => true,
      flushHeaders: () => {},
      onComplete: () => resolve(undefined),
      onError: (err) => resolve(err),
    };
    pool.dispatch(GET, handler);
  });
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
const pools: UpstreamPool[] = [];

/** A raw worker on 127.0.0.1:0 that does `onRequest` with the socket once the request's bytes arrive. */
async function rawWorker(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => onRequest(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function pool(origin: string, opts: Partial<PoolOptions> = {}): UpstreamPool {
  const p = new UpstreamPool(origin, { ...OPTIONS, ...opts });
  pools.push(p);
  return p;
}

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(pools.map((p) => p.close()));
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A port that was just listened on and closed: connecting to it is refused by the kernel. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Node's shape of an errno error, for codes a loopback socket cannot produce. */
function errno(code: 'EHOSTUNREACH' | 'ENETUNREACH' | 'ETIMEDOUT' | 'EPIPE', syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { errno: -constants.errno[code], code, syscall });
}

const seen = new Set<ExchangeErrorReason>();
function expectReason(err: unknown, reason: ExchangeErrorReason): void {
  expect(classify(err)).toBe(reason);
  seen.add(reason);
}

describe('classify, on real exchange failures through the pool', () => {
  it('a connect to a closed 127.0.0.1 port is refused', async () => {
    const err = await failure(pool(`http://127.0.0.1:${await closedPort()}`));
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expectReason(err, 'refused');
  });

  it('a worker that resets the connection under the request is a reset', async () => {
    const err = await failure(pool(await rawWorker((socket) => socket.resetAndDestroy())));
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expectReason(err, 'reset');
  });

  it('a worker that closes before answering is closed', async () => {
    const err = await failure(pool(await rawWorker((socket) => socket.end())));
    expect(err).toBeInstanceOf(UpstreamError);
    expectReason(err, 'closed');
  });

  it('a worker that never starts its response is a response timeout', async () => {
    const err = await failure(pool(await rawWorker(() => {}), { responseTimeoutMs: 200 }));
    expectReason(err, 'response_timeout');
  });

  it('a worker that goes silent inside its body is a body timeout', async () => {
    const origin = await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'));
    const err = await failure(pool(origin, { idleTimeoutMs: 200 }));
    expectReason(err, 'body_timeout');
  });

  it('a malformed response is a bad response (the parser’s ResponseParseError)', async () => {
    const err = await failure(pool(await rawWorker((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'))));
    expect(err?.message).toMatch(/invalid HTTP response/);
    expectReason(err, 'bad_response');
  });

  it('a request sent to a pool that was closed finds the worker gone', async () => {
    const p = pool(`http://127.0.0.1:${await closedPort()}`);
    await p.close();
    expectReason(await failure(p), 'worker_left');
  });

  it('a waiting request the registry calls off is worker_unhealthy', async () => {
    const origin = await rawWorker(() => {});
    const p = pool(origin);
    const pending = failure(p, { rescuable: true });
    expect(p.rescueWaiting(new WorkerUnhealthyError(origin))).toBe(1);
    expectReason(await pending, 'worker_unhealthy');
  });

  it('a client that leaves aborts the exchange as client_gone', async () => {
    expectReason(await failure(pool(await rawWorker(() => {})), { abortWith: new ClientGoneError() }), 'client_gone');
  });

  it('a worker address the policy refuses at connect time is address_refused (no socket is opened)', async () => {
    const policy = new WorkerAddressPolicy(new TrustPolicy(''), () => Promise.resolve(['169.254.169.254']));
    const err = await failure(pool('http://rebinding.test:80', { lookup: policy.lookup }));
    expect(err).toMatchObject({ code: 'WORKER_ADDRESS_REFUSED' });
    expectReason(err, 'address_refused');
  });

  it('a name the lookup has no address of the family for is no_address', async () => {
    const policy = new WorkerAddressPolicy(new TrustPolicy(''), () => Promise.resolve(['127.0.0.1']));
    const err = await new Promise<Error | null>((resolve) => policy.lookup('only-v4.test', { family: 6 }, (e) => resolve(e)));
    expect(err).toMatchObject({ code: 'ENOTFOUND' });
    expectReason(err, 'no_address');
  });

  it("node's HTTP client (the upgrade path) reading a malformed response is a bad response", async () => {
    const origin = new URL(await rawWorker((socket) => socket.end('NOT HTTP AT ALL\r\n\r\n')));
    const err = await new Promise<Error>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: origin.port, path: '/' }, (res) => res.resume());
      req.on('error', resolve);
      req.end();
    });
    expect(err).toMatchObject({ code: expect.stringMatching(/^HPE_/) as unknown });
    expectReason(err, 'bad_response');
  });
});

describe('classify, on the codes a loopback socket cannot produce', () => {
  it('sorts the data plane’s own connect timeout and node’s errno codes', () => {
    expectReason(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT'), 'connect_timeout');
    expectReason(errno('ETIMEDOUT', 'connect'), 'socket_timeout');
    expectReason(errno('EHOSTUNREACH', 'connect'), 'unreachable');
    expect(classify(errno('ENETUNREACH', 'connect'))).toBe('unreachable');
    expect(classify(errno('EPIPE', 'write'))).toBe('reset');
  });

  it('calls anything else other, never throwing on what is not an error', () => {
    for (const err of [new Error('boom'), Object.assign(new Error('x'), { code: 'SOMETHING_NEW' }), { code: 42 }, null, undefined, 'boom']) {
      expectReason(err, 'other');
    }
  });
});

describe('the reason table', () => {
  it('has exactly one row per reason, each answered 502 or 504', () => {
    expect(Object.keys(EXCHANGE_ERRORS).sort()).toEqual([...EXCHANGE_ERROR_REASONS].sort());
    for (const reason of EXCHANGE_ERROR_REASONS) expect([502, 504]).toContain(EXCHANGE_ERRORS[reason].status);
  });

  it('retries and answers 504 for exactly the codes the gateway did before the table', () => {
    // The sets the table replaced (retry-policy.ts' RETRYABLE_CODES, errors.ts' TIMEOUT_CODES), pinned.
    const retryable = [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'UPSTREAM_CLOSED',
      'UPSTREAM_CONNECT_TIMEOUT',
      'UPSTREAM_POOL_CLOSED',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'WORKER_UNHEALTHY',
    ];
    const timeouts = ['UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_HEADERS_TIMEOUT', 'UPSTREAM_BODY_TIMEOUT', 'ETIMEDOUT'];
    const others = ['UPSTREAM_BAD_RESPONSE', 'CLIENT_GONE', 'WORKER_ADDRESS_REFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'HPE_INVALID_CONSTANT', 'SOMETHING_NEW'];
    for (const code of [...retryable, ...timeouts, ...others]) {
      const kind = EXCHANGE_ERRORS[classify({ code })];
      expect([code, kind.retryable, kind.status]).toEqual([code, retryable.includes(code), timeouts.includes(code) ? 504 : 502]);
    }
  });

  it('is checked by the compiler: a table missing a reason does not type-check', () => {
    const { refused: _dropped, ...withoutRefused } = EXCHANGE_ERRORS;
    // @ts-expect-error 'refused' is missing: a Record over the union must name every reason.
    const incomplete: Record<ExchangeErrorReason, ExchangeErrorKind> = withoutRefused;
    expect(Object.keys(incomplete)).not.toContain('refused');
  });

  it('every reason was produced by some case above', () => {
    expect([...seen].sort()).toEqual([...EXCHANGE_ERROR_REASONS].sort());
  });
});
