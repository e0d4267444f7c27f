import type { RegistryChange } from '../registry-changes';

/**
 * What the primary and the serving processes say to each other about the registry, over the IPC
 * channel `process.send` gives (JSON, so plain data only). Every message carries FEED_TAG, so it can
 * share the channel with other messages (node:cluster's own are already kept apart by Node).
 *
 * The order on one channel is the order of sending, which is what keeps a view exact: a serving
 * process says `subscribe` once it listens; the primary answers with a `snapshot` of the registry as
 * it is, then sends each `change` after it, in the order the registry made them.
 */
export const FEED_TAG = 'lb:registry';

/** A worker in a snapshot: the same fields as a `joined` change, so the view applies both alike. */
export type JoinedChange = Extract<RegistryChange, { type: 'joined' }>;

/** A worker in a snapshot: a `joined` change with the primary's health verdicts, so a new process starts from them. */
export type SnapshotWorker = JoinedChange & { healthy: boolean; ejectedUntil: number };

export type FeedMessage =
  /** Serving process to primary: ready to receive; send the snapshot, then the changes. */
  | { tag: typeof FEED_TAG; kind: 'subscribe' }
  /** Primary to serving process: every worker in the registry now, in registration order. */
  | { tag: typeof FEED_TAG; kind: 'snapshot'; workers: SnapshotWorker[] }
  /** Primary to serving process: one change of the registry, as its change feed emitted it. */
  | { tag: typeof FEED_TAG; kind: 'change'; change: RegistryChange };

/** True for a message of this feed; anything else on the channel belongs to someone else. */
export function isFeedMessage(message: unknown): message is FeedMessage {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === FEED_TAG;
}
