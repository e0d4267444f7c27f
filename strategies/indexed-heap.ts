/** What an item must carry so the heap can find it: its slot, written by the heap (-1 when not held). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * A binary heap that remembers where each item sits, so an item can be removed, or put back in order
 * after its key changed, in O(log n) without a search. The order is the caller's `before(a, b)` (true
 * when a must come out before b); the caller keeps each item's key on the item and calls update()
 * after changing it. The position lives on the item (heapIndex), not in a Map: a pick in
 * weighted-round-robin sifts through every level, and a Map would add a hash-table write to each
 * step (docs/performance.md). So an item can be in one heap at a time; items are told apart by
 * identity.
 * Cost: O(1) peek and has, O(log n) push, pop, remove and update.
 * Used by strategies/weighted-round-robin.ts (one heap per weight class). Node's timers keep their
 * queue the same way (lib/internal/priority_queue.js, with a setPosition callback).
 */
export class IndexedHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The item that comes out first, or undefined when the heap is empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Whether this heap holds the item (another heap's item, or a stale index, answers false). */
  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  /** Throws if this heap already holds the item: a second copy would leave it with two positions. */
  push(item: T): void {
    if (this.has(item)) throw new Error('IndexedHeap.push: item already in the heap');
    this.items.push(item);
    this.siftUp(this.items.length - 1, item);
  }

  /** Removes and returns the first item, or undefined when the heap is empty. */
  pop(): T | undefined {
    const first = this.items[0];
    if (first !== undefined) this.remove(first);
    return first;
  }

  /** Takes the item out wherever it sits; false if this heap did not hold it. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const i = item.heapIndex;
    item.heapIndex = -1;
    const last = this.items.pop() as T;
    // The last item fills the hole, then moves whichever way its key says.
    if (i < this.items.length) this.resift(i, last);
    return true;
  }

  /** Restores the order after the caller changed the item's key, in either direction; false if not held. */
  update(item: T): boolean {
    if (!this.has(item)) return false;
    this.resift(item.heapIndex, item);
    return true;
  }

  private resift(i: number, item: T): void {
    if (i > 0 && this.before(item, this.items[(i - 1) >> 1])) this.siftUp(i, item);
    else this.siftDown(i, item);
  }

  /** Moves parents down into the hole at i until item fits there (one write per level, not a swap). */
  private siftUp(i: number, item: T): void {
    while (i > 0) {
      const up = (i - 1) >> 1;
      const parent = this.items[up];
      if (!this.before(item, parent)) break;
      this.items[i] = parent;
      parent.heapIndex = i;
      i = up;
    }
    this.items[i] = item;
    item.heapIndex = i;
  }

  /** Moves the leading child up into the hole at i until item fits there. */
  private siftDown(i: number, item: T): void {
    const n = this.items.length;
    for (;;) {
      let down = 2 * i + 1;
      if (down >= n) break;
      if (down + 1 < n && this.before(this.items[down + 1], this.items[down])) down++;
      const child = this.items[down];
      if (!this.before(child, item)) break;
      this.items[i] = child;
      child.heapIndex = i;
      i = down;
    }
    this.items[i] = item;
    item.heapIndex = i;
  }
}
