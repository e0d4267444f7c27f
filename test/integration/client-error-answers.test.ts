import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAST_PATH_MODES, waitFor, type RunningProcess } from '../helpers/processes';
import { RawSocket } from '../helpers/raw-client';
import { startBalancerFronting } from '../helpers/registration';

const FIRST = 'a'.repeat(1000);
const SECOND = 'b'.repeat(1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What node:http's parser refuses on a connection it serves (a malformed request, bytes after a
 * request that closes the connection) is answered only where an answer belongs: never inside a
 * response already pending or streaming, never instead of the answer to a valid request before it.
 */
describe.each(FAST_PATH_MODES)('refused bytes on a connection node:http serves (FAST_PATH=%s)', (fastPath) => {
  let balancer: RunningProcess;
  let held: ServerResponse[] = [];
  let close: () => void;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    // /stream sends its head and the first half of its body, the rest when the test releases it.
    const worker = createServer((req, res) => {
      if (req.url !== '/stream') return void res.end(`answer to ${req.url}`);
      res.writeHead(200, { 'content-length': FIRST.length + SECOND.length });
      res.write(FIRST);
      held.push(res);
    });
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    close = () => {
      worker.closeAllConnections();
      worker.close();
    };
    balancer = await startBalancerFronting(`http://127.0.0.1:${(worker.address() as AddressInfo).port}`, 'client-error', { FAST_PATH: fastPath });
  });
  afterEach(() => (held = []));
  afterAll(async () => {
    for (const raw of sockets) raw.socket.destroy();
    await balancer?.stop();
    close?.();
  });

  it('writes no status line into a response body under way: the body arrives whole, the 400 after it', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    // GET /workers puts the connection with node:http on the fast path too.
    raw.socket.write('GET /workers HTTP/1.1\r\nHost: e.test\r\n\r\nGET /stream HTTP/1.1\r\nHost: e.test\r\n\r\n');
    expect((await raw.answer()).status).toBe(200);
    await waitFor(() => raw.rest.endsWith(FIRST), 'the first half of the streamed body');
    raw.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await sleep(200); // node's parser refuses the line while the body is still under way
    held[0].end(SECOND);
    const streamed = await raw.answer();
    expect(streamed).toMatchObject({ status: 200, body: FIRST + SECOND });
    await raw.whenClosed();
    expect(raw.rest).toMatch(/^(HTTP\/1\.1 400 [^]*)?$/);
  });

  it('answers an HTTP/1.0 request followed by more bytes, and ignores those bytes', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write('GET /old HTTP/1.0\r\n\r\nGET /next HTTP/1.0\r\n\r\n');
    await raw.whenClosed();
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nanswer to \/old$/);
  });

  it('answers a Connection: close request followed by bytes that are not a request, and ignores them', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write('GET /closing HTTP/1.1\r\nHost: e.test\r\nConnection: close\r\n\r\nxyz\r\n\r\n');
    const answer = await raw.answer();
    expect(answer).toMatchObject({ status: 200, body: 'answer to /closing' });
    await raw.whenClosed();
    expect(raw.rest).toBe('');
  });

  it('still answers 400 to a malformed request with nothing pending', async () => {
    const raw = await RawSocket.open(balancer.port, sockets);
    raw.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await raw.whenClosed();
    expect(raw.text).toMatch(/^HTTP\/1\.1 400 /);
  });
});
