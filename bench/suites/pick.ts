import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createStrategy, strategyNames, type Candidate, type PickContext, type Strategy } from '../../strategies';
import type { BenchOptions } from '../args';
import { runMetadata, writeJson } from '../json';
import { progress } from '../progress';
import { fmtRatio, table } from '../report';
import { median, ratio } from '../stats';

/**
 * The strategies alone: ns per pick() for every name in strategyNames (whatever it holds when this
 * runs), with 10 and 10,000 workers. No I/O, no proxy: what a pick costs on the request path.
 */

export interface PickRow {
  strategy: string;
  workers: number;
  /** Mean cost of onWorkerUp while the workers joined one by one (what registering them costs). */
  usPerJoin?: number;
  nsPerPick?: number;
  /** Picks that returned undefined (should be 0: every fake worker is eligible). */
  misses?: number;
  error?: string;
}

export interface PickResults {
  suite: 'pick';
  meta: ReturnType<typeof runMetadata>;
  rows: PickRow[];
}

const WORKER_COUNTS = [10, 10_000];
const CONTEXTS = 4096;
const BATCHES = 5;
const BATCH_MIN_NS = 50_000_000n;
const BATCH_MAX_PICKS = 2_000_000;
/** Joining stops here: a strategy that rebuilds on every join may need minutes for 10,000 workers. */
const JOIN_BUDGET_MS = 10_000;

function fakeWorkers(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({ url: `http://127.0.0.1:${10_000 + (i % 50_000)}/${i}`, name: `w${i}`, weight: 1, inflight: 0 }));
}

/** Varying client addresses, so hashing strategies do not hit one bucket. */
function fakeContexts(): PickContext[] {
  const req = { headers: {} } as unknown as IncomingMessage;
  return Array.from({ length: CONTEXTS }, (_, i) => ({ req, clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
}

/** Runs `count` picks; returns elapsed ns and how many picks found nobody. */
function batch(strategy: Strategy, contexts: PickContext[], count: number): { ns: bigint; misses: number } {
  let misses = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (strategy.pick(contexts[i & (CONTEXTS - 1)]) === undefined) misses++;
  }
  return { ns: process.hrtime.bigint() - start, misses };
}

export function measurePick(name: string, workers: number): PickRow {
  try {
    const strategy = createStrategy<Candidate>(name, { random: Math.random, now: Date.now, hashKey: 'ip' });
    const all = fakeWorkers(workers);
    const joinStart = performance.now();
    for (let i = 0; i < all.length; i++) {
      strategy.onWorkerUp(all[i]);
      const elapsed = performance.now() - joinStart;
      if (elapsed > JOIN_BUDGET_MS && i + 1 < all.length) {
        const usPerJoin = (elapsed * 1000) / (i + 1);
        return { strategy: name, workers, usPerJoin, error: `not measured: only ${i + 1} workers joined in ${JOIN_BUDGET_MS / 1000} s` };
      }
    }
    const usPerJoin = ((performance.now() - joinStart) * 1000) / workers;
    const contexts = fakeContexts();
    batch(strategy, contexts, 20_000); // warm-up: let the JIT settle
    // Grow the batch until one takes at least 50 ms, so timer resolution does not matter.
    let count = 10_000;
    let probe = batch(strategy, contexts, count);
    while (probe.ns < BATCH_MIN_NS && count < BATCH_MAX_PICKS) {
      count = Math.min(BATCH_MAX_PICKS, count * 4);
      probe = batch(strategy, contexts, count);
    }
    const perPick: number[] = [];
    let misses = 0;
    for (let b = 0; b < BATCHES; b++) {
      const run = batch(strategy, contexts, count);
      perPick.push(Number(run.ns) / count);
      misses += run.misses;
    }
    return { strategy: name, workers, usPerJoin, nsPerPick: median(perPick), misses };
  } catch (err) {
    return { strategy: name, workers, error: (err as Error).message };
  }
}

export function measureAllPicks(): PickRow[] {
  const rows: PickRow[] = [];
  for (const name of strategyNames) {
    for (const n of WORKER_COUNTS) {
      progress(`pick: ${name} with ${n.toLocaleString('en-US')} workers`);
      rows.push(measurePick(name, n));
    }
  }
  return rows;
}

export function formatPick(rows: PickRow[]): string {
  const body = [...new Set(rows.map((r) => r.strategy))].map((name) => {
    const small = rows.find((r) => r.strategy === name && r.workers === WORKER_COUNTS[0]);
    const large = rows.find((r) => r.strategy === name && r.workers === WORKER_COUNTS[1]);
    const ns = (r?: PickRow) => (r?.error ? r.error : r?.nsPerPick?.toFixed(1));
    const misses = (small?.misses ?? 0) + (large?.misses ?? 0);
    const join = large?.usPerJoin === undefined ? undefined : large.usPerJoin >= 100 ? large.usPerJoin.toFixed(0) : large.usPerJoin.toFixed(2);
    return [name, ns(small), ns(large), fmtRatio(ratio(large?.nsPerPick, small?.nsPerPick)), join, misses];
  });
  return table(['strategy', 'ns/pick, 10 workers', 'ns/pick, 10,000 workers', '10,000 / 10', 'µs per join (to 10,000)', 'picks with no worker'], body);
}

export function runPickSuite(opts: BenchOptions): PickResults {
  const results: PickResults = { suite: 'pick', meta: runMetadata(), rows: measureAllPicks() };
  process.stdout.write(
    `\nstrategy.pick() alone (median of ${BATCHES} batches, each >= 50 ms; ${strategyNames.length} strategies):\n\n${formatPick(results.rows)}\n`,
  );
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, results)}\n`);
  return results;
}
