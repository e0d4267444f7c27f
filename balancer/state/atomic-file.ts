import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Owner read/write only: the files of STATE_DIR hold a secret, or the fleet's layout. */
export const STATE_FILE_MODE = 0o600;

/**
 * Replaces `path` with `data` so that a reader, or a start after a crash or a power cut, finds the old
 * file whole or the new one whole, never a mix: a temporary file beside it (same directory, so the same
 * file system, where rename(2) is atomic), mode 0600 from its creation, flushed to disk, renamed over
 * `path`, then the directory flushed so the rename itself is durable. Rejects with the fs error; the
 * temporary file is removed then. Called by the snapshot writer, one write at a time.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const file = await open(tmp, 'w', STATE_FILE_MODE);
    try {
      // A temporary file left by a crash keeps its old mode through open(); this sets it whatever it was.
      await file.chmod(STATE_FILE_MODE);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** writeFileAtomic, blocking: for the one write at start (the generated secret), before anything is served. */
export function writeFileAtomicSync(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w', STATE_FILE_MODE);
    try {
      fchmodSync(fd, STATE_FILE_MODE);
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    throw err;
  }
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // See syncDirectory.
  }
}

/** fsync of a directory: Linux makes a rename durable this way; where a directory cannot be opened or synced, the rename already happened. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort, as above.
  }
}
