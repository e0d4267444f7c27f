import { execFile } from 'node:child_process';

/**
 * Reading one callgrind dump: `callgrind_annotate --inclusive=yes` prints every function's inclusive
 * instruction count (Ir), and the steady cost of the requests in that dump is the program total less
 * the work V8 does on its own schedule rather than per request: TurboFan's compile jobs and garbage
 * collection (docs/measuring.md, section 1). Run with `--single-threaded`, both happen on the main
 * thread and so inside the counted process.
 */

/** V8's optimizing compile job, inclusive (graph building, optimization, code generation). */
export const COMPILE_FUNCTION = 'v8::internal::compiler::PipelineCompilationJob::ExecuteJobImpl(';
/** Every collection, scavenge and mark-compact alike, goes through this one entry point. */
export const GC_FUNCTION = 'v8::internal::Heap::CollectGarbage(';

export interface DumpCost {
  /** All user-space instructions in the dump. */
  readonly total: number;
  /** Inclusive instructions of TurboFan compile jobs. */
  readonly compile: number;
  /** Inclusive instructions of garbage collection. */
  readonly gc: number;
}

// "273,149,038 (100.0%)  PROGRAM TOTALS"
const TOTALS = /^\s*([\d,]+)\s+\([^)]*\)\s+PROGRAM TOTALS\s*$/m;
// "79,442,872 (29.08%)  ???:v8::internal::...(...) [/usr/bin/node]": count, then file:function, then [object]
const FUNCTION_LINE = /^\s*([\d,]+)\s+\([^)]*\)\s+(.*?)(?:\s+\[[^\]]*\])?\s*$/;
// callgrind names a recursive re-entry `fn'2`; its cost is already inside the outer call's.
const RECURSION_SUFFIX = /'\d+$/;

const count = (digits: string) => Number(digits.replace(/,/g, ''));

/**
 * Parses the text `callgrind_annotate --inclusive=yes --threshold=100` printed for one dump. A function
 * absent from the listing ran zero instructions. Throws when the text is not such an output (no
 * program total, or an event other than Ir), so that a broken dump never reads as a cheap round.
 */
export function parseAnnotate(text: string): DumpCost {
  const totals = TOTALS.exec(text);
  if (!totals) throw new Error('callgrind_annotate output without a PROGRAM TOTALS line');
  const events = /^Events shown:\s+(.*)$/m.exec(text)?.[1].trim();
  if (events !== 'Ir') throw new Error(`expected callgrind_annotate to show only Ir, got ${events ?? '(no Events shown line)'}`);
  let compile = 0;
  let gc = 0;
  for (const line of text.split('\n')) {
    const match = FUNCTION_LINE.exec(line);
    if (!match) continue;
    const name = match[2].slice(match[2].indexOf(':') + 1);
    if (RECURSION_SUFFIX.test(name)) continue;
    if (name.startsWith(COMPILE_FUNCTION)) compile += count(match[1]);
    else if (name.startsWith(GC_FUNCTION)) gc += count(match[1]);
  }
  const total = count(totals[1]);
  if (compile + gc > total) throw new Error(`compile (${compile}) and GC (${gc}) exceed the program total (${total})`);
  return { total, compile, gc };
}

/** Instructions per request once compile and GC are taken out. */
export function steadyPerRequest(cost: DumpCost, requests: number): number {
  if (!(requests > 0)) throw new Error(`requests must be positive, got ${requests}`);
  return (cost.total - cost.compile - cost.gc) / requests;
}

/** Runs callgrind_annotate on one dump file; rejects after `timeoutMs`. */
export function annotate(dumpFile: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'callgrind_annotate',
      ['--inclusive=yes', '--threshold=100', dumpFile],
      { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => (err ? reject(new Error(`callgrind_annotate ${dumpFile} failed: ${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}
