import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSecret } from '../../utils/auth';
import type { Logger } from '../logger';
import { writeFileAtomicSync } from './atomic-file';
import { SECRET_FILE } from './state-dir';

/** As REGISTRATION_SECRET accepts it (balancer/config.ts): a kept file that holds less is not used. */
const MIN_SECRET_LENGTH = 16;

/**
 * The REGISTRATION_SECRET of a balancer started without one. With a usable STATE_DIR: the one an
 * earlier start kept in STATE_DIR/secret (logged by its path, never its value), or a new one, kept
 * there (mode 0600) for the next starts. Without: a new one for this run, as before STATE_DIR. A new
 * secret is printed once on stdout, on purpose: no worker can register without it. An explicit
 * REGISTRATION_SECRET never comes here, so it is never written to disk. Called once at start.
 */
export function generatedSecret(stateDir: string | undefined, log: Logger, print: (text: string) => void): string {
  const path = stateDir === undefined ? undefined : join(stateDir, SECRET_FILE);
  const kept = path === undefined ? undefined : readKept(path, log);
  if (kept !== undefined) {
    log.info({ path }, `reusing the generated secret from ${path}`);
    return kept;
  }
  const secret = generateSecret();
  let where = 'for this run';
  if (path !== undefined) {
    try {
      writeFileAtomicSync(path, `${secret}\n`);
      where = `and kept it in ${path} for the next starts`;
    } catch (err) {
      log.warn({ path, reason: (err as Error).message }, 'could not keep the generated secret; the next start generates another');
    }
  }
  print(`REGISTRATION_SECRET was not set; generated one ${where}:\nREGISTRATION_SECRET=${secret}\n`);
  return secret;
}

/** The kept secret, or undefined when there is none (silently) or it is unusable (with a warn line, never its content). */
function readKept(path: string, log: Logger): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn({ path, reason: (err as Error).message }, 'the kept secret cannot be read; generating another');
    return undefined;
  }
  const secret = text.trim();
  if (secret.length >= MIN_SECRET_LENGTH) return secret;
  log.warn({ path, characters: secret.length }, `the kept secret is shorter than ${MIN_SECRET_LENGTH} characters; generating another`);
  return undefined;
}
