import { Members } from './members';
import type { Candidate, PickContext, Strategy, StrategyDeps } from './strategy';

/**
 * Power of two choices: draw two distinct workers at random and send the request to the one with
 * fewer requests in flight (ties go to the first drawn). Nearly as even as least-connections, with
 * no shared ordering to maintain and no herd on the single least-loaded worker.
 * Cost: O(1) per pick (O(|avoid|) on a retry); O(1) per join or leave.
 * Reference: Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing" (IEEE TPDS 2001);
 * Envoy's LEAST_REQUEST policy with choice_count 2 (source/common/upstream/load_balancer_impl.cc).
 */
export class PowerOfTwo<W extends Candidate> implements Strategy<W> {
  readonly name = 'power-of-two';
  private readonly members = new Members<W>();

  constructor(private readonly deps: Pick<StrategyDeps, 'random'>) {}

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    return this.members.bestOfTwo(this.deps.random, avoid, fewerInFlight);
  }

  onWorkerUp(worker: W): void {
    this.members.add(worker);
  }

  onWorkerDown(worker: W): void {
    this.members.remove(worker);
  }
}

function fewerInFlight(a: Candidate, b: Candidate): boolean {
  return a.inflight < b.inflight;
}
