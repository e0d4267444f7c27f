import type { RegistryChange } from '../registry-changes';

/** A worker as the shared registry holds it: what every replica needs to route to it, nothing per replica. */
export interface SharedWorker {
  url: string;
  name: string;
  /** The weight the worker registered; an operator's weight (SharedOverride) beats it. */
  registeredWeight: number;
  /** ms epoch of its last registration or heartbeat, through any replica. */
  lastSeenAt: number;
}

/** An operator's decisions about one worker URL, shared by every replica (health and connection counts are not). */
export interface SharedOverride {
  drain: { since: number } | undefined;
  weight: number | undefined;
}

/** Everything in the shared registry at one revision: what a replica resynchronises from. */
export interface SharedSnapshot {
  /** Set once by the first writer after Redis started empty: a new epoch means Redis lost its data. */
  epoch: string | undefined;
  rev: number;
  workers: SharedWorker[];
  overrides: Map<string, SharedOverride>;
}

/** One message on the changes channel: the revision the change produced and the store that made it. */
export interface ChangeMessage {
  rev: number;
  origin: string;
  change: RegistryChange;
  /** The record after a 'joined' or 'refreshed' change, so a view needs no read to apply it. */
  worker?: SharedWorker;
  /** The override after an override change (drained, readied, override_changed). */
  override?: SharedOverride | null;
}

/** A store operation's outcome: Redis unreachable or refusing is an expected event, returned, never thrown. */
export type StoreResult<T> = { ok: true; value: T } | { ok: false; problem: string };
