import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';
import { startBalancerFronting } from '../helpers/registration';

/**
 * FAST_PATH=off takes the listener's own request reader out: every connection goes to node:http.
 * The two writers tell themselves apart on the wire: node's ServerResponse says `Connection:
 * keep-alive` on a response that keeps the connection, the listener's own announces only Keep-Alive.
 * This file is about the switch itself, so it is not run once per mode like the wire suites.
 */
describe('FAST_PATH', () => {
  let close: () => void;
  let workerUrl: string;
  const balancers: RunningProcess[] = [];
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    const worker = createServer((req, res) => res.end(`answer to ${req.url}`));
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    workerUrl = `http://127.0.0.1:${(worker.address() as AddressInfo).port}`;
    close = () => {
      worker.closeAllConnections();
      worker.close();
    };
  });
  afterAll(async () => {
    for (const raw of sockets) raw.socket.destroy();
    for (const balancer of balancers) await balancer.stop();
    close?.();
  });

  async function plainGet(fastPath: string) {
    const balancer = await startBalancerFronting(workerUrl, 'plain', { FAST_PATH: fastPath });
    balancers.push(balancer);
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write('GET /plain HTTP/1.1\r\nHost: fast.test\r\n\r\n');
    return raw.answer();
  }

  it('on (the default): a plain HTTP/1.1 GET is answered by the listener itself', async () => {
    const answer = await plainGet('on');
    expect(answer).toMatchObject({ status: 200, body: 'answer to /plain' });
    expect(answer.headers.connection).toBeUndefined();
    expect(answer.headers['keep-alive']).toMatch(/^timeout=\d+$/);
  });

  it('off: the same GET is answered by node:http', async () => {
    const answer = await plainGet('off');
    expect(answer).toMatchObject({ status: 200, body: 'answer to /plain' });
    expect(answer.headers.connection).toBe('keep-alive');
  });
});
