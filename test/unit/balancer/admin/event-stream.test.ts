import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { createEventStream, type EventStream } from '../../../../balancer/admin/event-stream';
import { waitFor } from '../../../helpers/processes';

/**
 * The server-sent event hub on a real node:http server and real loopback sockets: a reader that stops
 * reading is neither buffered for without bound nor kept forever, and does not hold up the others.
 */
const FRAME = 'x'.repeat(1 << 20); // 1 MiB a tick fills the loopback socket buffers within a few ticks
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.close();
    s.closeAllConnections();
  }
});

async function serve(build: () => string, maxSkippedTicks: number): Promise<{ port: number; stream: EventStream; responses: ServerResponse[] }> {
  const stream = createEventStream({ build, maxStreams: 4, intervalMs: 10, heartbeatEveryTicks: 3, maxSkippedTicks, log: pino({ level: 'silent' }) });
  const responses: ServerResponse[] = [];
  const server = createServer((req, res) => {
    responses.push(res);
    stream.handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, stream, responses };
}

function reader(port: number, read: boolean): Socket & { received: number } {
  const socket = connect({ port, host: '127.0.0.1' }) as Socket & { received: number };
  socket.received = 0;
  sockets.push(socket);
  socket.on('error', () => {});
  socket.write('GET /status/stream HTTP/1.1\r\nhost: x\r\n\r\n');
  if (read) socket.on('data', (c: Buffer) => (socket.received += c.length));
  else socket.pause();
  return socket;
}

describe('createEventStream', () => {
  it('skips the ticks of a reader whose socket is full, then drops it, while another reader keeps getting events', async () => {
    let maxBuffered = 0;
    const { port, stream, responses } = await serve(() => {
      for (const res of responses) maxBuffered = Math.max(maxBuffered, res.writableLength);
      return FRAME;
    }, 5);
    reader(port, false);
    const live = reader(port, true);
    await waitFor(() => stream.size === 2, 'both readers connected');
    await waitFor(() => stream.size === 1, 'the stuck reader to be dropped');
    const before = live.received;
    await waitFor(() => live.received > before + 2 * FRAME.length, 'the live reader to receive two more events');
    // Never more than the socket's high-water mark plus the frames of one tick waiting in memory.
    expect(maxBuffered).toBeLessThanOrEqual(2 * (FRAME.length + 64) + 64 * 1024);
  });

  it('writes retry, the first event at once, heartbeat comments, and stops its timer when the last reader leaves', async () => {
    const { port, stream } = await serve(() => '{"n":1}', 5);
    const socket = reader(port, false);
    socket.resume();
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    await waitFor(() => text.includes(': heartbeat\n\n'), 'a heartbeat comment');
    expect(text).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream\r\n[\s\S]*\r\n\r\n[0-9a-f]+\r\nretry: 2000\n\nevent: status\ndata: \{"n":1\}\n\n/,
    );
    socket.destroy();
    await waitFor(() => stream.size === 0, 'the reader to be dropped');
  });
});
