import type { Logger } from '../logger';
import type { WorkerRecord, WorkerRegistry } from '../registry';
import type { RegistryChange } from '../registry-changes';
import { FEED_TAG, isFeedMessage, type FeedMessage, type JoinedChange, type SnapshotWorker } from './feed-messages';

/** The part of `process` (in a forked or cluster child) the view uses. */
export interface PrimaryChannel {
  send?(message: FeedMessage): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * A serving process's side of the feed (issue 13, PROCESSES): applies the primary's snapshot and
 * changes to a local WorkerRegistry, whose strategy the serving process picks from; a pick never
 * waits on the primary. The local registry is built without health checks and without a TTL: the
 * primary probes, ejects and expires, and its verdicts arrive as changes (`health`, `ejected`, `left`). The primary is the authority, so a
 * change is applied as it says (the weight in force, drained or not), whatever the local overrides held.
 */
export class RegistryView {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
  ) {}

  /**
   * Called by the serving process once at start: listens on `channel`, subscribes, and resolves once
   * the first snapshot is applied (serve after that, so the first request sees the whole fleet).
   * `stop` stops listening. Throws when `channel` cannot send (a process not started by a primary).
   */
  follow(channel: PrimaryChannel): { ready: Promise<void>; stop: () => void } {
    // Without a channel the first snapshot would never come, and the process would never serve.
    if (channel.send === undefined) throw new Error('the registry view needs an IPC channel to the primary: this process was not forked by it');
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const listener = (message: unknown) => {
      if (!isFeedMessage(message)) return;
      this.apply(message);
      if (message.kind === 'snapshot') ready();
    };
    channel.on('message', listener);
    channel.send({ tag: FEED_TAG, kind: 'subscribe' });
    return { ready: isReady, stop: () => channel.off('message', listener) };
  }

  /** One message from the primary; a `subscribe` (a serving process's own) is ignored. */
  apply(message: FeedMessage): void {
    if (message.kind === 'snapshot') this.replaceWith(message.workers);
    else if (message.kind === 'change') this.applyChange(message.change);
  }

  /** A snapshot replaces the view: workers it does not list leave, the others are as it says. */
  private replaceWith(workers: SnapshotWorker[]): void {
    const listed = new Set(workers.map((w) => w.url));
    for (const url of this.registry.urls()) if (!listed.has(url)) this.registry.deregister(url, 'worker');
    for (const worker of workers) {
      this.join(worker);
      const joined = this.registry.get(worker.url);
      if (joined) this.registry.adoptHealth(joined, worker.healthy, worker.ejectedUntil);
    }
    this.log.info({ workers: workers.length }, 'registry view loaded from the primary');
  }

  private applyChange(change: RegistryChange): void {
    if (change.type === 'joined') {
      this.join(change);
      return;
    }
    const worker = this.registry.get(change.url);
    switch (change.type) {
      case 'refreshed':
        if (worker) Object.assign(worker, { name: change.name, lastSeenAt: change.lastSeenAt });
        break;
      case 'weight_changed':
        if (worker) this.setWeight(worker, change.weight, change.registeredWeight);
        break;
      case 'drained':
        if (worker) this.registry.drainWorker(worker);
        break;
      case 'readied':
        if (worker) this.registry.readyWorker(worker);
        break;
      case 'left':
        if (change.by === 'admin') {
          if (worker) this.registry.removeWorker(worker);
        } else this.registry.deregister(change.url, change.by);
        break;
      case 'health':
        // Healthy again ends a passive ejection in the primary too.
        if (worker) this.registry.adoptHealth(worker, change.healthy, change.healthy ? 0 : worker.ejectedUntil);
        break;
      case 'ejected':
        if (worker) this.registry.adoptHealth(worker, worker.healthy, change.until);
        break;
      case 'override_changed':
        // The weight_changed that follows (if the weight in force moved) is what the view applies.
        break;
    }
  }

  private join(change: JoinedChange): void {
    const { url, name, registeredWeight, lastSeenAt } = change;
    if (!this.registry.get(url)) this.registry.restore({ url, name, weight: registeredWeight }, lastSeenAt);
    const worker = this.registry.get(url);
    if (!worker) return;
    Object.assign(worker, { name, lastSeenAt });
    this.setWeight(worker, change.weight, registeredWeight);
    if (change.drained) this.registry.drainWorker(worker);
    else this.registry.readyWorker(worker);
  }

  /** The weight in force, through the local override when it differs from the registered one. */
  private setWeight(worker: WorkerRecord, weight: number, registeredWeight: number): void {
    worker.registeredWeight = registeredWeight;
    const override = weight === registeredWeight ? undefined : weight;
    if (worker.weight !== weight || this.registry.overrides.get(worker.url)?.weight !== override) this.registry.overrideWeight(worker, override);
  }
}
