import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

const MB = 1024 * 1024;
// Large enough that buffering it would dwarf the heap's normal slack (about 60-75 MB seen under this load).
const TOTAL = 256 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

/** Writes `total` bytes to `stream`, waiting for 'drain' whenever the buffer is full. */
async function writeBytes(stream: NodeJS.WritableStream, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += CHUNK.length) {
    if (!stream.write(CHUNK)) await new Promise((r) => stream.once('drain', r));
  }
}

/** A 256 MB upload and a 256 MB download pass through the gateway without its memory growing with them. */
describe('large bodies stream with flat memory', () => {
  let balancer: RunningProcess;
  let upstream: Server;
  let peakRss = 0;
  let sampler: NodeJS.Timeout;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      if (req.method === 'POST') {
        let bytes = 0;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => res.end(String(bytes)));
      } else {
        res.writeHead(200, { 'content-length': TOTAL });
        void writeBytes(res, TOTAL).then(() => res.end());
      }
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    balancer = await startBalancer();
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    expect((await signedPost(balancer.url, 'register-worker', { url, name: 'bulk' })).status).toBe(201);
  });
  afterAll(async () => {
    clearInterval(sampler);
    await balancer?.stop();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  it('uploads and downloads 256 MB each while the balancer RSS grows by far less than that', async () => {
    const baseline = rssBytes(balancer.child.pid!);
    sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(balancer.child.pid!))), 20);

    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = request(`${balancer.url}/upload`, { method: 'POST', headers: { 'content-length': TOTAL } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      void writeBytes(req, TOTAL).then(() => req.end());
    });
    expect(Number(uploaded)).toBe(TOTAL);

    const downloaded = await new Promise<number>((resolve, reject) => {
      request(`${balancer.url}/download`, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
      })
        .on('error', reject)
        .end();
    });
    expect(downloaded).toBe(TOTAL);

    clearInterval(sampler);
    // Buffering either body whole would add all of it; streaming keeps growth to socket buffers and GC slack.
    expect(peakRss - baseline).toBeLessThan(TOTAL / 2);
  });
});
