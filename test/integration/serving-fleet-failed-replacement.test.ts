import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RollingReplacer } from '../../balancer/cluster/rolling-replace';
import { ServingFleet } from '../../balancer/cluster/serving-fleet';

/**
 * A SIGHUP whose new serving process cannot start (a broken build on disk): the replacement stops, the
 * old processes keep serving, and the failed process is not forked again and again; a real death
 * afterwards is still repaired. Real cluster processes of a small script that exits at once while a
 * flag file exists, and otherwise listens on 127.0.0.1.
 */
const SCRIPT = `
const { existsSync } = require('node:fs');
if (existsSync(process.env.FAIL_FLAG)) process.exit(3);
require('node:http').createServer((req, res) => res.end(String(process.pid))).listen(0, '127.0.0.1');
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(holds: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

describe('ServingFleet: a replacement that cannot start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-fleet-'));
  const flag = join(dir, 'fail');
  let forks = 0;
  const countFork = () => forks++;
  let fleet: ServingFleet | undefined;

  beforeAll(() => {
    const script = join(dir, 'serving.js');
    writeFileSync(script, SCRIPT);
    cluster.setupPrimary({ exec: script, silent: true });
    cluster.on('fork', countFork);
  });
  afterAll(async () => {
    await fleet?.stop();
    cluster.off('fork', countFork);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the replacement, keeps the old processes, forks it no more; a later death is repaired', async () => {
    const log = pino({ level: 'silent' });
    fleet = new ServingFleet({ size: 2, env: { FAIL_FLAG: flag }, log, attach: () => {}, stopTimeoutMs: 2_000 });
    await fleet.start();
    const before = fleet.members.map((w) => w.process.pid);
    expect(forks).toBe(2);

    writeFileSync(flag, '');
    const outcome = await new RollingReplacer(fleet, log).replace();
    expect(outcome.replaced).toEqual([]);
    expect(outcome.failed).toMatch(/exited \(3\) before it listened/);
    // Past two of the fleet's restart pauses (1 s each): a failed member would have been forked again by now.
    await sleep(2_500);
    expect(forks).toBe(3);
    expect(fleet.members.map((w) => w.process.pid)).toEqual(before);
    expect(fleet.members.every((w: Worker) => !w.isDead())).toBe(true);

    // A member that dies is still replaced at once (the build is mended first).
    unlinkSync(flag);
    fleet.members[0].process.kill('SIGKILL');
    await until(() => forks === 4 && fleet!.members.length === 2 && fleet!.members.every((w) => w.isConnected()), 'a replacement for the killed member');
    expect(fleet.members.map((w) => w.process.pid)).not.toEqual(before);
  });
});
