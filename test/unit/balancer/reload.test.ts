import pino from 'pino';
import { reloadAll } from '../../../balancer/reload';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('reloadAll (SIGHUP)', () => {
  it('with no hooks says there is nothing to re-read, in one line', async () => {
    const { log, lines } = capture();
    expect(await reloadAll([], log)).toEqual({ reloaded: [], failed: [] });
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'SIGHUP: reloading: nothing to re-read (no certificates are configured); still serving', reloaded: [] }),
    ]);
  });

  it('runs every hook, names what was re-read, and keeps going past one that fails', async () => {
    const { log, lines } = capture();
    const ran: string[] = [];
    const hooks = [
      { name: 'first', reload: () => void ran.push('first') },
      {
        name: 'broken',
        reload: () => {
          throw new Error('ENOENT: no such file');
        },
      },
      { name: 'last', reload: () => Promise.resolve().then(() => void ran.push('last')) },
    ];
    expect(await reloadAll(hooks, log)).toEqual({ reloaded: ['first', 'last'], failed: ['broken'] });
    expect(ran).toEqual(['first', 'last']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'SIGHUP: reloading: broken failed and kept what was in force',
        reloaded: ['first', 'last'],
        failed: ['broken'],
        errors: { broken: 'ENOENT: no such file' },
      }),
    ]);
  });

  it('names the hooks it re-read when all succeed', async () => {
    const { log, lines } = capture();
    await reloadAll([{ name: 'tls-certificates', reload: () => undefined }], log);
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'SIGHUP: reloading: re-read tls-certificates' })]);
  });
});
