import 'dotenv/config';
import { createBalancer } from './balancer';
import { balancerSettings, loadBalancerConfig } from './balancer/config';
import { createLogger } from './balancer/logger';
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

/**
 * Entry point of the balancer process: validate the environment once, start, stop cleanly on
 * SIGTERM/SIGINT, re-read what can be re-read on SIGHUP (which would otherwise end the process).
 */
async function main(): Promise<void> {
  const config = settingsOrExit('Usage: node dist/load-balancer-server.js   (npm run start:balancer)', balancerSettings, loadBalancerConfig);
  if (!config) return;
  const log = createLogger(config.LOG_LEVEL);
  const stateDir = openStateDir(config.STATE_DIR, log);
  // Printed on stdout when new (without it no worker can register), kept in STATE_DIR for the next starts.
  const secret = config.REGISTRATION_SECRET ?? generatedSecret(stateDir, log, (text) => process.stdout.write(text));
  // POST /admin/drain ends as SIGTERM does: through stop(), which owns the exit code.
  const balancer = createBalancer({ ...config, REGISTRATION_SECRET: secret }, log, { requestDrain: (by) => stop(by), stateDir });
  const { port, adminPort } = await balancer.listen();
  const { maxClientConnections, descriptorLimit } = balancer.limits;
  log.info({ host: config.HOST, port, strategy: config.STRATEGY, fastPath: config.FAST_PATH, maxClientConnections, descriptorLimit }, 'balancer listening');
  // The port actually bound, so ADMIN_PORT=0 is usable; the token is never part of this line.
  if (adminPort !== undefined) log.info({ host: config.ADMIN_HOST, port: adminPort, changingRoutes: config.ADMIN_TOKEN !== undefined }, 'admin listening');
  // A cap set by hand above what the descriptors allow would let clients starve worker connections again.
  if (maxClientConnections > defaultClientCap(descriptorLimit)) {
    log.warn(
      { maxClientConnections, descriptorLimit, suggested: defaultClientCap(descriptorLimit) },
      'MAX_CLIENT_CONNECTIONS leaves too few descriptors for worker connections, probes and registrations',
    );
  }

  let stopping = false;
  /** `by` is the signal's name, or the admin route that asked. */
  function stop(by: string): void {
    if (stopping) return;
    stopping = true;
    log.info({ by }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    balancer.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Node's default for SIGHUP is to exit; a reload must never cost the process. Signals that arrive
  // during a reload are folded into one more run after it.
  let reloading: Promise<unknown> | undefined;
  let reloadAgain = false;
  const reload = (): void => {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = reloadAll(RELOAD_HOOKS, log).finally(() => {
      reloading = undefined;
      if (reloadAgain) {
        reloadAgain = false;
        reload();
      }
    });
  };
  process.on('SIGHUP', reload);
}

main().catch((err: unknown) => {
  process.stderr.write(`balancer failed to start: ${listenProblem(err)}\n`);
  process.exit(1);
});
