import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createListener, type Listener } from '../../../../balancer/listener';

/**
 * The listener hands connections it does not serve to a node:http server that never listens itself.
 * Node only starts tracking connections (its request and header timeouts, closeIdleConnections) on
 * 'listening', which createListener emits; this proves the handed-over socket is really tracked, so a
 * Node release that changed how tracking starts would fail here rather than silently drop the timeouts.
 */
describe('hand-over to node:http', () => {
  let fallback: Server;
  let listener: Listener;
  let port: number;

  beforeAll(async () => {
    // Never answers: only node's own request timeout can end the exchange.
    fallback = createServer({ connectionsCheckingInterval: 50, requestTimeout: 500, headersTimeout: 500 });
    listener = createListener({
      proxy: () => {
        throw new Error("a chunked upload must not reach the listener's own data plane");
      },
      fallback,
      serveFallback: () => {},
      isProxied: () => true,
      keepAliveTimeoutMs: 5000,
      headersTimeoutMs: 60_000,
      bodyIdleTimeoutMs: 60_000,
    });
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
    port = (listener.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    listener.shutdown();
    fallback.closeAllConnections();
    fallback.close(() => {});
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  });

  it("applies node:http's request timeout to a connection it adopted (a chunked upload that stalls gets 408)", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        // Transfer-Encoding is outside the listener's subset: the connection goes to node:http.
        socket.write('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
      });
      let text = '';
      socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s: the adopted connection is not tracked')));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  }, 15_000);
});
