import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { COMPILE_FUNCTION, GC_FUNCTION, parseAnnotate, steadyPerRequest } from '../../../bench/callgrind/annotate';

/**
 * The fixtures are what `callgrind_annotate --inclusive=yes --threshold=100` printed for two real dumps
 * of `npm run bench:instructions -- --keep` (see fixtures/README.md): one round still compiling with
 * TurboFan, one steady round without a compile job. The expected counts below are copied from the
 * lines of those files that the comments quote.
 */
const fixture = (name: string) => gunzipSync(readFileSync(join(__dirname, 'fixtures', name))).toString('utf8');

describe('parseAnnotate on a real callgrind_annotate listing', () => {
  const compiling = fixture('callgrind-annotate-compiling.txt.gz');
  const steady = fixture('callgrind-annotate-steady.txt.gz');

  it('divides a round into the per-request figures the run printed for it', () => {
    // Round 4 of the baseline run printed total 58,746, TurboFan 1,653, GC 4,102 and steady 52,991 per request.
    const cost = parseAnnotate(compiling);
    expect(Math.round(steadyPerRequest(cost, 3_000))).toBe(52_991);
  });

  it('takes the program total and the inclusive counts of TurboFan and of GC', () => {
    // "176,238,300 (100.0%)  PROGRAM TOTALS"
    // " 12,305,424 ( 6.98%)  ???:v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace, ...) [/usr/bin/node]"
    // "  4,960,345 ( 2.81%)  ???:v8::internal::compiler::PipelineCompilationJob::ExecuteJobImpl(...) [/usr/bin/node]"
    expect(parseAnnotate(compiling)).toEqual({ total: 176_238_300, compile: 4_960_345, gc: 12_305_424 });
  });

  it('reads a function missing from the listing as zero', () => {
    expect(steady).not.toContain(COMPILE_FUNCTION);
    // "171,226,728 (100.0%)  PROGRAM TOTALS", " 12,196,346 ( 7.12%)  ???:v8::internal::Heap::CollectGarbage(...)"
    expect(parseAnnotate(steady)).toEqual({ total: 171_226_728, compile: 0, gc: 12_196_346 });
  });

  it("skips a recursive re-entry (fn'2): its cost is inside the outer call's", () => {
    const gcLine = compiling.split('\n').find((line) => line.includes(GC_FUNCTION))!;
    const reentered = gcLine.replace(/\) \[/, ")'2 [").replace(/^\s*[\d,]+/, ' 999,999');
    const withReentry = compiling.replace(gcLine, `${gcLine}\n${reentered}`);
    expect(parseAnnotate(withReentry)).toEqual(parseAnnotate(compiling));
  });

  it('does not take another function whose name merely contains CollectGarbage', () => {
    // The scavenger's own entry (inside Heap::CollectGarbage) and a lambda defined in it.
    expect(compiling).toMatch(/ \?\?\?:v8::internal::ScavengerCollector::CollectGarbage\(\) \[/);
    expect(compiling).toMatch(/ScavengerCollector::CollectGarbage\(\)::\{lambda/);
    expect(parseAnnotate(compiling).gc).toBe(12_305_424);
  });

  it('refuses a text that is not such a listing, instead of reading it as a cheap round', () => {
    expect(() => parseAnnotate('')).toThrow(/PROGRAM TOTALS/);
    expect(() => parseAnnotate(compiling.replace(/^Events shown:.*$/m, 'Events shown: Ir Dr'))).toThrow(/only Ir/);
    expect(() => parseAnnotate(compiling.replace(/^(\s*)[\d,]+(\s+\([^)]*\)\s+PROGRAM TOTALS)/m, '$11,000$2'))).toThrow(/exceed the program total/);
  });
});

describe('steadyPerRequest', () => {
  it('divides what is left after compile and GC by the requests of the round', () => {
    expect(steadyPerRequest({ total: 10_000, compile: 3_000, gc: 1_000 }, 3)).toBe(2_000);
  });

  it('refuses a round of no requests', () => {
    expect(() => steadyPerRequest({ total: 1, compile: 0, gc: 0 }, 0)).toThrow(/positive/);
  });
});
