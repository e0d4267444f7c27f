import { Agent, request } from 'node:http';
import { childPids } from '../../bench/proc-sockets';
import { FAST_PATH_MODES, startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * PROCESSES=2, SIGHUP (issue 13, "Restarts that cost nothing"): the primary replaces its serving
 * processes one at a time, each new one listening with its view loaded before the old one stops
 * accepting. Under a bounded loop of kept-alive connections and of a new connection per request, no
 * request fails and no connection is refused; afterwards every serving process is new and the
 * primary is the same process. In both FAST_PATH modes: node:http's connections drain as the listener's.
 */
interface Tally {
  ok: number;
  failed: string[];
}

/** One GET; `agent` undefined opens a new connection and closes it after the answer. */
function get(port: number, agent: Agent | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: agent ?? false, headers: agent ? {} : { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      res.on('error', (err) => resolve(err.message));
    });
    req.on('error', (err) => resolve(err.message));
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

async function loop(port: number, keepAlive: boolean, until: () => boolean, tally: Tally, deadline: number): Promise<void> {
  const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  while (!until() && Date.now() < deadline && tally.ok + tally.failed.length < 50_000) {
    const failure = await get(port, agent);
    if (failure === undefined) tally.ok++;
    else tally.failed.push(`${keepAlive ? 'kept-alive' : 'new connection'}: ${failure}`);
  }
  agent?.destroy();
}

describe.each(FAST_PATH_MODES)('PROCESSES=2, FAST_PATH=%s: SIGHUP replaces every serving process without failing a request', (fastPath) => {
  let balancer: RunningProcess & { adminUrl(): Promise<string> };
  const workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', FAST_PATH: fastPath });
    for (const name of ['a', 'b']) workers.push(await startWorker(name, balancer));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await balancer.stop();
  });

  it('0 failed requests; the serving pids all changed, the primary pid did not', async () => {
    const primary = balancer.child.pid!;
    const before = childPids(primary);
    expect(before).toHaveLength(2);
    const tally: Tally = { ok: 0, failed: [] };
    let done = false;
    const deadline = Date.now() + 30_000;
    const loops = [true, true, true, false, false, false].map((keepAlive) => loop(balancer.port, keepAlive, () => done, tally, deadline));
    await waitFor(() => (tally.ok > 200 ? true : undefined), 'load flowing before the SIGHUP');
    balancer.child.kill('SIGHUP');
    await waitFor(() => (balancer.output().includes('SIGHUP: replaced 2 serving processes') ? true : undefined), 'the replacement to finish', 25_000);
    const okAtEnd = tally.ok;
    await waitFor(() => (tally.ok > okAtEnd + 200 ? true : undefined), 'load flowing after the replacement');
    done = true;
    await Promise.all(loops);

    expect(tally.failed).toEqual([]);
    const after = childPids(primary);
    expect(after).toHaveLength(2);
    for (const pid of after) expect(before).not.toContain(pid);
    expect(balancer.child.exitCode).toBeNull();
    expect(balancer.output()).toContain('SIGHUP: reloading');
  });
});
