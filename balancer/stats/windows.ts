/**
 * Sliding windows over cumulative counters, kept off the request path: a sampler copies a worker's
 * counters into a fixed ring of snapshots, and a window's count is the live value minus the oldest
 * snapshot still inside the window, so a rate or a quantile costs nothing until someone asks for it.
 * Memory is fixed at construction: (capacity x (width + 1)) float64s, whatever the traffic.
 */
export class SnapshotRing {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  /** Slot the next push writes; `filled` snapshots are held, the oldest at (next - filled). */
  private next = 0;
  private filled = 0;

  constructor(
    readonly capacity: number,
    readonly width: number,
  ) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity * width);
  }

  /** Called by the sampler with the counters as they stand at `at` (ms epoch); overwrites the oldest when full. */
  push(at: number, counters: ArrayLike<number>): void {
    this.times[this.next] = at;
    this.values.set(counters, this.next * this.width);
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  /**
   * The oldest snapshot taken at most `windowMs` before `now`, as its time and a view of its counters,
   * or undefined when none is that recent. Snapshots are pushed in time order, so the first one inside
   * the window, walking from the oldest, is the answer.
   */
  oldestWithin(now: number, windowMs: number): { at: number; counters: Float64Array } | undefined {
    for (let k = this.filled; k > 0; k--) {
      const slot = (this.next - k + this.capacity) % this.capacity;
      if (now - this.times[slot] <= windowMs) return { at: this.times[slot], counters: this.values.subarray(slot * this.width, (slot + 1) * this.width) };
    }
    return undefined;
  }

  get bytes(): number {
    return this.times.byteLength + this.values.byteLength;
  }
}

/** What happened inside a window: the counters' growth over `elapsedMs` (0 when the window holds no snapshot). */
export interface WindowDelta {
  readonly counts: Float64Array;
  readonly elapsedMs: number;
}

/** `live` minus the ring's oldest snapshot within the window; an empty window counts nothing over no time. */
export function windowDelta(ring: SnapshotRing, live: ArrayLike<number>, now: number, windowMs: number): WindowDelta {
  const base = ring.oldestWithin(now, windowMs);
  const counts = new Float64Array(ring.width);
  if (base === undefined) return { counts, elapsedMs: 0 };
  for (let i = 0; i < counts.length; i++) counts[i] = Math.max(0, live[i] - base.counters[i]);
  return { counts, elapsedMs: now - base.at };
}

/** Events per second over a window; 0 for a window of no time. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/**
 * The q-quantile (0 < q <= 1) of a histogram of non-cumulative slot counts, `bounds` being each slot's
 * inclusive upper bound and one slot more counting what exceeds the last bound. Interpolates linearly
 * inside the slot that holds the rank, from the previous bound (0 for the first), as Prometheus's
 * histogram_quantile does; a rank in the overflow slot answers the last bound, since nothing says how far
 * beyond it lies. Undefined for an empty histogram.
 */
export function histogramQuantile(q: number, slots: ArrayLike<number>, bounds: readonly number[]): number | undefined {
  let total = 0;
  for (let i = 0; i < slots.length; i++) total += slots[i];
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const inSlot = slots[i];
    if (inSlot > 0 && below + inSlot >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / inSlot);
    }
    below += inSlot;
  }
  return bounds[bounds.length - 1];
}
