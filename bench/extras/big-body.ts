import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { registerUrls, startOurBalancer, waitForRegistered } from '../fleet';
import { rssKb, sampleRss } from '../processes';
import { progress } from '../progress';

/**
 * Extra (3): a 100 MiB upload streamed through the balancer to an echo upstream and back. The echo
 * server lives in this process and pipes each request body straight into its response; the client
 * streams from a generator and hashes what comes back. If the balancer buffered bodies, its peak RSS
 * would grow by about the body size; streaming keeps it near idle.
 */

export interface BigBodyResult {
  bytesSent: number;
  bytesReceived: number;
  /** Same length and same SHA-256 both ways. */
  intact: boolean;
  status?: number;
  seconds: number;
  mbPerS: number;
  idleRssKb?: number;
  peakRssKb?: number;
  error?: string;
}

const CHUNK = 64 * 1024;
const DEFAULT_BYTES = 100 * 2 ** 20;
const TIMEOUT_MS = 120_000;

function* body(chunks: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  for (let i = 0; i < chunks; i++) {
    const chunk = Buffer.alloc(CHUNK, i % 251);
    hash.update(chunk);
    yield chunk;
  }
}

/** An upstream that streams each request body back as its response body. */
async function startEcho(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function upload(url: string, chunks: number): Promise<Omit<BigBodyResult, 'idleRssKb' | 'peakRssKb'>> {
  const sentHash = createHash('sha256');
  const gotHash = createHash('sha256');
  const started = Date.now();
  return new Promise((resolve) => {
    let received = 0;
    let status: number | undefined;
    const finish = (error?: string) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const bytesSent = CHUNK * chunks;
      resolve({
        bytesSent,
        bytesReceived: received,
        intact: !error && received === bytesSent && sentHash.digest('hex') === gotHash.digest('hex'),
        status,
        seconds,
        mbPerS: received / 2 ** 20 / seconds,
        ...(error ? { error } : {}),
      });
    };
    const req = request(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      status = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        gotHash.update(chunk);
      });
      res.on('end', () => finish());
      res.on('error', (err) => finish(err.message));
    });
    req.on('error', (err) => finish(err.message));
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    Readable.from(body(chunks, sentHash)).pipe(req);
  });
}

/** `bytes` is rounded up to whole 64 KiB chunks; 100 MiB unless a caller wants another size. */
export async function measureBigBody(bytes = DEFAULT_BYTES): Promise<BigBodyResult> {
  const chunks = Math.ceil(bytes / CHUNK);
  const label = `${Math.round((chunks * CHUNK) / 2 ** 20)} MiB body`;
  progress(`${label}: starting an echo upstream and a balancer with it as the only worker`);
  const echo = await startEcho();
  // The echo server does not heartbeat, so registrations must not expire (REGISTRATION_TTL_MS=0).
  const balancer = await startOurBalancer('balancer-big-body', { REGISTRATION_TTL_MS: '0' });
  try {
    await registerUrls(balancer, [echo.url]);
    await waitForRegistered(balancer, [echo.url]);
    const idleRssKb = rssKb(balancer.proc.pid);
    progress(`${label}: streaming the upload through the balancer`);
    const sampler = sampleRss(balancer.proc.pid, 100);
    const result = await upload(balancer.url, chunks);
    const peakRssKb = sampler.stop();
    return { ...result, idleRssKb, peakRssKb };
  } finally {
    await balancer.proc.stop();
    await echo.close();
  }
}
