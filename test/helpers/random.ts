/**
 * mulberry32: a tiny seeded PRNG (32-bit state, full period 2^32), so strategy tests that draw
 * random numbers get the same sequence on every run and can assert exact splits.
 * Reference: Tommy Ettinger's mulberry32, https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
