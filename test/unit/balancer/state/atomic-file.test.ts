import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../../../balancer/state/atomic-file';

/** Atomic replacement on a real file system: the content replaced whole, mode 0600 whatever was there, nothing left beside it. */
describe.each([
  ['writeFileAtomic', (path: string, data: string) => writeFileAtomic(path, data)],
  [
    'writeFileAtomicSync',
    (path: string, data: string) =>
      new Promise<void>((resolve) => {
        writeFileAtomicSync(path, data);
        resolve();
      }),
  ],
])('%s', (_name, write) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, with mode 0600, and leaves no temporary file', async () => {
    const path = join(dir, 'registry.json');
    writeFileSync(path, 'old content, longer than the new one', { mode: 0o644 });
    await write(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['registry.json']);
  });

  it('gives mode 0600 even over a world-readable temporary file a crash left behind', async () => {
    const path = join(dir, 'secret');
    writeFileSync(`${path}.tmp`, 'half a write');
    chmodSync(`${path}.tmp`, 0o666);
    await write(path, 'kept');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('fails with the fs error when the directory is gone, and creates nothing', async () => {
    await expect(write(join(dir, 'missing', 'registry.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
