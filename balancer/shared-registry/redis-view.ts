import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { ChangeFeed, type RegistryChange, type RegistryListener } from '../registry-changes';
import { createRedisClient, problemOf } from './redis-client';
import { PendingWrites } from './pending-writes';
import { RedisRegistryStore } from './redis-store';
import { overrideChanges, workerChanges } from './snapshot-diff';
import type { ChangeMessage, SharedOverride, SharedSnapshot, SharedWorker, StoreResult } from './types';

export interface RedisViewOptions {
  /** REDIS_URL; it may hold a password, so it is never logged. */
  url: string;
  log: Logger;
  /** The registration TTL: how long a record written to Redis lives without a heartbeat. */
  ttlMs: number;
  /** A full resynchronisation this often, besides the one on every (re)connect. */
  resyncIntervalMs: number;
  prefix?: string;
  maxBackoffMs?: number;
  now?: () => number;
}

/**
 * One replica's local view of the shared registry in Redis: a map of workers and overrides that the
 * data plane reads without waiting on Redis. Local writes apply at once, then go to Redis; changes from
 * other replicas arrive over pub/sub. It resynchronises fully on every (re)connect and every
 * resyncIntervalMs, since pub/sub drops messages while disconnected and key expiry sends none.
 * While Redis is unreachable it keeps its view, expires nothing (`shared` is false: the registry
 * must not expire workers either, as Eureka's self-preservation), logs the outage once and its end
 * once, reconnects with backoff, and on reconnect writes back what it learned before resynchronising.
 * If Redis came back empty (a new epoch), it writes its whole view back.
 */
export class RedisRegistryView {
  readonly store: RedisRegistryStore;
  readonly changes: ChangeFeed;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly local = new Map<string, SharedWorker>();
  private readonly localOverrides = new Map<string, SharedOverride>();
  private readonly now: () => number;
  /** Writes to Redis, and what it could not take while unreachable. */
  private readonly pending: PendingWrites;
  private epoch: string | undefined;
  private reachable = false;
  private outageSince: number | undefined;
  private resyncing: ChangeMessage[] | undefined;
  /** URLs this replica wrote while a resync was reading: the snapshot may predate those writes, so they win. */
  private readonly writtenDuringResync = new Set<string>();
  private resyncAgain = false;
  private inFlight: Promise<StoreResult<void>> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private loggedOutage = false;

  constructor(private readonly options: RedisViewOptions) {
    this.now = options.now ?? Date.now;
    this.changes = new ChangeFeed(options.log);
    this.commands = createRedisClient(options.url, options.maxBackoffMs);
    this.subscriber = createRedisClient(options.url, options.maxBackoffMs);
    this.store = new RedisRegistryStore(this.commands, options.prefix);
    this.pending = new PendingWrites(this.store, options.ttlMs, this.now, options.log);
    this.commands.on('error', (err) => this.lost(err));
    this.commands.on('close', () => this.lost(undefined));
    this.commands.on('ready', () => this.back());
    this.subscriber.on('error', () => undefined); // the command connection reports the outage
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('message', (_channel: string, text: string) => this.received(text));
  }

  /** Connects and takes a first snapshot; resolves even when Redis is unreachable (the outage is logged, reconnection goes on). */
  async start(): Promise<void> {
    this.outageSince = this.now();
    await Promise.all([this.commands.connect().catch((err: unknown) => this.lost(err)), this.subscriber.connect().catch(() => undefined)]);
    this.timer = setInterval(() => void this.resync(), this.options.resyncIntervalMs);
    this.timer.unref();
  }

  /** Whether the view follows Redis now; while false, nothing may expire a worker. */
  get shared(): boolean {
    return this.reachable;
  }

  workers(): ReadonlyMap<string, Readonly<SharedWorker>> {
    return this.local;
  }

  overrides(): ReadonlyMap<string, Readonly<SharedOverride>> {
    return this.localOverrides;
  }

  /** A registration or heartbeat through this replica: in the local view at once, then in Redis (or later). */
  async putWorker(worker: SharedWorker, change: RegistryChange): Promise<void> {
    this.local.set(worker.url, { ...worker });
    this.wrote(worker.url);
    this.changes.emit(change);
    await this.pending.worker({ kind: 'put', worker: { ...worker }, change });
  }

  /** A deregistration or an operator's delete through this replica. */
  async removeWorker(url: string, change: RegistryChange): Promise<void> {
    this.local.delete(url);
    this.wrote(url);
    this.changes.emit(change);
    await this.pending.worker({ kind: 'remove', change });
  }

  /** An operator's drain or weight through this replica; undefined forgets it. */
  async putOverride(url: string, override: SharedOverride | undefined, change: RegistryChange): Promise<void> {
    if (override === undefined || (override.drain === undefined && override.weight === undefined)) this.localOverrides.delete(url);
    else this.localOverrides.set(url, { ...override });
    this.wrote(url);
    this.changes.emit(change);
    await this.pending.override(url, override, change);
  }

  /** A registration's nonce, claimed in Redis; the caller falls back to its own nonce cache when this fails. */
  claimNonce(nonce: string, windowMs: number): Promise<StoreResult<boolean>> {
    return this.pending.nonce(nonce, windowMs);
  }

  /**
   * Writes back what Redis missed, then replaces the view with Redis's content, emitting the
   * difference as changes. Runs on every (re)connect and every resyncIntervalMs; one at a time.
   */
  resync(): Promise<StoreResult<void>> {
    if (this.closed || !this.reachable) return Promise.resolve({ ok: false, problem: 'Redis is unreachable' });
    // One at a time: a caller during a resync waits for it (start() does), and another runs after it.
    if (this.inFlight !== undefined) {
      this.resyncAgain = true;
      return this.inFlight;
    }
    this.inFlight = this.resyncOnce();
    return this.inFlight;
  }

