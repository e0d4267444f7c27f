import { IndexedHeap } from '../../../strategies/indexed-heap';
import { mulberry32 } from '../../helpers/random';

interface Item {
  key: number;
  id: number;
  heapIndex: number;
}

const item = (key: number, id = key): Item => ({ key, id, heapIndex: -1 });
/** Max-heap on key, then the lower id first, the order weighted-round-robin uses. */
const maxFirst = (a: Item, b: Item): boolean => a.key > b.key || (a.key === b.key && a.id < b.id);

function drain(heap: IndexedHeap<Item>): number[] {
  const out: number[] = [];
  for (let next = heap.pop(); next; next = heap.pop()) out.push(next.id);
  return out;
}

describe('IndexedHeap', () => {
  it('gives items back in its order, ties by the comparator, and undefined when empty', () => {
    const heap = new IndexedHeap<Item>(maxFirst);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    for (const [key, id] of [
      [3, 1],
      [9, 2],
      [3, 0],
      [5, 3],
      [9, 4],
    ])
      heap.push(item(key, id));
    expect(heap.size).toBe(5);
    expect(heap.peek()?.id).toBe(2);
    expect(drain(heap)).toEqual([2, 4, 3, 0, 1]);
    expect(heap.size).toBe(0);
  });

  it('removes an item from anywhere, and answers false for one it does not hold', () => {
    const heap = new IndexedHeap<Item>(maxFirst);
    const items = [8, 1, 6, 3, 7, 2, 5, 4].map((k) => item(k));
    items.forEach((i) => heap.push(i));
    expect(heap.remove(items[2])).toBe(true); // key 6, in the middle
    expect(heap.remove(items[0])).toBe(true); // key 8, the top
    expect(heap.remove(items[2])).toBe(false);
    expect(heap.remove(item(99))).toBe(false);
    expect(heap.has(items[2])).toBe(false);
    expect(items[2].heapIndex).toBe(-1);
    expect(drain(heap)).toEqual([7, 5, 4, 3, 2, 1]);
  });

  it('puts an item back in order after its key moves either way', () => {
    const heap = new IndexedHeap<Item>(maxFirst);
    const items = [10, 20, 30, 40, 50].map((k) => item(k));
    items.forEach((i) => heap.push(i));
    items[4].key = 5; // the top sinks
    expect(heap.update(items[4])).toBe(true);
    items[0].key = 45; // a bottom one rises
    expect(heap.update(items[0])).toBe(true);
    expect(heap.update(item(1))).toBe(false);
    expect(drain(heap).map((id) => items.find((i) => i.id === id)!.key)).toEqual([45, 40, 30, 20, 5]);
  });

  it('refuses to hold the same item twice, but takes it back after removal', () => {
    const heap = new IndexedHeap<Item>(maxFirst);
    const a = item(1);
    heap.push(a);
    expect(() => heap.push(a)).toThrow('already in the heap');
    heap.remove(a);
    heap.push(a);
    expect(heap.size).toBe(1);
  });

  it("does not mistake another heap's item for its own", () => {
    const one = new IndexedHeap<Item>(maxFirst);
    const two = new IndexedHeap<Item>(maxFirst);
    const a = item(1);
    const b = item(2);
    one.push(a);
    two.push(b);
    expect(two.has(a)).toBe(false);
    expect(two.remove(a)).toBe(false);
    expect(two.update(a)).toBe(false);
    expect(one.peek()).toBe(a);
  });

  it('matches a sorted list through thousands of random pushes, removals, key changes and pops', () => {
    const random = mulberry32(42);
    const heap = new IndexedHeap<Item>(maxFirst);
    const held: Item[] = [];
    let nextId = 0;
    for (let step = 0; step < 5_000; step++) {
      const r = random();
      if (r < 0.4 || held.length === 0) {
        const i = item(Math.floor(random() * 50), nextId++);
        heap.push(i);
        held.push(i);
      } else if (r < 0.6) {
        const i = held.splice(Math.floor(random() * held.length), 1)[0];
        expect(heap.remove(i)).toBe(true);
      } else if (r < 0.85) {
        const i = held[Math.floor(random() * held.length)];
        i.key = Math.floor(random() * 50);
        heap.update(i);
      } else {
        const best = [...held].sort((a, b) => (maxFirst(a, b) ? -1 : 1))[0];
        expect(heap.pop()).toBe(best);
        held.splice(held.indexOf(best), 1);
      }
      expect(heap.size).toBe(held.length);
    }
    for (const i of held) expect(heap.has(i)).toBe(true);
    expect(drain(heap)).toEqual([...held].sort((a, b) => (maxFirst(a, b) ? -1 : 1)).map((i) => i.id));
  });
});
