/**
 * The workers a randomised strategy holds, in an array for O(1) uniform sampling, with an index so a
 * worker joins and leaves in O(1) (swap with the last, pop). Used by random, power-of-two and
 * least-latency; the order of the array carries no meaning, so swapping is free.
 */
export class Members<W> {
  private readonly items: W[] = [];
  private readonly index = new Map<W, number>();

  get size(): number {
    return this.items.length;
  }

  has(worker: W): boolean {
    return this.index.has(worker);
  }

  /** Called on onWorkerUp; a second add of the same worker is a no-op. Returns whether it was new. */
  add(worker: W): boolean {
    if (this.index.has(worker)) return false;
    this.index.set(worker, this.items.length);
    this.items.push(worker);
    return true;
  }

  /** Called on onWorkerDown; an unknown worker is a no-op. Returns whether it was there. */
  remove(worker: W): boolean {
    const i = this.index.get(worker);
    if (i === undefined) return false;
    const last = this.items.pop()!;
    if (last !== worker) {
      this.items[i] = last;
      this.index.set(last, i);
    }
    this.index.delete(worker);
    return true;
  }

  at(i: number): W {
    return this.items[i];
  }

  /**
   * Moves every member that is in `avoid` to the end of the array and returns how many are not, so
   * the caller samples uniformly from [0, eligible) in O(|avoid|) instead of filtering all n.
   */
  eligible(avoid?: ReadonlySet<W>): number {
    let end = this.items.length;
    if (!avoid || avoid.size === 0) return end;
    for (const worker of avoid) {
      const i = this.index.get(worker);
      if (i === undefined) continue;
      end--;
      this.swap(i, end);
    }
    return end;
  }

  /**
   * Power of two choices over the members not in `avoid`: two distinct random draws, and the second
   * wins only when `better(second, first)`. Undefined when none is eligible.
   */
  bestOfTwo(random: () => number, avoid: ReadonlySet<W> | undefined, better: (a: W, b: W) => boolean): W | undefined {
    const eligible = this.eligible(avoid);
    if (eligible <= 1) return eligible === 1 ? this.items[0] : undefined;
    const i = randomIndex(random, eligible);
    // The second draw is from the other eligible - 1 slots, so the two are always distinct.
    let j = randomIndex(random, eligible - 1);
    if (j >= i) j++;
    const first = this.items[i];
    const second = this.items[j];
    return better(second, first) ? second : first;
  }

  private swap(i: number, j: number): void {
    if (i === j) return;
    const a = this.items[i];
    const b = this.items[j];
    this.items[i] = b;
    this.items[j] = a;
    this.index.set(b, i);
    this.index.set(a, j);
  }
}

/** An index in [0, n) from a random() in [0, 1); clamped in case an injected source returns 1. */
export function randomIndex(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
