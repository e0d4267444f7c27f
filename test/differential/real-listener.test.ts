import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createListener, type Listener } from '../../balancer/listener';
import { ClientRequest } from '../../balancer/listener/client-request';
import { llhttpRequests, smugglerGadgets } from './fixtures';
import { requestCases } from './mutations';
import { listenerReading } from './ours';

/**
 * The fuzzer checks the listener's framing through listenerReading, a step-for-step model of
 * ClientConnection. Here the real listener, on a real socket, reads the same inputs: every request it
 * serves itself must be the model's, in order, with the same body. Each connection ends by the
 * listener's keep-alive limit (or node's, after a hand-over), so nothing here waits on a fixed delay.
 */

interface Served {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

let listener: Listener;
let fallback: Server;
let port: number;
/** Requests the listener served itself, by the client port of their connection. */
const served = new Map<number, Served[]>();

beforeAll(async () => {
  fallback = createServer({ headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 });
  // Answers node:http writes itself (417, 400) keep the connection for this long (plus a second).
  fallback.keepAliveTimeout = 100;
  listener = createListener({
    proxy: (req, res) => {
      if (!(req instanceof ClientRequest)) throw new Error('the listener hands the proxy its own requests');
      const record: Served = { method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: '' };
      const port = req.socket.remotePort!;
      served.set(port, [...(served.get(port) ?? []), record]);
      const body = req.bodyStream;
      if (body === null) return void res.end('ours');
      body.on('data', (chunk: Buffer) => (record.body += chunk.toString('latin1')));
      body.on('end', () => res.end('ours'));
    },
    fallback,
    // What node:http serves, one request at a time per connection, as the balancer's own handler is called.
    serveFallback: (req, res) => {
      req.resume();
      // Closing after the answer ends the connection at once (node's keep-alive limit has a second's slack).
      req.on('end', () => res.writeHead(200, { connection: 'close' }).end('node'));
    },
    isProxied: () => true,
    keepAliveTimeoutMs: 100,
    headersTimeoutMs: 300,
    bodyIdleTimeoutMs: 300,
  });
  await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
  port = (listener.server.address() as AddressInfo).port;
});

afterAll(async () => {
  listener.shutdown();
  fallback.closeAllConnections();
  await new Promise<void>((resolve) => listener.server.close(() => resolve()));
});

/** Sends `input` on a fresh connection and resolves with what the listener served on it, once the server closes it. */
function servedFor(input: Buffer): Promise<Served[]> {
  return new Promise((resolve, reject) => {
    let clientPort = 0;
    const socket = connect(port, '127.0.0.1', () => {
      clientPort = socket.localPort!;
      // Records are keyed by client port, and the kernel reuses a port once its connection closed:
      // what an earlier connection from this port was served is not this one's.
      served.delete(clientPort);
      socket.write(input);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('the server did not close the connection within 10 s')));
    socket.on('data', () => {});
    // A reset loses what the client sent: never how the listener ends a connection.
    socket.on('error', (err) => reject(new Error(`${err.message} on the connection that sent ${JSON.stringify(input.toString('latin1'))}`)));
    socket.on('close', () => resolve(served.get(clientPort) ?? []));
  });
}

/** The model's reading of `input`, in the shape the proxy handler records. */
function modelled(input: Buffer): Served[] {
  return listenerReading(input).served.map(({ head, body }) => ({ method: head.method, url: head.url, rawHeaders: head.rawHeaders, body }));
}

/** Runs `inputs` through the real listener, a few connections at a time, and returns where it and the model differ. */
async function differences(inputs: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < inputs.length; i += 32) {
    const batch = inputs.slice(i, i + 32);
    const results = await Promise.all(batch.map(servedFor));
    batch.forEach((input, j) => {
      const expected = modelled(input);
      if (JSON.stringify(results[j]) !== JSON.stringify(expected)) {
        out.push(`${JSON.stringify(input.toString('latin1'))}: listener ${JSON.stringify(results[j])}, model ${JSON.stringify(expected)}`);
      }
    });
  }
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('the listener frames as its model does (real sockets)', () => {
  it("on llhttp's request fixtures", async () => {
    expect(await differences(llhttpRequests.map((c) => bytes(c.input)))).toEqual([]);
  }, 60_000);

  it('on 400 mutated requests and 32 smuggler gadgets', async () => {
    const mutated = fc.sample(requestCases, { seed: 0x55_2024, numRuns: 400 }).map((c) => c.input);
    const gadgets = smugglerGadgets
      .slice(0, 32)
      .map(({ gadget }) => bytes(`POST / HTTP/1.1\r\n${gadget}\r\nHost: a\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`));
    const inputs = [...mutated, ...gadgets];
    // The model serves some of them on the fast path, or the comparison would prove little.
    expect(inputs.filter((input) => modelled(input).length > 0).length).toBeGreaterThan(50);
    expect(await differences(inputs)).toEqual([]);
  }, 60_000);
});
