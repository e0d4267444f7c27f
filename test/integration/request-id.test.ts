import { FAST_PATH_MODES, type RunningProcess } from '../helpers/processes';
import { sendRaw, type RawResponse } from '../helpers/raw-http';
import { startIdentityWorker } from '../helpers/identity-worker';
import { startBalancerFronting } from '../helpers/registration';

type Worker = Awaited<ReturnType<typeof startIdentityWorker>>;

/** Every X-Request-Id line of a response head, as values. */
function idsIn(response: RawResponse | undefined): string[] {
  expect(response).toBeDefined();
  return response!.head
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith('x-request-id:'))
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
}

const GENERATED = /^[0-9a-f]{12}-\d+$/;

describe.each(FAST_PATH_MODES)('X-Request-Id (FAST_PATH=%s)', (fastPath) => {
  let worker: Worker;
  let balancer: RunningProcess;

  beforeAll(async () => {
    worker = await startIdentityWorker();
    balancer = await startBalancerFronting(worker.url, 'identity', { FAST_PATH: fastPath });
  });
  afterAll(async () => {
    await balancer?.stop();
    await worker?.close();
  });

  /** Sends one GET on a raw socket and returns the id the worker saw and the ids the client got. */
  async function roundTrip(path: string, extraHeaders = ''): Promise<{ sent: string | string[] | undefined; back: string[] }> {
    const before = worker.seen.length;
    const response = await sendRaw(balancer.port, `GET ${path} HTTP/1.1\r\nHost: shop.example\r\n${extraHeaders}\r\n`);
    expect(response?.status).toBe(200);
    expect(worker.seen.length).toBe(before + 1);
    return { sent: worker.seen[before].headers['x-request-id'], back: idsIn(response) };
  }

  it('gives a request without one a new id (process prefix and counter), different for every request, and the client gets it back', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { sent, back } = await roundTrip(`/new-${i}`);
      expect(sent).toMatch(GENERATED);
      expect(back).toEqual([sent]);
      ids.push(sent as string);
    }
    expect(new Set(ids).size).toBe(5);
    expect(new Set(ids.map((id) => id.split('-')[0])).size).toBe(1);
  });

  it('keeps an acceptable id the client sent, unchanged, both ways', async () => {
    const id = 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
    expect(await roundTrip('/given', `X-Request-Id: ${id}\r\n`)).toEqual({ sent: id, back: [id] });
  });

  it('replaces an id that is too long or holds characters outside the set, and one sent twice', async () => {
    for (const header of [
      `X-Request-Id: ${'a'.repeat(129)}\r\n`,
      'X-Request-Id: two words\r\n',
      'X-Request-Id: <script>\r\n',
      'X-Request-Id: a\r\nX-Request-Id: b\r\n',
    ]) {
      const { sent, back } = await roundTrip('/replaced', header);
      expect(sent).toMatch(GENERATED);
      expect(back).toEqual([sent]);
    }
  });

  it('gives the client the id the worker was sent, in place of one the worker set itself', async () => {
    const { sent, back } = await roundTrip('/own-id', 'X-Request-Id: from-client\r\n');
    expect(sent).toBe('from-client');
    expect(back).toEqual(['from-client']);
  });
});

describe('X-Request-Id on a WebSocket handshake', () => {
  let worker: Worker;
  let balancer: RunningProcess;

  beforeAll(async () => {
    worker = await startIdentityWorker();
    balancer = await startBalancerFronting(worker.url, 'identity');
  });
  afterAll(async () => {
    await balancer?.stop();
    await worker?.close();
  });

  it('reaches the worker with the handshake, and comes back on its 101', async () => {
    const handshake =
      'GET /ws HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const generated = await sendRaw(balancer.port, `${handshake}\r\n`);
    expect(generated?.status).toBe(101);
    const sent = worker.seen.at(-1)!.headers['x-request-id'];
    expect(sent).toMatch(GENERATED);
    expect(idsIn(generated)).toEqual([sent]);

    const given = await sendRaw(balancer.port, `${handshake}X-Request-Id: ws-given-1\r\n\r\n`);
    expect(worker.seen.at(-1)!.headers['x-request-id']).toBe('ws-given-1');
    expect(idsIn(given)).toEqual(['ws-given-1']);
  });
});
