import type { Registration, WorkerRegistry } from '../registry';

/** Which implementation holds the registry's truth: this process, the primary over IPC (PROCESSES), or Redis (REDIS_URL). */
export type RegistryBackendKind = 'memory' | 'cluster' | 'redis';

/**
 * One registry, many local views (issue 13). A backend is where the registry's truth lives and how a
 * process writes to it; every process that serves holds a local WorkerRegistry the backend keeps
 * current, and the strategy picks from that local registry without waiting on anything.
 *
 * Contract (test/contract/registry-backend.contract.ts runs it against every implementation):
 * - a write resolves once its effect is in force in this backend's own `registry`;
 * - a write through one handle reaches the `registry` of every other handle on the same backend,
 *   through its change feed (registry.changes), within a second;
 * - an operator's decision (drain, ready, weight, delete) made on one handle's `registry` reaches
 *   the others the same way;
 * - a nonce is claimed once in the whole fleet: a second claim anywhere within its window is false.
 *
 * Callers: the control plane (register, deregister, claimNonce) and createBalancer (start, close).
 */
export interface RegistryBackend {
  readonly kind: RegistryBackendKind;
  /** The local view: the strategy picks from it; /workers and the admin listener read it. */
  readonly registry: WorkerRegistry;
  /** Resolves once the local view holds the backend's current state; called before the gateway listens. */
  start(): Promise<void>;
  /** A signed, verified registration or heartbeat. */
  register(reg: Registration): Promise<'created' | 'refreshed'>;
  /** A signed, verified deregistration: false when the URL is not registered. */
  deregister(url: string): Promise<boolean>;
  /**
   * Claims a nonce the local replay guard found fresh, for `ttlMs` (until its timestamp leaves the
   * window): false when another process or replica claimed it first. A backend that cannot reach its
   * store answers true: the local guard has checked it, as it did before there was a fleet.
   */
  claimNonce(nonce: string, ttlMs: number): Promise<boolean>;
  /**
   * Asked by the local registry's TTL sweep before it expires anyone: false holds every worker while
   * heartbeats sent to other processes or replicas cannot be seen here (self-preservation).
   */
  mayExpire(): boolean;
  /**
   * Asked once at start, after start(), by the registry's owner: whether STATE_DIR's snapshot goes into
   * the local view. True where this process holds the truth (the snapshot is all there is); false where
   * a shared store was seen at start and holds the fleet: a snapshot older than it would bring back,
   * and write back for everyone, workers that left meanwhile.
   */
  restoresFromSnapshot(): boolean;
  /** Stops following the backend; the local registry (and its pools) is the caller's to close. */
  close(): Promise<void>;
}

/**
 * A write the backend could not get to its truth (the primary did not answer in time, or is gone):
 * the control plane answers 503 registry_unavailable, and the worker's next heartbeat tries again.
 */
export class RegistryUnavailableError extends Error {
  readonly code = 'registry_unavailable';
}
