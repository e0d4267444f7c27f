import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { writeJson } from '../json';

/**
 * The committed reference a build's instruction count is compared with: the median of a run over one
 * build, which build that was, and what it ran on. A count is only comparable with one taken by the
 * same Node and valgrind, so both are recorded and a mismatch is reported next to the ratio.
 */
export interface Baseline {
  /** Median over the rounds of user-space instructions per request, compile and GC taken out. */
  medianPerRequest: number;
  rounds: number[];
  /** Each round's raw counts (whole dump, not per request), so that another subtraction can be recomputed. */
  detail: { total: number; compile: number; gc: number }[];
  requestsPerRound: number;
  warmupRequests: number;
  commit: string;
  node: string;
  valgrind: string;
  date: string;
}

export function readBaseline(path: string): Baseline | undefined {
  if (!existsSync(path)) return undefined;
  const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<Baseline>;
  if (typeof data.medianPerRequest !== 'number' || !(data.medianPerRequest > 0)) throw new Error(`${path} has no positive medianPerRequest`);
  return data as Baseline;
}

export function writeBaseline(path: string, baseline: Baseline): string {
  return writeJson(path, baseline);
}

/**
 * The commit of the checkout that holds `dist` (its parent directory), with `-dirty` when tracked
 * files other than the baseline itself differ from it; undefined outside a git checkout. It names the
 * sources, not the compiled files: a dist/ built before the last edit is not detected.
 */
export function commitOf(dist: string, baselinePath: string): string | undefined {
  const checkout = dirname(dist);
  const git = (args: string[]) => execFileSync('git', ['-C', checkout, ...args], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
  try {
    const commit = git(['rev-parse', '--short', 'HEAD']);
    const top = git(['rev-parse', '--show-toplevel']);
    const inRepo = relative(top, baselinePath);
    const exclude = inRepo.startsWith('..') ? [] : [`:(top,exclude)${inRepo}`];
    const changed = git(['status', '--porcelain', '--untracked-files=no', '--', ':(top)', ...exclude]);
    return changed ? `${commit}-dirty` : commit;
  } catch {
    return undefined;
  }
}

export function valgrindVersion(): string {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