  private async resyncOnce(): Promise<StoreResult<void>> {
    this.resyncing = [];
    try {
      const snapshot = await this.freshSnapshot();
      if (!snapshot.ok) return snapshot;
      this.apply(snapshot.value);
      // Messages that arrived meanwhile are at least as new as what the snapshot read.
      for (const message of this.resyncing.filter((m) => m.rev > snapshot.value.rev)) this.applyMessage(message);
      return { ok: true, value: undefined };
    } finally {
      this.resyncing = undefined;
      this.inFlight = undefined;
      this.writtenDuringResync.clear();
      if (this.resyncAgain) {
        this.resyncAgain = false;
        void this.resync();
      }
    }
  }

  /** Stops resynchronising and reconnecting; resolves when both connections have ended. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await Promise.all([this.commands, this.subscriber].map(disconnected));
  }

  private async freshSnapshot(): Promise<StoreResult<SharedSnapshot>> {
    const written = await this.pending.writeBack();
    if (!written.ok) return written;
    const snapshot = await this.store.snapshot();
    if (!snapshot.ok || (snapshot.value.epoch !== undefined && snapshot.value.epoch === this.epoch)) return snapshot;
    // A first look, or Redis lost its data since the last one: with a new epoch, what this replica knows goes back in.
    const epoch = await this.store.ensureEpoch(randomBytes(8).toString('hex'));
    if (!epoch.ok) return epoch;
    const lost = this.epoch !== undefined || snapshot.value.epoch === undefined;
    this.epoch = epoch.value;
    if (!lost || (this.local.size === 0 && this.localOverrides.size === 0)) return snapshot;
    this.options.log.warn({ workers: this.local.size }, 'shared registry (Redis) lost its data: writing this replica’s view back');
    this.pending.rewrite(this.local.values(), this.localOverrides);
    const rewritten = await this.pending.writeBack();
    return rewritten.ok ? this.store.snapshot() : rewritten;
  }

  private wrote(url: string): void {
    if (this.resyncing !== undefined) this.writtenDuringResync.add(url);
  }

  private apply(snapshot: SharedSnapshot): void {
    const workers = new Map(snapshot.workers.map((w) => [w.url, w]));
    const overrides = new Map(snapshot.overrides);
    for (const url of this.writtenDuringResync) {
      keepLocal(this.local, workers, url);
      keepLocal(this.localOverrides, overrides, url);
    }
    const changes = [...workerChanges(this.local, [...workers.values()]), ...overrideChanges(this.localOverrides, overrides)];
    replace(this.local, workers);
    replace(this.localOverrides, overrides);
    for (const change of changes) this.changes.emit(change);
  }

  private received(text: string): void {
    let message: ChangeMessage;
    try {
      message = JSON.parse(text) as ChangeMessage;
    } catch {
      this.options.log.warn('shared registry: a change message that is not JSON was ignored');
      return;
    }
    if (this.resyncing !== undefined) this.resyncing.push(message);
    else this.applyMessage(message);
  }

  /** A change another replica made (this replica's own are in its view already). */
  private applyMessage(message: ChangeMessage): void {
    if (message.origin === this.store.origin) return;
    const change = message.change;
    if (message.worker !== undefined) this.local.set(change.url, message.worker);
    else if (change.type === 'left') this.local.delete(change.url);
    else if (change.type === 'weight_changed') {
      const w = this.local.get(change.url);
      if (w !== undefined) w.registeredWeight = change.registeredWeight;
    }
    if (message.override === null) this.localOverrides.delete(change.url);
    else if (message.override !== undefined) this.localOverrides.set(change.url, message.override);
    this.changes.emit(change);
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.store.keys.changes);
    } catch {
      return; // lost again: the next 'ready' subscribes
    }
    await this.resync();
  }

  /** Called on every failed command connection and attempt: the outage is logged once, when it starts. */
  private lost(err: unknown): void {
    if (this.closed) return;
    if (this.reachable) {
      this.reachable = false;
      this.outageSince = this.now();
    }
    if (this.loggedOutage) return;
    this.loggedOutage = true;
    const problem = err === undefined ? 'connection closed' : problemOf(err);
    this.options.log.warn({ problem }, 'shared registry (Redis) unreachable: serving from the local view and expiring no worker until it is back');
  }

  /** Called when the command connection is ready: the end of an outage is logged once, then the view resynchronises. */
  private back(): void {
    const since = this.outageSince;
    this.reachable = true;
    this.outageSince = undefined;
    if (this.loggedOutage)
      this.options.log.info(
        { outageMs: since === undefined ? 0 : this.now() - since },
        'shared registry (Redis) reachable again: writing back and resynchronising',
      );
    this.loggedOutage = false;
    void this.resync();
  }

  /** Registers `listener` on the view's changes (local, from other replicas, from resynchronisations). */
  subscribe(listener: RegistryListener): () => void {
    return this.changes.subscribe(listener);
  }
}

/** Makes `next` hold what `local` holds for `url` (a value, or none). */
function keepLocal<T>(local: ReadonlyMap<string, T>, next: Map<string, T>, url: string): void {
  const value = local.get(url);
  if (value === undefined) next.delete(url);
  else next.set(url, value);
}

function replace<T>(target: Map<string, T>, source: ReadonlyMap<string, T>): void {
  target.clear();
  for (const [key, value] of source) target.set(key, value);
}

/** Disconnects `client` and resolves once it has ended (its socket closed, no reconnection pending). */
function disconnected(client: Redis): Promise<void> {
  // Only a connection with a socket ends with an 'end' event; one waiting to reconnect just stops.
  if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'ready') {
    client.disconnect();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    client.once('end', () => resolve());
    client.disconnect();
  });
}
