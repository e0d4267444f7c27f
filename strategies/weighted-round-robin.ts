import { IndexedHeap, type HeapItem } from './indexed-heap';
import type { Candidate, PickContext, Strategy } from './strategy';

/**
 * Smooth weighted round robin, as nginx does it: on each pick every eligible worker's current weight
 * grows by its weight, the largest is chosen (the earliest joined on a tie) and loses the total of
 * the weights. From a fresh start each block of W picks (W the total weight) gives every worker
 * exactly its weight, and the heavy ones are spread out: 5,1,1 gives a,a,b,a,c,a,a, not a,a,a,a,a,b,c.
 *
 * Structure: nginx touches every worker on every pick; this keeps the same numbers implicitly. With t
 * the number of picks so far, each worker holds a base such that its current weight is
 * base + t * weight, so "everyone gains their weight" is t += 1 and only the chosen worker's base moves
 * (-= W). A worker joins at current weight 0 (base = -t * weight); a weight change keeps the current
 * weight (base += t * (old - new)); a worker avoided by a retry neither gains nor is charged, as
 * nginx skips peers already tried (base -= weight for that pick, and W leaves its weight out).
 * Why this reproduces nginx's order exactly: workers of equal weight gain at the same rate, so within
 * one weight class the order of current weights is the order of bases, and between picks only the
 * chosen worker's base changes. One indexed max-heap per distinct weight, keyed by base and then join
 * order, holds each class's leader at its top; a pick compares the d tops by base + (t + 1) * weight,
 * the very value nginx compares after its additions, with nginx's tie-break (the earliest joined), so
 * it chooses the same worker. Across classes no fixed key exists (which of two workers of different
 * weights leads depends on t), which is why one heap over all workers cannot hold the nginx order;
 * Envoy's earliest-deadline-first heap is O(log n) but front-loads the heavy worker (5,1,1 as
 * a,a,a,a,b,c,a), a different order.
 * Cost: O(d + log n) per pick, d the number of distinct weights (typically 1-3) and n the workers,
 * plus O(|avoid| log n) on a retry (avoided workers leave their heaps for that pick); O(log n) per
 * join, leave or weight change.
 * Arithmetic: doubles are exact while every value is an integer below 2^53. Registration's integer
 * weights (1-1000) keep current weights small, but t * weight grows with every pick, so every 2^32
 * picks t is folded into the bases (one O(n) pass; each heap keeps its order, since all bases of a
 * class move by the same amount) and t * weight stays below 2^42. Non-integer weights, possible only
 * from hand-built workers, may round differently from nginx's direct sums and so break a tie the
 * other way.
 * Reference: nginx src/http/ngx_http_upstream_round_robin.c, ngx_http_upstream_get_peer() (without
 * its effective_weight back-off on failures: here the registry's outlier detection ejects instead).
 */
export class WeightedRoundRobin<W extends Candidate> implements Strategy<W> {
  readonly name = 'weighted-round-robin';
  private readonly peers = new Map<W, Peer<W>>();
  /** One per distinct weight held, in no particular order (ties go by join order, not class order). */
  private readonly classes: WeightClass<W>[] = [];
  private readonly classByWeight = new Map<number, WeightClass<W>>();
  /** t: picks since the last fold into the bases. */
  private round = 0;
  /** Sum of the held workers' weights: W for a pick without avoid. */
  private totalWeight = 0;
  /** Join order, nginx's list order: a worker that rejoins comes after everyone already there. */
  private joins = 0;
  private readonly rebaseEvery: number;

