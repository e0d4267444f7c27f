import { connect, type Socket } from 'node:net';

/**
 * A client that sends `GET / HTTP/1.1` on one keep-alive socket and writes the next request only
 * once the whole answer to the previous one has arrived, so that every request takes the same path
 * through the balancer: one read, one upstream write, one worker answer, one client write.
 *
 * It understands only what the measurement needs: a 200 with a Content-Length. Anything else (another
 * status, chunked framing, a closed socket, no answer within `REQUEST_TIMEOUT_MS`) fails the run,
 * because an instruction count taken over error answers would measure another path.
 */
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
const REQUEST_TIMEOUT_MS = 30_000;
const HEAD_LIMIT = 16 * 1024;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;

export class SequentialClient {
  private pending: Buffer = Buffer.alloc(0);
  private waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the balancer closed the client connection')));
  }

  static open(port: number, timeoutMs = 10_000): Promise<SequentialClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to 127.0.0.1:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new SequentialClient(socket));
      });
    });
  }

  /** Sends `count` requests one after another; rejects at the first bad answer or past `deadline` (epoch ms). */
  async send(count: number, deadline: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (Date.now() > deadline) throw new Error(`gave up after ${i} of ${count} requests: past the time limit`);
      await this.one();
    }
  }

  /** This end's port: the connection's remote port as the balancer's side sees it (bench/proc-sockets.ts). */
  get localPort(): number {
    const port = this.socket.localPort;
    if (port === undefined) throw new Error('the client connection has no local port: it is closed');
    return port;
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private one(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no complete answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      this.waiting = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.socket.write(REQUEST);
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const headEnd = this.pending.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (this.pending.length > HEAD_LIMIT) this.fail(new Error('an answer head longer than 16 KiB'));
      return;
    }
    const head = this.pending.toString('latin1', 0, headEnd + 2);
    if (!head.startsWith('HTTP/1.1 200 ')) return this.fail(new Error(`expected a 200, got: ${head.split('\r\n', 1)[0]}`));
    const length = CONTENT_LENGTH.exec(head);
    if (!length) return this.fail(new Error(`an answer without Content-Length:\n${head}`));
    const end = headEnd + 4 + Number(length[1]);
    if (this.pending.length < end) return;
    if (this.pending.length > end) return this.fail(new Error('bytes after the answer to a request sent alone'));
    this.pending = Buffer.alloc(0);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return this.fail(new Error('an answer nobody asked for'));
    waiting.resolve();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(this.failure);
  }
}
