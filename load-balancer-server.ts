import 'dotenv/config';
import cluster from 'node:cluster';
import { createBalancer, type BalancerOptions } from './balancer';
import { startPrimary } from './balancer/cluster/primary';
import { RollingReplacer } from './balancer/cluster/rolling-replace';
import { startServing } from './balancer/cluster/serving';
import { reportStartFailure } from './balancer/cluster/start-failure';
import { balancerSettings, loadBalancerConfig, processCount } from './balancer/config';
import { createLogger, type Logger } from './balancer/logger';
import { reloadAll, type ReloadHook } from './balancer/reload';
import { defaultClientCap } from './balancer/listener/descriptor-budget';
import { generatedSecret } from './balancer/state/generated-secret';
import { openStateDir } from './balancer/state/state-dir';
import { settingsOrExit } from './utils/env';
import { listenProblem } from './utils/network';

/**
 * What SIGHUP re-reads without a restart. Empty for now: TLS certificates join it when the balancer
 * gets TLS. Everything else (settings, the secret) takes a restart, as their validation runs once.
 */
const RELOAD_HOOKS: readonly ReloadHook[] = [];

/** What each role hands back to main(): how to stop it (the caller owns the exit code). */
type Close = () => Promise<void>;

/**
 * Entry point of the balancer process: validate the environment once, start, stop cleanly on
 * SIGTERM/SIGINT, re-read what can be re-read on SIGHUP (which would otherwise end the process).
 * PROCESSES=1: one process does everything (createBalancer). PROCESSES > 1: this process is the
 * primary (balancer/cluster/primary.ts), and node:cluster runs this file again in each serving
 * process (balancer/cluster/serving.ts).
 */
async function main(): Promise<void> {
  const config = settingsOrExit('Usage: node dist/load-balancer-server.js   (npm run start:balancer)', balancerSettings, loadBalancerConfig);
  if (!config) return;
  const processes = processCount(config.PROCESSES);
  if (processes > 1 && cluster.isWorker) {
    // The primary set REGISTRATION_SECRET in this process's environment; STATE_DIR is the primary's alone.
    const log = createLogger(config.LOG_LEVEL, 'serving');
    await runServing({ ...config, REGISTRATION_SECRET: config.REGISTRATION_SECRET ?? '' }, log);
    return;
  }
  const log = createLogger(config.LOG_LEVEL);
  const stateDir = openStateDir(config.STATE_DIR, log);
  // Printed on stdout when new (without it no worker can register), kept in STATE_DIR for the next starts.
  const secret = config.REGISTRATION_SECRET ?? generatedSecret(stateDir, log, (text) => process.stdout.write(text));
  const options: BalancerOptions = { ...config, REGISTRATION_SECRET: secret };
  // POST /admin/drain ends as SIGTERM does: through stop(), which owns the exit code.
  let close: Close = () => Promise.resolve();
  // PROCESSES > 1: after the hooks, SIGHUP replaces the serving processes one at a time.
  let afterReload: () => Promise<unknown> = () => Promise.resolve();
  // The primary waits for its serving processes' own drains (ServingFleet kills one after 12 s), so it gets longer.
  const stop = onStopSignals(log, () => close(), processes > 1 ? 15_000 : 10_000);
  if (processes > 1) {
    const primary = await startPrimary(options, log, { processes, stateDir, requestDrain: stop });
    const replacer = new RollingReplacer(primary.fleet, log);
    afterReload = () => replacer.replace();
    close = () => {
      replacer.stop();
      return primary.close();
    };
    log.info({ host: config.HOST, port: primary.port, processes, strategy: config.STRATEGY, fastPath: config.FAST_PATH }, 'balancer listening');
    logAdmin(log, options, primary.adminPort);
  } else {
    const balancer = createBalancer(options, log, { requestDrain: stop, stateDir });
    close = () => balancer.close();
    const { port, adminPort } = await balancer.listen();
    const { maxClientConnections, descriptorLimit } = balancer.limits;
    log.info({ host: config.HOST, port, strategy: config.STRATEGY, fastPath: config.FAST_PATH, maxClientConnections, descriptorLimit }, 'balancer listening');
    logAdmin(log, options, adminPort);
    warnAboutClientCap(log, maxClientConnections, descriptorLimit);
  }
  process.on(
    'SIGHUP',
    reloader(log, () => afterReload()),
  );
}

