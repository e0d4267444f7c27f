import type { Logger } from '../logger';
import type { WorkerRegistry } from '../registry';
import type { RegistryChange } from '../registry-changes';
import { FEED_TAG, isFeedMessage, type FeedMessage, type SnapshotWorker } from './feed-messages';

/**
 * The part of an IPC channel the broadcaster uses: a cluster.Worker and a forked ChildProcess are both
 * one. `send` queues the message when the pipe is full; it throws once the channel is closed.
 */
export interface ServingChannel {
  readonly connected: boolean;
  send(message: FeedMessage): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/**
 * The primary's side of the feed (issue 13, PROCESSES): the primary owns the WorkerRegistry (it takes
 * registrations, runs the health checks and expires workers) and forwards every change of its feed
 * to each serving process, which keeps a local view (registry-view.ts) to pick from. The primary never
 * waits on a serving process: sending is fire and forget, and a closed channel is dropped.
 *
 * Cost: one small JSON message per change per serving process; the most frequent change is a
 * heartbeat's `refreshed` (one per worker per HEARTBEAT_INTERVAL_MS).
 */
export class RegistryBroadcaster {
  private readonly subscribed = new Set<ServingChannel>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
  ) {
    this.unsubscribe = registry.changes.subscribe((change) => this.forward(change));
  }

  /**
   * Called by the primary for each serving process it starts, at once (before it can have said
   * anything): on its `subscribe`, sends it the snapshot and from then on every change. A process
   * that subscribes again (it lost its view) gets a new snapshot.
   */
  attach(channel: ServingChannel): void {
    channel.on('message', (message) => {
      if (!isFeedMessage(message) || message.kind !== 'subscribe') return;
      this.subscribed.add(channel);
      this.send(channel, { tag: FEED_TAG, kind: 'snapshot', workers: this.snapshot() });
    });
    channel.on('disconnect', () => this.subscribed.delete(channel));
  }

  /** How many serving processes receive the changes now. */
  get subscribers(): number {
    return this.subscribed.size;
  }

  /** At shutdown: no more forwarding. */
  close(): void {
    this.unsubscribe();
    this.subscribed.clear();
  }

  private snapshot(): SnapshotWorker[] {
    return [...this.registry.records()].map((w) => ({
      type: 'joined',
      url: w.url,
      name: w.name,
      weight: w.weight,
      registeredWeight: w.registeredWeight,
      drained: w.drain !== undefined,
      lastSeenAt: w.lastSeenAt,
      healthy: w.healthy,
      ejectedUntil: w.ejectedUntil,
    }));
  }

  private forward(change: RegistryChange): void {
    const message: FeedMessage = { tag: FEED_TAG, kind: 'change', change };
    for (const channel of this.subscribed) this.send(channel, message);
  }

  private send(channel: ServingChannel, message: FeedMessage): void {
    if (!channel.connected) {
      this.subscribed.delete(channel);
      return;
    }
    try {
      channel.send(message);
    } catch (err) {
      // The process exited between the check and the send; its replacement subscribes afresh.
      this.subscribed.delete(channel);
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'a serving process left the registry feed');
    }
  }
}
