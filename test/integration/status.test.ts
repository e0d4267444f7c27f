import { runLoad } from '../helpers/load';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';
import type { StatusDocument } from '../../balancer/stats/status-document';

/**
 * GET /status and GET /status/stream on the admin listener of a real balancer, with real workers and
 * active health checks on a short interval, so a killed worker is seen going out with its reason.
 */
const running: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

async function fleet(names: string[], env: Record<string, string> = {}) {
  const balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_TIMEOUT_MS: '500', ...env });
  running.push(balancer);
  const workers = await Promise.all(names.map((n) => startWorker(n, balancer)));
  running.push(...workers);
  await waitForWorkers(
    balancer,
    workers.map((w) => w.url),
  );
  const admin = await balancer.adminUrl();
  const status = async () => (await (await fetch(`${admin}/status`)).json()) as StatusDocument;
  return { balancer, workers, admin, status };
}

/** Reads server-sent events off a fetch body until `count` `status` events came; aborts the stream after. */
async function readEvents(url: string, count: number): Promise<{ contentType: string | null; events: StatusDocument[]; raw: string }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  const reader = res.body!.getReader();
  let raw = '';
  const events: StatusDocument[] = [];
  const deadline = Date.now() + 15_000;
  while (events.length < count && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    raw += Buffer.from(value).toString('utf8');
    const frames = raw.split('\n\n');
    events.length = 0;
    for (const frame of frames.slice(0, -1)) {
      const data = /^event: status\ndata: (.*)$/m.exec(frame);
      if (data) events.push(JSON.parse(data[1]) as StatusDocument);
    }
  }
  abort.abort();
  return { contentType: res.headers.get('content-type'), events, raw };
}

describe('GET /status', () => {
  it('lists each worker with its state and counts the requests it served', async () => {
    const { balancer, workers, status } = await fleet(['a', 'b']);
    const before = await status();
    expect(before.workers.map((w) => [w.name, w.url, w.state]).sort()).toEqual([
      ['a', workers[0].url, 'up'],
      ['b', workers[1].url, 'up'],
    ]);
    expect(before.balancer).toMatchObject({ strategy: 'round-robin', ready: true, panic: false });
    const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 4, maxRequests: 60, maxMs: 10_000 });
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(60);
    const after = await status();
    expect(after.totals.requests).toBe(60);
    expect(after.workers.map((w) => w.totals.requests)).toEqual([30, 30]); // round-robin
    expect(after.workers.map((w) => w.share1m)).toEqual([0.5, 0.5]);
    for (const w of after.workers) expect(w.headerTimeMs.p50).not.toBeNull();
    expect(after.totals.requestsPerSecond.last10s).toBeGreaterThan(0);
  });

  it('shows a worker killed with SIGKILL as unhealthy, with its failed probes as the reason', async () => {
    const { workers, status } = await fleet(['a', 'b']);
    await workers[1].stop('SIGKILL');
    const dead = await waitFor(async () => (await status()).workers.find((w) => w.name === 'b' && w.state === 'unhealthy'), 'b to turn unhealthy');
    expect(dead.reason).toMatch(/^failed its last \d+ health probes \(.+, .+ ago\)$/);
    expect(dead.probe.lastResult).toBe('failed');
    expect(dead.weight.effective).toBe(0);
    expect((await status()).workers.find((w) => w.name === 'a')!.state).toBe('up');
  });

  it('keeps a worker that deregistered while serving, as draining by itself, until its request is answered', async () => {
    const { balancer, status } = await fleet([], { HEALTH_CHECK_INTERVAL_MS: '0' });
    const slow = await startWorker('slow', balancer, { WORKER_DELAY_MS: '3000' });
    running.push(slow);
    await waitForWorkers(balancer, [slow.url]);
    const answer = fetch(`${balancer.url}/`).then((r) => r.text());
    await waitFor(async () => (await status()).totals.inflight === 1, 'the request to be in flight');
    const stopped = slow.stop('SIGTERM');
    const leaving = await waitFor(async () => (await status()).workers.find((w) => w.url === slow.url && w.state === 'draining'), 'the worker to be draining');
    expect([leaving.drain?.by, leaving.leaving, leaving.inflight]).toEqual(['worker', true, 1]);
    expect(leaving.reason).toMatch(/^deregistered itself .+ ago: no new requests, finishing 1 in-flight request$/);
    expect(await answer).toContain('slow');
    await stopped;
    await waitFor(async () => (await status()).workers.length === 0, 'the worker to be gone');
    expect((await status()).totals.requests).toBe(1);
  });
});

describe('GET /status/stream', () => {
  it('sends the status document at once and then every second, as server-sent events', async () => {
    const { admin, workers } = await fleet(['a']);
    const { contentType, events, raw } = await readEvents(`${admin}/status/stream`, 2);
    expect(contentType).toBe('text/event-stream');
    expect(raw.startsWith('retry: 2000\n\nevent: status\ndata: {')).toBe(true);
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.workers.map((w) => w.url))).toEqual([[workers[0].url], [workers[0].url]]);
    expect(events[1].balancer.generatedAt > events[0].balancer.generatedAt).toBe(true);
  });

  it('refuses a stream beyond ADMIN_MAX_STREAMS with 503, and takes one again once a reader left; HEAD takes none', async () => {
    const { admin } = await fleet(['a'], { ADMIN_MAX_STREAMS: '2' });
    // HEAD answers the stream's headers and takes no slot (RFC 9110 section 9.3.2).
    const head = await fetch(`${admin}/status/stream`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/event-stream', '']);
    const readers = [new AbortController(), new AbortController()];
    const open = await Promise.all(readers.map((r) => fetch(`${admin}/status/stream`, { signal: r.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const refused = await fetch(`${admin}/status/stream`);
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '10']);
    expect(await refused.json()).toMatchObject({ error: 'too_many_streams' });
    readers[0].abort();
    const again = await waitFor(async () => {
      const res = await fetch(`${admin}/status/stream`);
      if (res.status === 200) return res;
      await res.arrayBuffer();
      return undefined;
    }, 'a free stream slot');
    expect(again.headers.get('content-type')).toBe('text/event-stream');
    await again.body!.cancel();
    readers[1].abort();
  });
});
