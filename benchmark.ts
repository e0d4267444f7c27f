import { optionsOrExit, parseArgs, USAGE } from './bench/args';
import { installCleanup, stopAll } from './bench/processes';
import { runCoresSuite } from './bench/suites/cores';
import { runFaultsSuite } from './bench/suites/faults';
import { runPeersSuite } from './bench/suites/peers';
import { runPickSuite } from './bench/suites/pick';
import { runReplicasSuite } from './bench/suites/replicas';
import { runSeedSuite } from './bench/suites/seed';
import { runTargetSuite } from './bench/suites/target';

/**
 * `npm run benchmark [-- options]`: the seed comparison by default, `--suite peers` for the data-plane
 * comparison with nginx, HAProxy and Node proxies, `--suite pick` for the strategies alone,
 * `--suite faults` for what a dying worker costs clients, `--suite cores` for what PROCESSES=2 costs
 * against PROCESSES=1, `--suite replicas` for how fast a registration reaches another replica
 * through Redis, `--target <url>` for load
 * against a balancer already running here (to watch on its dashboard). Every
 * server runs on 127.0.0.1 and every process started here is killed when this one exits.
 */
async function main(): Promise<void> {
  const opts = optionsOrExit(parseArgs, USAGE);
  if (opts === undefined) return;
  installCleanup();
  if (opts.suite === 'peers') await runPeersSuite(opts);
  else if (opts.suite === 'pick') runPickSuite(opts);
  else if (opts.suite === 'faults') await runFaultsSuite(opts);
  else if (opts.suite === 'cores') await runCoresSuite(opts);
  else if (opts.suite === 'replicas') await runReplicasSuite(opts);
  else if (opts.suite === 'target') await runTargetSuite(opts);
  else await runSeedSuite(opts);
  await stopAll();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
