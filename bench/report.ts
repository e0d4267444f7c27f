/** Plain-text tables and number formats shared by every suite's report. */

export type Cell = string | number | undefined;

/**
 * A Markdown-compatible table (pipes and a separator row), columns padded so it also reads well in a
 * terminal. Numbers are right-aligned, text left-aligned.
 */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map((c) => (c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => r[i] === undefined || typeof r[i] === 'number' || /^-?[\d.,]+(x|%| ms| MB| µs)?( \(\d+ of \d+\))?$/.test(r[i])),
  );
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const separator = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(headers), separator, ...text.map(line)].join('\n');
}

export function fmtRps(rps: number | undefined): string | undefined {
  if (rps === undefined || !Number.isFinite(rps)) return undefined;
  return rps >= 100 ? Math.round(rps).toLocaleString('en-US') : rps.toFixed(1);
}

export function fmtMs(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return ms >= 100 ? `${Math.round(ms)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

export function fmtUs(us: number | undefined): string | undefined {
  return us === undefined ? undefined : `${us.toFixed(1)} µs`;
}

export function fmtRatio(r: number | undefined): string | undefined {
  return r === undefined ? undefined : `${r.toFixed(2)}x`;
}

export function fmtPct(pct: number | undefined): string | undefined {
  return pct === undefined ? undefined : `${pct.toFixed(0)}%`;
}

/**
 * A target's "other CPU" for the tables: the highest share over its kept rounds and, when some were
 * above `threshold`, how many: "38% (1 of 8)". The median tolerates such rounds while they are fewer than half.
 */
export function fmtWorstPct(values: readonly (number | undefined)[], threshold: number): string | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  if (!known.length) return undefined;
  const over = known.filter((v) => v > threshold).length;
  return `${fmtPct(Math.max(...known))}${over ? ` (${over} of ${values.length})` : ''}`;
}

export function fmtMb(kb: number | undefined): string | undefined {
  return kb === undefined ? undefined : `${(kb / 1024).toFixed(1)} MB`;
}

/** "w1 34% · w2 33% · w3 33%" from counts per worker name, names sorted. */
export function fmtShares(shares: Record<string, number> | undefined): string | undefined {
  if (!shares) return undefined;
  const total = Object.values(shares).reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  return Object.keys(shares)
    .sort()
    .map((name) => `${name} ${Math.round((100 * shares[name]) / total)}%`)
    .join(', ');
}
