import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../logger';
import { STATE_FILE_MODE } from './atomic-file';

/** The registry snapshot inside STATE_DIR. */
export const SNAPSHOT_FILE = 'registry.json';
/** The generated REGISTRATION_SECRET inside STATE_DIR (never an explicit one). */
export const SECRET_FILE = 'secret';

/**
 * STATE_DIR made ready, as an absolute path: created if missing (mode 0700, parents too) and proven
 * writable by creating and removing a probe file, which also catches a read-only file system and, for
 * root, what access(2) would wave through. Undefined with STATE_DIR=off, or when the directory cannot
 * be used: said here, once, as one warn line; the balancer then keeps nothing across restarts, as before
 * STATE_DIR existed. Called once at start by the entry point, before the secret is chosen.
 */
export function openStateDir(setting: string, log: Logger): string | undefined {
  if (setting === 'off') return undefined;
  const dir = resolve(setting);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.probe-${process.pid}`);
    writeFileSync(probe, '', { mode: STATE_FILE_MODE });
    unlinkSync(probe);
    return dir;
  } catch (err) {
    log.warn(
      { stateDir: dir, reason: err instanceof Error ? err.message : String(err) },
      'STATE_DIR is not writable: the registry and a generated REGISTRATION_SECRET will not survive a restart',
    );
    return undefined;
  }
}