/** A serving process: drains on SIGTERM/SIGINT; SIGHUP is the primary's to act on. */
async function runServing(config: BalancerOptions, log: Logger): Promise<void> {
  let close: Close = () => Promise.resolve();
  const stop = onStopSignals(log, () => close(), 10_000);
  drainWhenThePrimaryIsGone(log, stop);
  // A terminal's hangup reaches the whole process group; the primary decides what SIGHUP means.
  process.on('SIGHUP', () => log.debug('SIGHUP is handled by the primary'));
  const serving = await startServing(config, log);
  close = () => serving.close();
  log.info({ port: serving.port, maxClientConnections: serving.limits.maxClientConnections }, 'serving process listening');
}

/**
 * A primary that dies (SIGKILL, a crash) takes PORT's listening socket with it, and nothing feeds the
 * view any more; node:cluster would then end this process at once (lib/internal/cluster/child.js
 * exits on an unexpected 'disconnect' unless `exitedAfterDisconnect` is set), cutting every request in
 * flight. Instead the process drains as on SIGTERM: the requests under way finish, each connection
 * closes after its next response, then it exits (within the same 10 s bound).
 */
function drainWhenThePrimaryIsGone(log: Logger, stop: (by: string) => void): void {
  const worker = cluster.worker;
  if (worker === undefined) return;
  (worker as { exitedAfterDisconnect: boolean }).exitedAfterDisconnect = true;
  process.once('disconnect', () => {
    log.warn('the primary is gone: finishing the requests under way, then exiting');
    stop('the primary leaving');
  });
}

/** The port actually bound, so ADMIN_PORT=0 is usable; the token is never part of this line. */
function logAdmin(log: Logger, config: BalancerOptions, adminPort: number | undefined): void {
  if (adminPort !== undefined) log.info({ host: config.ADMIN_HOST, port: adminPort, changingRoutes: config.ADMIN_TOKEN !== undefined }, 'admin listening');
}

/** A cap set by hand above what the descriptors allow would let clients starve worker connections again. */
function warnAboutClientCap(log: Logger, maxClientConnections: number, descriptorLimit: number): void {
  if (maxClientConnections <= defaultClientCap(descriptorLimit)) return;
  log.warn(
    { maxClientConnections, descriptorLimit, suggested: defaultClientCap(descriptorLimit) },
    'MAX_CLIENT_CONNECTIONS leaves too few descriptors for worker connections, probes and registrations',
  );
}

/**
 * SIGTERM and SIGINT end in close() and exit 0 (1 if the close failed, or after `forceExitMs`); returns the
 * same stop for POST /admin/drain. `by` is the signal's name, or the admin route that asked.
 */
function onStopSignals(log: Logger, close: Close, forceExitMs: number): (by: string) => void {
  let stopping = false;
  const stop = (by: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ by }, 'shutting down');
    const force = setTimeout(() => process.exit(1), forceExitMs);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return stop;
}

/**
 * Node's default for SIGHUP is to exit; a reload must never cost the process. Runs the reload hooks,
 * then `after` (the primary's rolling replacement). Signals that arrive during a reload are folded
 * into one more run after it.
 */
function reloader(log: Logger, after: () => Promise<unknown>): () => void {
  let reloading: Promise<unknown> | undefined;
  let reloadAgain = false;
  const reload = (): void => {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = reloadAll(RELOAD_HOOKS, log)
      .then(after)
      .catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: the reload failed; still serving'))
      .finally(() => {
        reloading = undefined;
        if (reloadAgain) {
          reloadAgain = false;
          reload();
        }
      });
  };
  return reload;
}

main().catch(async (err: unknown) => {
  const reason = listenProblem(err);
  // A serving process tells the primary, whose one line then names the cause; the primary prints it.
  if (!(cluster.isWorker && (await reportStartFailure(reason)))) process.stderr.write(`balancer failed to start: ${reason}\n`);
  process.exit(1);
});
