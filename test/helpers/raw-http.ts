import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A "worker" that is only a TCP socket on 127.0.0.1: it records the exact bytes each connection
 * brings, so a test sees what the balancer sent upstream byte for byte, with no HTTP parser in
 * between that could hide a second framing. Once a connection has been quiet for a moment it
 * answers `200 worker` with Connection: close, so every exchange uses a connection of its own.
 */
export interface RecordingWorker {
  readonly url: string;
  /** What each connection received, in the order the connections were accepted (latin1). */
  readonly received: string[];
  close(): Promise<void>;
}

export async function startRecordingWorker(): Promise<RecordingWorker> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const index = received.push('') - 1;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      received[index] += chunk.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nworker'), 30);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  readonly status: number;
  /** The status line and field lines as received. */
  readonly head: string;
  /** Lower-case names; a repeated name keeps its last value. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends `bytes` (latin1) on a fresh connection to 127.0.0.1:`port` and resolves with the first
 * response, read with Content-Length framing (what the balancer's own answers and these tests'
 * workers use), or undefined when the connection closed without a complete one. Gives up after 5 s.
 */
export function sendRaw(port: number, bytes: string): Promise<RawResponse | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let buf = '';
    const finish = (response: RawResponse | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(response);
    };
    const timer = setTimeout(() => finish(parseResponse(buf)), 5_000);
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      const response = parseResponse(buf);
      if (response !== undefined) finish(response);
    });
    socket.on('error', () => finish(parseResponse(buf)));
    socket.on('close', () => finish(parseResponse(buf)));
    socket.write(bytes, 'latin1');
  });
}

function parseResponse(buf: string): RawResponse | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), head: buf.slice(0, end), headers, body: buf.slice(end + 4, end + 4 + length) };
}

/** The head (request line and field lines) of each request in `bytes`, as lower-case header names. */
export function headerNamesOf(head: string): string[] {
  return head
    .slice(0, head.indexOf('\r\n\r\n'))
    .split('\r\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase());
}
