import { installCleanup, stopAll } from './processes';
import { commitOf, readBaseline, valgrindVersion, writeBaseline, type Baseline } from './callgrind/baseline';
import { measure, removeScratch, type Scratch } from './callgrind/measure';
import { optionsOrExit } from './args';
import { parseInstructionArgs, USAGE } from './callgrind/options';
import { roundsTable, summarize, summaryLines } from './callgrind/report';
import { writeJson } from './json';

/**
 * `npm run bench:instructions [-- options]`: user-space instructions per request of one build under
 * callgrind, against the committed baseline (see --help). Every process started here is stopped when
 * this one ends, on success, on an error, on Ctrl-C and at the time limit.
 */
async function main(): Promise<void> {
  const opts = optionsOrExit(parseInstructionArgs, USAGE);
  if (opts === undefined) return;
  const scratch: Scratch = { pids: [] };
  installCleanup(() => {
    if (!opts.keep) removeScratch(scratch);
  });
  const limit = setTimeout(() => {
    process.stderr.write(`bench:instructions: past the time limit of ${opts.timeLimitS} s, stopping\n`);
    process.exit(1);
  }, opts.timeLimitS * 1000);
  limit.unref();

  const baseline = opts.updateBaseline ? undefined : readBaseline(opts.baselinePath);
  const commit = opts.commit ?? commitOf(opts.dist, opts.baselinePath) ?? 'unknown';
  const node = process.version;
  const valgrind = valgrindVersion();
  const rounds = await measure({ ...opts, deadline: Date.now() + opts.timeLimitS * 1000 }, scratch);
  await stopAll();

  const summary = summarize(rounds);
  process.stdout.write(
    `\nuser-space instructions per request${opts.processes > 1 ? ` of the serving process holding the connection (PROCESSES=${opts.processes})` : ''}, ${opts.dist} (commit ${commit}), ${opts.requestsPerRound.toLocaleString('en-US')} requests per round after ${opts.warmupRequests.toLocaleString('en-US')} warm-up\n`,
  );
  process.stdout.write(`${roundsTable(rounds, opts.requestsPerRound)}\n\n${summaryLines(summary, rounds.length, baseline, node, valgrind).join('\n')}\n`);

  const result: Baseline = {
    medianPerRequest: Math.round(summary.median),
    rounds: rounds.map((r) => Math.round(r.steady)),
    detail: rounds.map((r) => ({ total: r.total, compile: r.compile, gc: r.gc })),
    requestsPerRound: opts.requestsPerRound,
    warmupRequests: opts.warmupRequests,
    commit,
    node,
    valgrind,
    date: new Date().toISOString(),
  };
  if (opts.updateBaseline) process.stdout.write(`baseline written to ${writeBaseline(opts.baselinePath, result)}\n`);
  if (opts.json) {
    const ratio = baseline ? summary.median / baseline.medianPerRequest : undefined;
    const processes =
      opts.processes > 1
        ? {
            servingPids: rounds.map((r) => r.servingPid),
            seconds: rounds.map((r) => r.seconds),
            primary: rounds.map((r) => r.primary),
            primaryMedianPerRequest: summary.primaryMedian,
          }
        : {};
    process.stdout.write(
      `results written to ${writeJson(opts.json, { ...result, processes: opts.processes, ...processes, dist: opts.dist, baseline, ratio })}\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // Every failure here is described by its message (a missing tool, a process that exited, a timeout).
    process.stderr.write(`bench:instructions failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
