import { median } from '../stats';
import type { Baseline } from './baseline';
import type { Round } from './measure';

/** What a run prints: one line per round, then the median, its spread and the ratio to the baseline. */

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const perRequest = (x: number, requests: number) => n(x / requests).padStart(9);

/**
 * Steady rounds agree to a fraction of a per cent. A round with a major GC reads far higher: its
 * incremental marking runs partly outside Heap::CollectGarbage, V8 deoptimizes code at the
 * mark-compact, and the requests run in baseline code until TurboFan has compiled them again (only the
 * compile itself is taken out). Such a round is marked, and the median is only the steady
 * count while fewer than half of the rounds are marked.
 */
export const OUTLIER_ABOVE_FLOOR = 0.03;

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median */
  readonly spread: number;
  /** Rounds more than OUTLIER_ABOVE_FLOOR above the lowest. */
  readonly outliers: number;
  /** PROCESSES > 1: the median of the primary's steady count per request over the same rounds. */
  readonly primaryMedian?: number;
}

const isOutlier = (steady: number, min: number) => steady > min * (1 + OUTLIER_ABOVE_FLOOR);

export function summarize(rounds: readonly Round[]): Summary {
  const steady = rounds.map((r) => r.steady);
  const mid = median(steady);
  const min = Math.min(...steady);
  const max = Math.max(...steady);
  const primary = rounds.flatMap((r) => (r.primary ? [r.primary.steady] : []));
  const outliers = steady.filter((x) => isOutlier(x, min)).length;
  return { median: mid, min, max, spread: (max - min) / mid, outliers, ...(primary.length ? { primaryMedian: median(primary) } : {}) };
}

/** With PROCESSES > 1, each row also names the serving process counted and the primary's steady count. */
export function roundsTable(rounds: readonly Round[], requests: number): string {
  const min = Math.min(...rounds.map((r) => r.steady));
  const several = rounds.some((r) => r.primary !== undefined);
  const lines = [`round   total/req  TurboFan/req   GC/req   steady/req${several ? '  serving pid  primary steady/req  seconds' : ''}`];
  rounds.forEach((r, i) => {
    const mark = isOutlier(r.steady, min) ? `  * ${(((r.steady - min) / min) * 100).toFixed(0)} % above the lowest` : '';
    const processes = several
      ? `  ${String(r.servingPid ?? '-').padStart(11)}  ${(r.primary ? n(r.primary.steady) : '-').padStart(18)}  ${r.seconds.toFixed(1).padStart(7)}`
      : '';
    lines.push(
      `${String(i + 1).padStart(5)} ${perRequest(r.total, requests)}  ${perRequest(r.compile, requests)}    ${perRequest(r.gc, requests)} ${n(r.steady).padStart(12)}${processes}${mark}`,
    );
  });
  return lines.join('\n');
}

export function summaryLines(summary: Summary, rounds: number, baseline: Baseline | undefined, node: string, valgrind: string): string[] {
  const lines = [
    `median: ${n(summary.median)} user-space instructions per request (rounds ${n(summary.min)} to ${n(summary.max)}, spread ${(summary.spread * 100).toFixed(1)} %)`,
  ];
  if (summary.primaryMedian !== undefined) {
    lines.push(`the primary over the same rounds: median ${n(summary.primaryMedian)} user-space instructions per request (compile and GC taken out)`);
  }
  if (summary.outliers * 2 >= rounds) {
    lines.push(`warning: ${summary.outliers} of ${rounds} rounds are marked (*): the median may not be the steady count; run again with more --rounds`);
  }
  if (!baseline) {
    lines.push('baseline: none (write one with --update-baseline)');
    return lines;
  }
  const ratio = summary.median / baseline.medianPerRequest;
  const change = (ratio - 1) * 100;
  lines.push(`baseline: ${n(baseline.medianPerRequest)} (commit ${baseline.commit}, ${baseline.node}, ${baseline.date.slice(0, 10)})`);
  lines.push(`ratio to baseline: ${ratio.toFixed(3)} (${change >= 0 ? '+' : ''}${change.toFixed(1)} %)`);
  if (baseline.node !== node || baseline.valgrind !== valgrind) {
    lines.push(
      `warning: the baseline was taken with ${baseline.node} and ${baseline.valgrind}, this run with ${node} and ${valgrind}: the ratio compares more than the builds`,
    );
  }
  return lines;
}
