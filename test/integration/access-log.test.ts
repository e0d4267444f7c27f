import { FAST_PATH_MODES, freePort, startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { sendRaw } from '../helpers/raw-http';
import { signedPost, startBalancerFronting, startEchoServer } from '../helpers/registration';

type Echo = Awaited<ReturnType<typeof startEchoServer>>;

/** Every access log line the balancer printed so far, parsed (a line that does not parse fails the test). */
function accessLines(balancer: RunningProcess): Record<string, unknown>[] {
  return balancer
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"access"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The one access line of the request with this X-Request-Id, once written. */
function lineOf(balancer: RunningProcess, requestId: string): Promise<Record<string, unknown>> {
  return waitFor(() => {
    const lines = accessLines(balancer).filter((l) => l.requestId === requestId);
    if (lines.length > 1) throw new Error(`${lines.length} lines for ${requestId}`);
    return lines[0];
  }, `the access line of ${requestId}`);
}

function get(path: string, id: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: shop.example\r\nX-Request-Id: ${id}\r\n${extra}\r\n`;
}

const FIELDS = [
  'time',
  'client',
  'method',
  'path',
  'status',
  'requestBodyBytes',
  'responseBodyBytes',
  'totalMs',
  'headersMs',
  'worker',
  'attempts',
  'requestId',
  'reason',
];

describe.each(FAST_PATH_MODES)('ACCESS_LOG=json (FAST_PATH=%s)', (fastPath) => {
  let echo: Echo;
  let balancer: RunningProcess;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancerFronting(echo.url, 'echo', { ACCESS_LOG: 'json', FAST_PATH: fastPath });
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('writes one JSON line per request, with every field, and the status and bytes the client got', async () => {
    const response = await sendRaw(balancer.port, `PUT /orders/7?x=1 HTTP/1.1\r\nHost: shop.example\r\nX-Request-Id: put-1\r\nContent-Length: 5\r\n\r\nhello`);
    expect(response?.status).toBe(200);
    const line = await lineOf(balancer, 'put-1');
    expect(Object.keys(line)).toEqual(expect.arrayContaining(FIELDS));
    expect(line).toMatchObject({
      client: '127.0.0.1',
      method: 'PUT',
      path: '/orders/7?x=1',
      status: 200,
      requestBodyBytes: 5,
      responseBodyBytes: 5,
      worker: echo.url,
      attempts: 1,
      requestId: 'put-1',
      reason: null,
    });
    expect(new Date(line.time as string).getTime()).not.toBeNaN();
    expect(line.totalMs).toEqual(expect.any(Number));
    expect(line.headersMs as number).toBeLessThanOrEqual(line.totalMs as number);
  });

  it('counts a streamed upload, not kept for a retry (POST), as it was forwarded', async () => {
    const body = 'x'.repeat(70_000);
    const response = await sendRaw(
      balancer.port,
      `POST /up HTTP/1.1\r\nHost: shop.example\r\nX-Request-Id: post-1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(response?.status).toBe(200);
    expect(await lineOf(balancer, 'post-1')).toMatchObject({ status: 200, requestBodyBytes: body.length, responseBodyBytes: body.length });
  });

  it('logs a request refused before any worker, with its status and the refusal code as the reason', async () => {
    const response = await sendRaw(balancer.port, get('/two-hosts', 'refused-1', 'Host: other.example\r\n'));
    expect(response?.status).toBe(400);
    expect(response?.headers['x-request-id']).toBe('refused-1');
    expect(await lineOf(balancer, 'refused-1')).toMatchObject({ status: 400, reason: 'invalid_host', worker: null, attempts: 0, headersMs: null });
  });

  it('writes exactly one line for each proxied request and none for the control plane', async () => {
    const before = accessLines(balancer).length;
    for (let i = 0; i < 5; i++) expect((await sendRaw(balancer.port, get(`/n/${i}`, `count-${i}`)))?.status).toBe(200);
    await fetch(`${balancer.url}/workers`);
    // Lines leave in order: once the marker's is there, every earlier one is too.
    expect((await sendRaw(balancer.port, get('/marker', 'count-marker')))?.status).toBe(200);
    await lineOf(balancer, 'count-marker');
    expect(accessLines(balancer).length - before).toBe(6);
  });
});

describe('ACCESS_LOG=json: answers of the gateway itself', () => {
  let balancer: RunningProcess;
  let echo: Echo;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancer({ ACCESS_LOG: 'json', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('503 with no worker: the answer carries the id, the line the reason', async () => {
    const response = await sendRaw(balancer.port, get('/none', 'none-1'));
    expect(response?.status).toBe(503);
    expect(response?.headers['x-request-id']).toBe('none-1');
    expect(await lineOf(balancer, 'none-1')).toMatchObject({ status: 503, reason: 'no_worker', attempts: 0, worker: null });
  });

  it('502 from a worker that refuses connections, then a retry onto a live one: each line says why', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    expect((await signedPost(balancer.url, 'register-worker', { url: dead, name: 'dead' })).status).toBe(201);
    const failed = await sendRaw(balancer.port, `GET /dead HTTP/1.1\r\nHost: shop.example\r\n\r\n`);
    expect(failed?.status).toBe(502);
    const id = failed!.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{12}-\d+$/);
    expect(await lineOf(balancer, id)).toMatchObject({ status: 502, reason: 'refused', worker: dead, attempts: 1, path: '/dead' });
    const failureLog = balancer
      .output()
      .split('\n')
      .find((l) => l.includes('"upstream request failed"') && l.includes(id));
    expect(failureLog).toBeDefined();

    expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
    // Round robin over the two: of two requests, one goes to the dead worker first and is retried.
    for (const n of [1, 2]) expect((await sendRaw(balancer.port, get('/retried', `retry-${n}`)))?.status).toBe(200);
    const lines = [await lineOf(balancer, 'retry-1'), await lineOf(balancer, 'retry-2')];
    expect(lines.map((l) => [l.attempts, l.reason, l.worker]).sort()).toEqual([
      [1, null, echo.url],
      [2, 'refused', echo.url],
    ]);
  });
});

describe('ACCESS_LOG=off', () => {
  let echo: Echo;
  let balancer: RunningProcess;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancerFronting(echo.url, 'echo', { LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('writes no line per request, at LOG_LEVEL=info too', async () => {
    for (let i = 0; i < 3; i++) expect((await sendRaw(balancer.port, get('/quiet', `quiet-${i}`)))?.status).toBe(200);
    expect((await sendRaw(balancer.port, get('/quiet', 'quiet-refused', 'Host: two.example\r\n')))?.status).toBe(400);
    // One stream, in order: once the refusal's info line is out, any access line of the requests before it would be too.
    await waitFor(() => balancer.output().includes('"request refused"'), 'the refusal line');
    expect(accessLines(balancer)).toEqual([]);
    expect(balancer.output()).not.toContain('quiet-0');
  });
});
