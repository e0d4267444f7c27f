import type { Candidate, PickContext, Strategy } from './strategy';

/**
 * Smooth weighted round robin, as nginx does it: on each pick every eligible worker's current weight
 * grows by its weight, the largest is chosen (the earliest joined on a tie) and loses the total of
 * the weights. From a fresh start each block of W picks (W the total weight) gives every worker
 * exactly its weight, and the heavy ones are spread out: 5,1,1 gives a,a,b,a,c,a,a, not a,a,a,a,a,b,c.
 * Cost: O(n) per pick, O(1) per join or weight change, O(n) per leave (array splice).
 * Why O(n) and not an O(log n) heap: which of two workers leads depends on the pick number (their
 * current weights grow at different rates), so no fixed key orders them and a heap cannot hold the
 * nginx order. Envoy's O(log n) alternative, earliest-deadline-first on a heap, is exact over the
 * period but front-loads the heavy worker: for 5,1,1 it gives a,a,a,a,b,c,a (six a's in a row where
 * periods meet), a,a,b,c,a,a,a with half-step deadlines, against nginx's a,a,b,a,c,a,a. n is the
 * number of healthy workers, tens to hundreds, so the loop is a few hundred additions per request.
 * Reference: nginx src/http/ngx_http_upstream_round_robin.c, ngx_http_upstream_get_peer() (without
 * its effective_weight back-off on failures: here the registry's outlier detection ejects instead).
 */
export class WeightedRoundRobin<W extends Candidate> implements Strategy<W> {
  readonly name = 'weighted-round-robin';
  private readonly peers: Peer<W>[] = [];
  private readonly byWorker = new Map<W, Peer<W>>();

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    let best: Peer<W> | undefined;
    let total = 0;
    for (const peer of this.peers) {
      // As nginx skips peers already tried: an avoided worker neither gains nor is charged this round.
      if (avoid?.has(peer.worker)) continue;
      peer.current += peer.weight;
      total += peer.weight;
      if (!best || peer.current > best.current) best = peer;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.worker;
  }

  /** A joining worker starts at current weight 0, as every worker does when nginx loads its config. */
  onWorkerUp(worker: W): void {
    if (this.byWorker.has(worker)) return;
    const peer = { worker, weight: weightOf(worker), current: 0 };
    this.peers.push(peer);
    this.byWorker.set(worker, peer);
  }

  onWorkerDown(worker: W): void {
    const peer = this.byWorker.get(worker);
    if (!peer) return;
    this.byWorker.delete(worker);
    this.peers.splice(this.peers.indexOf(peer), 1);
  }

  /** Called by the registry when a worker re-registers with another weight, in rotation or not. */
  onWeightChange(worker: W): void {
    const peer = this.byWorker.get(worker);
    if (peer) peer.weight = weightOf(worker);
  }
}

interface Peer<W> {
  readonly worker: W;
  weight: number;
  /** nginx's current_weight. */
  current: number;
}

/** Registration guarantees an integer 1-1000; anything else (a hand-built worker) counts as 1. */
function weightOf(worker: Candidate): number {
  return Number.isFinite(worker.weight) && worker.weight > 0 ? worker.weight : 1;
}
