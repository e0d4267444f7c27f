import type { Logger } from './logger';

/** One thing SIGHUP re-reads without a restart (TLS certificates will be the first). */
export interface ReloadHook {
  /** Named in the log line, e.g. 'tls-certificates'. */
  readonly name: string;
  /** Re-reads its files; throws (or rejects) to keep what is in force, which the log line then says. */
  reload(): void | Promise<void>;
}

/**
 * Called by the balancer's SIGHUP handler: runs every hook in turn and logs one line, starting
 * "SIGHUP: reloading", naming what was re-read and what failed. Never throws: a hook that fails keeps
 * its old state and the process keeps serving, as nginx does when a reload finds a bad certificate.
 */
export async function reloadAll(hooks: readonly ReloadHook[], log: Logger): Promise<{ reloaded: string[]; failed: string[] }> {
  const reloaded: string[] = [];
  const failed: string[] = [];
  const errors: Record<string, string> = {};
  for (const hook of hooks) {
    try {
      await hook.reload();
      reloaded.push(hook.name);
    } catch (err) {
      failed.push(hook.name);
      errors[hook.name] = err instanceof Error ? err.message : String(err);
    }
  }
  if (hooks.length === 0) log.info({ reloaded }, 'SIGHUP: reloading: nothing to re-read (no certificates are configured); still serving');
  else if (failed.length === 0) log.info({ reloaded }, `SIGHUP: reloading: re-read ${reloaded.join(', ')}`);
  else log.warn({ reloaded, failed, errors }, `SIGHUP: reloading: ${failed.join(', ')} failed and kept what was in force`);
  return { reloaded, failed };
}
