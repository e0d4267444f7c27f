import fc from 'fast-check';
import { requestProperty, responseProperty } from './mutations';

/**
 * `npm run fuzz -- --minutes N [--seed S]`: runs the mutation fuzzer's request and response
 * properties with fresh seeds, in rounds of ROUND cases each, until N minutes (default 1) are up.
 * On a divergence it prints the seed, fast-check's replay path and the shrunk case, and exits 1;
 * `--seed S` replays from one seed. The same properties run with fixed seeds in `npm test`.
 */

const ROUND = 5_000;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function main(): number {
  const minutes = Number(option('minutes') ?? '1');
  if (!(minutes > 0)) {
    console.error('usage: npm run fuzz -- --minutes N [--seed S]');
    return 2;
  }
  const fixedSeed = option('seed');
  const until = Date.now() + minutes * 60_000;
  let cases = 0;
  let round = 0;
  do {
    const seed = fixedSeed !== undefined ? Number(fixedSeed) : (Date.now() ^ (round * 0x9e3779b1)) | 0;
    for (const [name, property] of [
      ['requests', requestProperty],
      ['responses', responseProperty],
    ] as const) {
      const details = fc.check(property as fc.IProperty<unknown>, { seed, numRuns: ROUND });
      cases += details.numRuns;
      if (details.failed) {
        console.error(`divergence in ${name} after ${cases} cases`);
        console.error(`reproduce: npm run fuzz -- --minutes 1 --seed ${seed}  (fast-check seed ${seed}, path ${details.counterexamplePath})`);
        console.error(details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance));
        return 1;
      }
    }
    round++;
    if (fixedSeed !== undefined) break;
  } while (Date.now() < until);
  console.log(`no divergence in ${cases} cases (${round} rounds)`);
  return 0;
}

process.exitCode = main();
