import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openStateDir } from '../../../../balancer/state/state-dir';

/** STATE_DIR made ready on a real file system, or refused with one warn line. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'state-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(setting: string) {
  const lines: { level: number; msg: string; stateDir?: string; reason?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { dir: openStateDir(setting, log), lines };
}

describe('openStateDir', () => {
  it('creates a missing directory, parents too, mode 0700, and leaves nothing in it', () => {
    const { dir: opened, lines } = open(join(dir, 'a', 'b'));
    expect(opened).toBe(join(dir, 'a', 'b'));
    expect(statSync(opened!).mode & 0o777).toBe(0o700);
    expect(readdirSync(opened!)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('is off without a word for STATE_DIR=off', () => {
    expect(open('off')).toEqual({ dir: undefined, lines: [] });
  });

  it('says once, as a warn line naming the directory and why, that it cannot be used', () => {
    writeFileSync(join(dir, 'a-file'), '');
    const { dir: opened, lines } = open(join(dir, 'a-file', 'state'));
    expect(opened).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        stateDir: join(dir, 'a-file', 'state'),
        reason: expect.stringContaining('ENOTDIR'),
        msg: 'STATE_DIR is not writable: the registry and a generated REGISTRATION_SECRET will not survive a restart',
      }),
    ]);
  });
});
