/** Progress lines on stderr, one per phase, stamped with the seconds since the benchmark started. */
const startedAt = Date.now();

export function progress(message: string): void {
  const s = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${s}s] ${message}\n`);
}
