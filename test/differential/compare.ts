/** Shared by the differential properties (request-properties.ts, response-properties.ts). */

/** `data` cut at `at` (any order, any values: taken modulo its length), one Buffer a read. */
export function cut(data: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((i) => (data.length === 0 ? 0 : i % (data.length + 1))))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(data.subarray(from, p));
    from = p;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

export const show = (v: unknown) => JSON.stringify(v);
export const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
