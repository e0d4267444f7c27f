import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DIST } from '../helpers/processes';

/** Both entrypoints take their settings from the environment; the command line knows --help and --version only. */
const entrypoints = [
  ['balancer', 'load-balancer-server.js'],
  ['worker', 'workers/worker-server.js'],
] as const;
const version = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

function run(script: string, args: string[], port = '0', extraEnv: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [join(DIST, script), ...args], {
    // STATE_DIR=off: a balancer without REGISTRATION_SECRET would keep the one it generates in ./state.
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: port, LOG_LEVEL: 'warn', STATE_DIR: 'off', ...extraEnv },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.each(entrypoints)('the %s command line', (_name, script) => {
  it('refuses an unknown flag with exit 2, naming it and the variable to use instead', () => {
    const result = run(script, ['--port', '9999']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown option "--port"');
    expect(result.stderr).toContain('PORT=');
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a stray argument with exit 2', () => {
    const result = run(script, ['start']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unexpected argument "start"');
  });

  it("prints package.json's version for --version and exits 0", () => {
    expect(run(script, ['--version'])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints the variables for --help and exits 0', () => {
    const result = run(script, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('REGISTRATION_SECRET');
  });
});

describe.each(entrypoints)('the %s on a busy port', (name, script) => {
  it('says the port is busy and exits 1', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const result = await new Promise<ReturnType<typeof run>>((resolve) => setImmediate(() => resolve(run(script, [], String(port)))));
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `${name} failed to start: port ${port} on 127.0.0.1 is busy (EADDRINUSE): another process listens there; set PORT to a free port\n`,
      );
    } finally {
      squatter.close();
    }
  });
});

describe('the balancer with PROCESSES=2 on a busy port', () => {
  it("prints one line, the primary's, naming the serving process and why it could not listen, and exits 1", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const result = await new Promise<ReturnType<typeof run>>((resolve) =>
        setImmediate(() => resolve(run('load-balancer-server.js', [], String(port), { PROCESSES: '2', ADMIN_PORT: '0' }))),
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^balancer failed to start: serving process \\d+ exited \\(1\\) before it listened: ` +
            `port ${port} on 127\\.0\\.0\\.1 is busy \\(EADDRINUSE\\): another process listens there; set PORT to a free port\n$`,
        ),
      );
    } finally {
      squatter.close();
    }
  });
});

describe('the balancer on a busy admin port', () => {
  it('names ADMIN_PORT, not PORT, and exits 1', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const result = await new Promise<ReturnType<typeof spawnSync>>((resolve) =>
        setImmediate(() =>
          resolve(
            spawnSync(process.execPath, [join(DIST, 'load-balancer-server.js')], {
              env: {
                PATH: process.env.PATH ?? '',
                HOST: '127.0.0.1',
                PORT: '0',
                ADMIN_HOST: '127.0.0.1',
                ADMIN_PORT: String(port),
                LOG_LEVEL: 'warn',
                STATE_DIR: 'off',
              },
              encoding: 'utf8',
              timeout: 10_000,
            }),
          ),
        ),
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `balancer failed to start: port ${port} on 127.0.0.1 is busy (EADDRINUSE): another process listens there; set ADMIN_PORT to a free port\n`,
      );
    } finally {
      squatter.close();
    }
  });
});
