import { FAST_PATH_MODES, startBalancer, type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A request head has HEADERS_TIMEOUT_MS to arrive whole (nginx's client_header_timeout, HAProxy's
 * timeout http-request), however steadily its bytes trickle in: a slow-header client cannot hold a
 * connection for longer by never pausing long enough to trip the idle limit.
 */
describe.each(FAST_PATH_MODES)('HEADERS_TIMEOUT_MS (FAST_PATH=%s)', (fastPath) => {
  let balancer: RunningProcess;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    balancer = await startBalancer({ FAST_PATH: fastPath, HEADERS_TIMEOUT_MS: '1000', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0' });
  });
  afterAll(async () => {
    for (const raw of sockets) raw.socket.destroy();
    await balancer?.stop();
  });

  it('disconnects a client whose head trickles in for longer (answering 408 at most)', async () => {
    const head = `GET /trickle HTTP/1.1\r\nHost: slow.test\r\nX-Padding: ${'p'.repeat(60)}\r\n\r\n`;
    const raw = await RawSocket.open(balancer.port, sockets);
    // One byte every 100 ms: about 10 s for the whole head, ten times the limit.
    let sent = 0;
    while (sent < head.length && !raw.closed) {
      raw.socket.write(head[sent++]);
      await sleep(100);
    }
    expect(raw.closed).toBe(true);
    expect(sent).toBeLessThan(head.length);
    expect(raw.text).toMatch(/^(HTTP\/1\.1 408 [^]*)?$/);
  }, 20_000);
});
