import type { IncomingHttpHeaders } from 'node:http';

/** What a strategy may know about a worker. The registry owns the real object and keeps these fields current. */
export interface Candidate {
  readonly url: string;
  readonly name: string;
  /** Relative share for weighted strategies; 1 unless the worker registered another. */
  readonly weight: number;
  /** Requests sent to this worker that have not finished yet. */
  readonly inflight: number;
}

/** What a pick may look at: the request (for hashing strategies) and the client address. */
export interface PickContext {
  /** Node's IncomingMessage or the listener's own request: both give the headers by lower-case name. */
  readonly req: { readonly headers: IncomingHttpHeaders };
  readonly clientIp: string;
}

export interface RequestOutcome {
  readonly ok: boolean;
  /** Time to the response headers, or to the failure. */
  readonly latencyMs: number;
}

/**
 * A balancing algorithm. The registry tells it which workers are eligible (registered, healthy, not
 * draining) through onWorkerUp/onWorkerDown, outside the request path, so pick() only chooses and
 * never probes. pick() returns undefined when no eligible worker is left outside `avoid` (the workers
 * a retry has already tried); that is a status, not an exception.
 */
export interface Strategy<W extends Candidate = Candidate> {
  readonly name: string;
  pick(ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined;
  onWorkerUp(worker: W): void;
  onWorkerDown(worker: W): void;
  onWeightChange?(worker: W): void;
  onRequestStart?(worker: W): void;
  onRequestEnd?(worker: W, outcome: RequestOutcome): void;
}

/** Injected so tests can fix randomness and time and assert exact orders and splits. */
export interface StrategyDeps {
  readonly random: () => number;
  readonly now: () => number;
  /** Consistent hashing: how to read the key from a request ("ip", "header:<name>", "cookie:<name>"). */
  readonly hashKey: string;
}

export type StrategyFactory = <W extends Candidate>(deps: StrategyDeps) => Strategy<W>;
