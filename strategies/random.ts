import { Members, randomIndex } from './members';
import type { Candidate, PickContext, Strategy, StrategyDeps } from './strategy';

/**
 * Random: every eligible worker with the same probability, from the injected deps.random.
 * Cost: O(1) per pick (O(|avoid|) on a retry, see Members.eligible); O(1) per join or leave.
 * Reference: Envoy's RANDOM load-balancer policy (source/common/upstream/load_balancer_impl.cc),
 * which exists as the baseline the other policies are measured against.
 */
export class RandomStrategy<W extends Candidate> implements Strategy<W> {
  readonly name = 'random';
  private readonly members = new Members<W>();

  constructor(private readonly deps: Pick<StrategyDeps, 'random'>) {}

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    const eligible = this.members.eligible(avoid);
    if (eligible === 0) return undefined;
    return this.members.at(randomIndex(this.deps.random, eligible));
  }

  onWorkerUp(worker: W): void {
    this.members.add(worker);
  }

  onWorkerDown(worker: W): void {
    this.members.remove(worker);
  }
}
