import { connect, type Socket } from 'node:net';
import { waitFor } from './processes';

/** One Content-Length-framed response read off a raw socket (the only framing these tests need). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw socket to a balancer on 127.0.0.1 that records every byte it receives and when it closes. */
export class RawSocket {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  private taken = 0;

  private constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1' });
    this.socket.on('data', (c: Buffer) => (this.received = Buffer.concat([this.received, c])));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
  }

  static open(port: number, into?: RawSocket[]): Promise<RawSocket> {
    const raw = new RawSocket(port);
    into?.push(raw);
    return new Promise((resolve, reject) => {
      raw.socket.once('connect', () => resolve(raw));
      raw.socket.once('error', reject);
    });
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** The next response after those already taken, once it has arrived whole. */
  async answer(timeoutMs = 10_000): Promise<RawAnswer> {
    return waitFor(
      () => {
        const parsed = parseAnswer(this.received.subarray(this.taken));
        if (parsed === undefined) {
          if (this.closed) throw new Error(`connection closed before a whole answer: ${JSON.stringify(this.received.subarray(this.taken).toString('latin1'))}`);
          return undefined;
        }
        this.taken += parsed.consumed;
        return parsed.answer;
      },
      'a whole answer',
      timeoutMs,
    );
  }

  /** Bytes received after the answers taken so far. */
  get rest(): string {
    return this.received.subarray(this.taken).toString('latin1');
  }

  whenClosed(timeoutMs = 10_000): Promise<boolean> {
    return waitFor(() => this.closed, 'the connection to close', timeoutMs);
  }
}

function parseAnswer(buf: Buffer): { answer: RawAnswer; consumed: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.toString('latin1', 0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return { answer: { status: Number(statusLine.split(' ')[1]), headers, body: buf.toString('latin1', end + 4, end + 4 + length) }, consumed: end + 4 + length };
}
