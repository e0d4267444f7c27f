import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DIST, waitFor } from '../helpers/processes';

/**
 * `npm start` (scripts/demo.ts) as a user runs it: Ctrl-C in a terminal sends SIGINT to the whole
 * foreground process group, so the test starts the demo as a group leader and signals the group.
 */
function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A port p with p..p+3 free a moment ago: the demo takes PORT and the three after it. */
async function fourFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listen(0);
    const port = (first!.address() as { port: number }).port;
    const rest = await Promise.all([1, 2, 3].map((i) => (port + i <= 65535 ? listen(port + i) : Promise.resolve(undefined))));
    await Promise.all([first, ...rest].map((s) => (s ? new Promise((r) => s.close(r)) : Promise.resolve())));
    if (rest.every(Boolean)) return port;
  }
  throw new Error('no four consecutive free ports');
}

function startDemo(port: number) {
  const child = spawn(process.execPath, [join(DIST, 'scripts', 'demo.js')], {
    // ADMIN_PORT=0: the demo's default 8404 is for a user's terminal; a test run must not contend for it.
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('npm start (scripts/demo.ts)', () => {
  it('stops on Ctrl-C without a warning: workers deregister before the balancer goes', async () => {
    const port = await fourFreePorts();
    const demo = startDemo(port);
    try {
      await waitFor(() => demo.output().includes('Demo running'), 'the demo to come up', 20_000);
      // It prints the admin listener's URL, the port the balancer actually bound, and that URL answers.
      const admin = /admin listener: (http:\/\/127\.0\.0\.1:(\d+))\//.exec(demo.output());
      expect(admin).not.toBeNull();
      expect(Number(admin![2])).toBeGreaterThan(0);
      expect((await fetch(`${admin![1]}/readyz`)).status).toBe(200);
      // And the dashboard's URL, to open in a browser.
      const dashboard = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/dashboard)\n/.exec(demo.output());
      expect(dashboard?.[1]).toBe(`${admin![1]}/dashboard`);
      expect((await fetch(dashboard![1])).headers.get('content-type')).toBe('text/html; charset=utf-8');
      // And how to put load on it to watch there.
      expect(demo.output()).toContain(`npm run benchmark -- --target http://127.0.0.1:${port}/`);
      process.kill(-demo.child.pid!, 'SIGINT');
      expect(await demo.exited).toBe(0);
      const output = demo.output();
      expect(output).not.toContain('"level":40');
      expect(output).not.toContain('could not deregister');
      expect(output).not.toMatch(/warn/i);
    } finally {
      if (demo.child.exitCode === null) process.kill(-demo.child.pid!, 'SIGKILL');
    }
  });

  it('stops all four processes when its terminal hangs up (SIGHUP to the group)', async () => {
    const port = await fourFreePorts();
    const demo = startDemo(port);
    try {
      await waitFor(() => demo.output().includes('Demo running'), 'the demo to come up', 20_000);
      // The balancer and workers answer SIGHUP by staying up; the demo itself must take them down.
      process.kill(-demo.child.pid!, 'SIGHUP');
      expect(await demo.exited).toBe(0);
      await waitFor(async () => {
        const answered = await fetch(`http://127.0.0.1:${port}/workers`).then(
          () => true,
          () => false,
        );
        return answered ? undefined : true;
      }, 'the balancer to stop listening');
    } finally {
      if (demo.child.exitCode === null) process.kill(-demo.child.pid!, 'SIGKILL');
    }
  });

  it("says a worker's port is busy and exits non-zero, without blaming the balancer", async () => {
    const port = await fourFreePorts();
    const squatter = await listen(port + 1);
    const demo = startDemo(port);
    try {
      const code = await demo.exited;
      expect(code).not.toBe(0);
      expect(demo.output()).toMatch(/worker-1.*port \d+ on 127\.0\.0\.1 is busy/);
      expect(demo.output()).not.toContain('the balancer did not come up');
    } finally {
      squatter?.close();
      if (demo.child.exitCode === null) process.kill(-demo.child.pid!, 'SIGKILL');
    }
  });
});
