import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAST_PATH_MODES, type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';
import { startBalancerFronting } from '../helpers/registration';

/**
 * A client may half-close (send FIN) once its request is written: RFC 9112 section 9.6 has the server
 * answer what it received before closing. nginx and HAProxy both answer; so must the balancer.
 */
describe.each(FAST_PATH_MODES)('a client that half-closes after its request (FAST_PATH=%s)', (fastPath) => {
  let balancer: RunningProcess;
  let close: () => void;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    // Answers after a pause, so the FIN reaches the balancer before the worker's answer does.
    const worker = createServer((req, res) => setTimeout(() => res.end(`answer to ${req.url}`), 50));
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    close = () => {
      worker.closeAllConnections();
      worker.close();
    };
    balancer = await startBalancerFronting(`http://127.0.0.1:${(worker.address() as AddressInfo).port}`, 'half-close', { FAST_PATH: fastPath });
  });
  afterAll(async () => {
    for (const raw of sockets) raw.socket.destroy();
    await balancer?.stop();
    close?.();
  });

  it('gets the whole answer to an HTTP/1.1 request, then the connection closes', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.end('GET /one HTTP/1.1\r\nHost: half.test\r\n\r\n');
    const answer = await raw.answer();
    expect(answer).toMatchObject({ status: 200, body: 'answer to /one' });
    await raw.whenClosed();
  });

  it('gets both answers to two pipelined requests sent before the FIN, in order', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.end('GET /a HTTP/1.1\r\nHost: half.test\r\n\r\nGET /b HTTP/1.1\r\nHost: half.test\r\n\r\n');
    expect((await raw.answer()).body).toBe('answer to /a');
    expect((await raw.answer()).body).toBe('answer to /b');
    await raw.whenClosed();
  });

  it('gets the whole answer to an HTTP/1.0 request (served by node:http in both modes)', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.end('GET /old HTTP/1.0\r\n\r\n');
    await raw.whenClosed();
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nanswer to \/old$/);
  });
});
