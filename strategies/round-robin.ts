import type { Candidate, PickContext, Strategy } from './strategy';

/**
 * Round robin: each eligible worker in turn, in the order they joined (the seed's algorithm).
 * Cost: O(1) per pick, O(n) when a worker joins or leaves (array splice), which happens off the request path.
 * When a worker before the cursor leaves, the cursor moves back one so the rotation neither skips nor repeats anyone.
 */
export class RoundRobin<W extends Candidate> implements Strategy<W> {
  readonly name = 'round-robin';
  private readonly ring: W[] = [];
  private cursor = 0;

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    const n = this.ring.length;
    for (let tries = 0; tries < n; tries++) {
      if (this.cursor >= n) this.cursor = 0;
      const worker = this.ring[this.cursor++];
      if (!avoid || !avoid.has(worker)) return worker;
    }
    return undefined;
  }

  onWorkerUp(worker: W): void {
    if (!this.ring.includes(worker)) this.ring.push(worker);
  }

  onWorkerDown(worker: W): void {
    const index = this.ring.indexOf(worker);
    if (index === -1) return;
    this.ring.splice(index, 1);
    if (index < this.cursor) this.cursor--;
  }
}
