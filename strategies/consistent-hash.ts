import { compileHashKey, type HashKeyReader } from './hash-key';
import type { Candidate, PickContext, Strategy, StrategyDeps } from './strategy';

/** Maglev lookup table size: a prime, so every skip in [1, M-1] walks all M slots; >= 100 x workers keeps shares within ~1%. */
export const MAGLEV_TABLE_SIZE = 65537;

/**
 * Consistent hashing with Maglev: each worker has its own pseudo-random order of the M table slots
 * (an offset and a skip from hashes of its URL); taking turns, each worker claims its next free
 * slot until the table is full, a worker of weight w taking a turn in w of every `heaviest` rounds
 * (as Envoy weights it). A request's key (see hash-key.ts) hashes to a slot, and the slot names the
 * worker. The table depends only on the set of workers, not on the order they joined, so a worker
 * that leaves and comes back gets its keys back, and two balancers with the same workers agree.
 * When one of N equal workers leaves, about 1/N of keys move: all of its own, plus a few that shift
 * between the others as the table is refilled (3 in 10,000 in the unit test; Maglev's trade of
 * perfect stability for an evenly filled O(1) table, paper section 3.4).
 * Retries: `avoid` walks on to the next slots, which belong to other workers in table order.
 * Cost: O(1) per pick (one hash of the key, one array read; a retry walks about n/(n - |avoid|)
 * slots); O(M log M) to rebuild the table after joins, leaves or weight changes, done once by the
 * first pick after them, however many there were (its time: docs/performance.md); memory O(M).
 * Reference: Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer"
 * (NSDI 2016), section 3.4; Envoy source/extensions/load_balancing_policies/maglev/maglev_lb.cc.
 */
export class ConsistentHash<W extends Candidate> implements Strategy<W> {
  readonly name = 'consistent-hash';
  private readonly members = new Set<W>();
  private readonly readKey: HashKeyReader;
  /** Slot -> index into `owners`; empty while there are no workers. */
  private table = new Int32Array(0);
  private owners: W[] = [];
  /** Membership changed since the table was built: a burst of joins (a fleet starting, panic mode ending) costs one rebuild, not one each. */
  private stale = false;

  constructor(deps: Pick<StrategyDeps, 'hashKey'>) {
    this.readKey = compileHashKey(deps.hashKey);
  }

  pick(ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    if (this.stale) this.rebuild();
    if (this.owners.length === 0) return undefined;
    const start = hash32(this.readKey(ctx)) % MAGLEV_TABLE_SIZE;
    const first = this.owners[this.table[start]];
    if (!avoid || !avoid.has(first)) return first;
    if (this.allAvoided(avoid)) return undefined;
    for (let step = 1; step < MAGLEV_TABLE_SIZE; step++) {
      const worker = this.owners[this.table[(start + step) % MAGLEV_TABLE_SIZE]];
      if (!avoid.has(worker)) return worker;
    }
    return undefined;
  }

  onWorkerUp(worker: W): void {
    if (this.members.has(worker)) return;
    this.members.add(worker);
    this.stale = true;
  }

  onWorkerDown(worker: W): void {
    if (this.members.delete(worker)) this.stale = true;
  }

  onWeightChange(worker: W): void {
    if (this.members.has(worker)) this.stale = true;
  }

  /** Whether no member is left outside `avoid`; O(|avoid|). */
  private allAvoided(avoid: ReadonlySet<W>): boolean {
    let held = 0;
    for (const worker of avoid) if (this.members.has(worker)) held++;
    return held === this.members.size;
  }

  /** Maglev's populate step (paper, Pseudocode 1), with Envoy's weighting; run by the first pick after a membership or weight change. */
  private rebuild(): void {
    this.stale = false;
    const M = MAGLEV_TABLE_SIZE;
    // Sorted by URL so the table depends on which workers there are, not on the order they joined.
    const owners = [...this.members].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
    const n = owners.length;
    const table = new Int32Array(n === 0 ? 0 : M).fill(-1);
    // Typed arrays, not an object per worker: this loop runs ~M ln M times.
    const slot = new Uint32Array(n);
    const skip = new Uint32Array(n);
    const weight = new Float64Array(n);
    const nextTurn = new Float64Array(n);
    let heaviest = 0;
    owners.forEach((w, i) => {
      slot[i] = hash32(w.url, OFFSET_SEED) % M;
      skip[i] = (hash32(w.url, SKIP_SEED) % (M - 1)) + 1;
      weight[i] = weightOf(w);
      heaviest = Math.max(heaviest, weight[i]);
    });
    let filled = 0;
    for (let round = 1; filled < table.length; round++) {
      for (let i = 0; i < n && filled < table.length; i++) {
        // A worker of weight w takes a slot every heaviest/w rounds.
        if (round * weight[i] < nextTurn[i]) continue;
        nextTurn[i] += heaviest;
        let s = slot[i];
        while (table[s] !== -1) {
          s += skip[i];
          if (s >= M) s -= M;
        }
        table[s] = i;
        slot[i] = s;
        filled++;
      }
    }
    this.owners = owners;
    this.table = table;
  }
}

const OFFSET_SEED = 0x811c9dc5; // FNV-1a's own offset basis
const SKIP_SEED = 0x9747b28c;

/**
 * FNV-1a over the string's UTF-16 code units, then MurmurHash3's fmix32 finaliser so that all 32
 * bits, not just the high ones, depend on every character (FNV alone mixes the low bits poorly,
 * and the table index is taken modulo M). Unsigned 32-bit result. Not for anything adversarial.
 * Reference: http://www.isthe.com/chongo/tech/comp/fnv/ ; https://github.com/aappleby/smhasher (fmix32).
 */
export function hash32(text: string, seed = OFFSET_SEED): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Registration guarantees an integer 1-1000; anything else (a hand-built worker) counts as 1. */
function weightOf(worker: Candidate): number {
  return Number.isFinite(worker.weight) && worker.weight > 0 ? worker.weight : 1;
}
