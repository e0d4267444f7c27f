import { Members } from './members';
import type { Candidate, PickContext, RequestOutcome, Strategy, StrategyDeps } from './strategy';

/** How fast an old latency is forgotten: after tau an observation weighs 1/e as much. */
export const PEAK_EWMA_TAU_MS = 10_000;
/** The latency assumed for a worker with no observation yet: low, so a new worker gets tried soon. */
export const PEAK_EWMA_DEFAULT_LATENCY_MS = 10;

/**
 * Least latency by peak EWMA: each worker carries a moving average of its response latency that
 * jumps straight to any higher observation (a worker turning slow is noticed at once) and otherwise
 * decays towards new observations, and towards zero while idle, with time constant tau (a worker that
 * was slow gets tried again after a while). Its cost is that average times (in-flight + 1), so
 * queueing counts too. The pick compares the costs of two distinct random workers (power of two
 * choices, as Finagle and Linkerd do), which avoids sending every request to the single fastest.
 * Cost: O(1) per pick (two exp(); O(|avoid|) more on a retry) and per request end; O(1) per join or leave.
 * References: Finagle's PeakEwma (finagle-core com.twitter.finagle.loadbalancer.PeakEwma, and
 * "Beyond Round Robin: Load Balancing for Latency", Buoyant 2016); tower::load::PeakEwma in Linkerd.
 */
export class LeastLatency<W extends Candidate> implements Strategy<W> {
  readonly name = 'least-latency';
  private readonly members = new Members<W>();
  private readonly estimates = new Map<W, Estimate>();

  constructor(
    private readonly deps: Pick<StrategyDeps, 'random' | 'now'>,
    private readonly tauMs = PEAK_EWMA_TAU_MS,
    private readonly defaultLatencyMs = PEAK_EWMA_DEFAULT_LATENCY_MS,
  ) {}

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    return this.members.bestOfTwo(this.deps.random, avoid, this.cheaper);
  }

  private readonly cheaper = (a: W, b: W): boolean => {
    const now = this.deps.now();
    return this.cost(a, now) < this.cost(b, now);
  };

  /** A worker starts from the default latency each time it joins: what it did before it left is stale. */
  onWorkerUp(worker: W): void {
    if (!this.members.add(worker)) return;
    this.estimates.set(worker, { latencyMs: this.defaultLatencyMs, at: this.deps.now() });
  }

  onWorkerDown(worker: W): void {
    if (this.members.remove(worker)) this.estimates.delete(worker);
  }

  /** Called by the proxy when an exchange ends; outcomes of workers no longer held are dropped. */
  onRequestEnd(worker: W, outcome: RequestOutcome): void {
    const estimate = this.estimates.get(worker);
    if (!estimate) return;
    // A fast failure (connection refused) is no evidence that the worker is fast: it may only raise the estimate.
    const latencyMs = outcome.ok ? outcome.latencyMs : Math.max(outcome.latencyMs, estimate.latencyMs);
    this.observe(estimate, latencyMs, this.deps.now());
  }

  /** The expected wait at this worker: its latency estimate times the requests it would be serving. */
  cost(worker: W, now = this.deps.now()): number {
    const estimate = this.estimates.get(worker);
    if (!estimate) return Infinity;
    // Reading is observing a latency of 0, as in Finagle: the estimate decays while nothing is learnt.
    return this.observe(estimate, 0, now) * (worker.inflight + 1);
  }

  /** Finagle's PeakEwma.observe: jump to a higher latency, else move towards it by how much time has passed. */
  private observe(estimate: Estimate, latencyMs: number, now: number): number {
    if (latencyMs > estimate.latencyMs) {
      estimate.latencyMs = latencyMs;
    } else {
      const keep = Math.exp(-Math.max(0, now - estimate.at) / this.tauMs);
      estimate.latencyMs = estimate.latencyMs * keep + latencyMs * (1 - keep);
    }
    estimate.at = now;
    return estimate.latencyMs;
  }
}

interface Estimate {
  latencyMs: number;
  /** When latencyMs was last set (deps.now() time). */
  at: number;
}
