import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost, startEchoServer } from '../helpers/registration';

/** Request and response bodies pass through the gateway byte for byte, in both directions. */
describe('streaming bodies', () => {
  let balancer: RunningProcess;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancer();
    expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('delivers a 5 MB POST byte-identical and streams the same bytes back', async () => {
    const payload = randomBytes(5 * 1024 * 1024);
    const sha = createHash('sha256').update(payload).digest('hex');
    const res = await fetch(`${balancer.url}/upload?x=1`, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    const back = Buffer.from(await res.arrayBuffer());
    const seen = echo.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/upload?x=1', bytes: payload.length, sha256: sha });
    expect(back.length).toBe(payload.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(sha);
  });

  it('streams a chunked upload of unknown length', async () => {
    const chunks = Array.from({ length: 64 }, () => randomBytes(16 * 1024));
    const sha = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${balancer.url}/chunked`, { method: 'PUT' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });
    expect(status).toBe(200);
    expect(echo.seen.at(-1)).toMatchObject({ method: 'PUT', bytes: 64 * 16 * 1024, sha256: sha });
  });
});