  /** `rebaseEvery`: picks between folds of t into the bases; only tests change it, to exercise the fold. */
  constructor(options: { rebaseEvery?: number } = {}) {
    this.rebaseEvery = options.rebaseEvery ?? 2 ** 32;
  }

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    if (this.round >= this.rebaseEvery) this.rebase();
    if (!avoid || avoid.size === 0) return this.choose(this.totalWeight)?.worker;
    // Avoided workers sit this pick out: out of their heaps, their weights out of W.
    const out: Peer<W>[] = [];
    let total = this.totalWeight;
    for (const worker of avoid) {
      const peer = this.peers.get(worker);
      if (!peer) continue;
      peer.cls.heap.remove(peer);
      total -= peer.cls.weight;
      out.push(peer);
    }
    const chosen = this.choose(total);
    for (const peer of out) {
      // t grew by one without them gaining, so their current weight stays where it was. When nobody
      // was chosen, t did not move and neither do they.
      if (chosen) peer.base -= peer.cls.weight;
      peer.cls.heap.push(peer);
    }
    return chosen?.worker;
  }

  /** A joining worker starts at current weight 0, as every worker does when nginx loads its config. */
  onWorkerUp(worker: W): void {
    if (this.peers.has(worker)) return;
    const weight = weightOf(worker);
    const peer: Peer<W> = { worker, cls: this.classFor(weight), base: -this.round * weight, seq: this.joins++, heapIndex: -1 };
    this.peers.set(worker, peer);
    peer.cls.heap.push(peer);
    this.totalWeight += weight;
  }

  onWorkerDown(worker: W): void {
    const peer = this.peers.get(worker);
    if (!peer) return;
    this.peers.delete(worker);
    this.leaveClass(peer);
    this.totalWeight -= peer.cls.weight;
  }

  /** Called by the registry when a worker re-registers with another weight, in rotation or not. */
  onWeightChange(worker: W): void {
    const peer = this.peers.get(worker);
    if (!peer) return;
    const old = peer.cls.weight;
    const weight = weightOf(worker);
    if (weight === old) return;
    this.leaveClass(peer);
    // nginx keeps the current weight: base + t * old before equals base + t * weight after.
    peer.base += this.round * (old - weight);
    peer.cls = this.classFor(weight);
    peer.cls.heap.push(peer);
    this.totalWeight += weight - old;
  }

  /**
   * One nginx pick among the workers in the heaps: every one gains its weight (t + 1), the leader of
   * the class tops with the highest current weight wins (the earliest joined on a tie) and is
   * charged `total`. Undefined, with nothing changed, when the heaps are empty.
   */
  private choose(total: number): Peer<W> | undefined {
    const next = this.round + 1;
    let best: Peer<W> | undefined;
    let bestCurrent = 0;
    for (const cls of this.classes) {
      const top = cls.heap.peek();
      if (!top) continue;
      const current = top.base + next * cls.weight;
      if (!best || current > bestCurrent || (current === bestCurrent && top.seq < best.seq)) {
        best = top;
        bestCurrent = current;
      }
    }
    if (!best) return undefined;
    this.round = next;
    best.base -= total;
    best.cls.heap.update(best);
    return best;
  }

  private classFor(weight: number): WeightClass<W> {
    let cls = this.classByWeight.get(weight);
    if (!cls) {
      cls = { weight, heap: new IndexedHeap<Peer<W>>(leads), index: this.classes.length };
      this.classByWeight.set(weight, cls);
      this.classes.push(cls);
    }
    return cls;
  }

  /** Takes the worker out of its class, and drops the class once empty so picks compare only d tops. */
  private leaveClass(peer: Peer<W>): void {
    const { cls } = peer;
    cls.heap.remove(peer);
    if (cls.heap.size > 0) return;
    this.classByWeight.delete(cls.weight);
    // Order among classes does not matter: swap the last one into the hole.
    const last = this.classes.pop() as WeightClass<W>;
    if (last !== cls) {
      this.classes[cls.index] = last;
      last.index = cls.index;
    }
  }

  /** Folds t into every base (current weights unchanged), so t * weight never nears 2^53. */
  private rebase(): void {
    for (const peer of this.peers.values()) peer.base += this.round * peer.cls.weight;
    this.round = 0;
  }
}

interface Peer<W> extends HeapItem {
  readonly worker: W;
  /** Its weight class; cls.weight is its weight. */
  cls: WeightClass<W>;
  /** nginx's current_weight is base + t * weight. */
  base: number;
  /** Join order: nginx's list position, the tie-break. */
  readonly seq: number;
}

interface WeightClass<W> {
  readonly weight: number;
  readonly heap: IndexedHeap<Peer<W>>;
  /** Position in `classes`. */
  index: number;
}

/** Heap order within one weight class: the highest current weight, that is the highest base, then the earliest joined. */
function leads<W>(a: Peer<W>, b: Peer<W>): boolean {
  return a.base > b.base || (a.base === b.base && a.seq < b.seq);
}

/** Registration guarantees an integer 1-1000; a missing or non-positive weight (a hand-built worker) counts as 1. */
function weightOf(worker: Candidate): number {
  return Number.isFinite(worker.weight) && worker.weight > 0 ? worker.weight : 1;
}
