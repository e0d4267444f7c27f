import type { Logger } from '../logger';
import type { Registration, WorkerRegistry } from '../registry';
import type { RegistryBackend } from '../registry-backend/types';
import type { RegistryChange } from '../registry-changes';
import { applySharedOverride, applySharedWorker, sharedOverrideOf, sharedWorkerOf } from './apply-shared';
import { RedisRegistryView } from './redis-view';
import { WorkerAddressPolicy } from '../worker-address';

export interface RedisBackendOptions {
  /** REDIS_URL; it may hold a password: only redisAddress() of it is ever logged. */
  url: string;
  /** REDIS_KEY_PREFIX */
  prefix: string;
  /** REDIS_RESYNC_INTERVAL_MS */
  resyncIntervalMs: number;
  /** REGISTRATION_TTL_MS: how long a record lives in Redis without a heartbeat (0: a day, as "never" cannot be a PX). */
  ttlMs: number;
  log: Logger;
  now?: () => number;
  maxBackoffMs?: number;
  /** Judges the workers other replicas wrote (WORKER_ALLOW, the forbidden addresses); default: the forbidden set only. */
  addresses?: WorkerAddressPolicy;
}

const NO_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The registry shared by several replicas through Redis (REDIS_URL, issue 13). Each replica keeps its
 * own WorkerRegistry (the local view the strategy picks from, with its own health checks and
 * connection counts) and a RedisRegistryView of the shared store. Two flows, each guarded against
 * the other so nothing echoes:
 * - out: every change the local registry makes (a registration, a heartbeat, a deregistration, and the
 *   admin API's drain, ready, weight and delete, which act on the local registry) goes to the view,
 *   which writes it to Redis at once, or on reconnect when Redis is down;
 * - in: every change the view learns from another replica (pub/sub, resynchronisation) is applied to
 *   the local registry (apply-shared.ts).
 * A local TTL expiry is not written out: Redis expires the record itself, on the same heartbeats.
 */
export class RedisBackend implements RegistryBackend {
  readonly kind = 'redis';
  readonly view: RedisRegistryView;
  private readonly now: () => number;
  private readonly ttlMs: number;
  /** True while the registry applies what the view learned: its changes then are not the replica's own. */
  private applying = false;
  /** True while the view takes a local change: the change it emits back is not another replica's. */
  private forwarding = false;
  private lastWrite: Promise<void> = Promise.resolve();
  /** No expiry before this (ms epoch); infinite while Redis is out of sight (see mayExpire()). */
  private graceUntil = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly addresses: WorkerAddressPolicy;
  /** Workers in Redis this replica refused to take in, each logged once (they come back with every heartbeat). */
  private readonly refused = new Set<string>();

  constructor(
    readonly registry: WorkerRegistry,
    private readonly options: RedisBackendOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.addresses = options.addresses ?? new WorkerAddressPolicy();
    this.ttlMs = options.ttlMs > 0 ? options.ttlMs : NO_TTL_MS;
    this.view = new RedisRegistryView({
      url: options.url,
      log: options.log,
      ttlMs: this.ttlMs,
      resyncIntervalMs: options.resyncIntervalMs,
      prefix: options.prefix,
      maxBackoffMs: options.maxBackoffMs,
      now: this.now,
    });
  }

  /** Whether the view follows Redis now. */
  get shared(): boolean {
    return this.view.shared;
  }

  /**
   * Asked by the registry's TTL sweep (HealthOptions.mayExpire): false while Redis is out of sight
   * (heartbeats through other replicas cannot reach this one), and for one TTL after it is back, so
   * the heartbeats the other replicas write back reach this one before it expires anyone. Eureka's
   * self-preservation, in short.
   */
  mayExpire(): boolean {
    const now = this.now();
    if (!this.view.shared) {
      this.graceUntil = Number.POSITIVE_INFINITY;
      return false;
    }
    if (this.graceUntil === Number.POSITIVE_INFINITY) this.graceUntil = now + this.ttlMs;
    return now >= this.graceUntil;
  }

  /**
   * Redis seen at start holds the fleet, and this replica's snapshot may be older than it (a worker
   * that left through another replica while this one was down). Only a replica that starts while Redis
   * is unreachable serves from its snapshot, written back once Redis is there.
   */
  restoresFromSnapshot(): boolean {
    return !this.view.shared;
  }

  /** Connects and applies the first snapshot; resolves (after logging the outage) when Redis is unreachable. */
  async start(): Promise<void> {
    this.unsubscribe.push(this.registry.changes.subscribe((c) => this.local(c)));
    this.unsubscribe.push(this.view.subscribe((c) => this.remote(c)));
    this.options.log.info({ redis: redisAddress(this.options.url), prefix: this.options.prefix }, 'shared registry: following Redis');
    await this.view.start();
    if (this.view.shared) await this.view.resync();
  }

  async register(reg: Registration): Promise<'created' | 'refreshed'> {
    const outcome = this.registry.register(reg);
    await this.lastWrite;
    return outcome;
  }

  async deregister(url: string): Promise<boolean> {
    const removed = this.registry.deregister(url);
    await this.lastWrite;
    return removed;
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const claimed = await this.view.claimNonce(nonce, ttlMs);
    // Redis unreachable: the local replay guard has checked the nonce, as before there was a fleet.
    return claimed.ok ? claimed.value : true;
  }

  async close(): Promise<void> {
    for (const stop of this.unsubscribe.splice(0)) stop();
    await this.lastWrite;
    await this.view.close();
  }

  /** A change of the local registry: written out, unless it is one the view itself brought in. */
  private local(change: RegistryChange): void {
    if (this.applying) return;
    const url = change.url;
    let write: Promise<void> | undefined;
    this.forwarding = true;
    try {
      if (change.type === 'joined' || change.type === 'refreshed' || (change.type === 'weight_changed' && this.registeredWeightMoved(url))) {
        const worker = sharedWorkerOf(this.registry, url);
        if (worker !== undefined) write = this.view.putWorker(worker, change);
      } else if (change.type === 'left' && change.by !== 'ttl') {
        write = this.view.removeWorker(url, change);
        if (change.by === 'admin') {
          const removal = write;
          const cleared = this.view.putOverride(url, undefined, { type: 'override_changed', url, weight: undefined });
          write = Promise.all([removal, cleared]).then(() => undefined);
        }
      } else if (change.type === 'drained' || change.type === 'readied' || change.type === 'override_changed') {
        write = this.view.putOverride(url, sharedOverrideOf(this.registry, url), change);
      }
    } finally {
      this.forwarding = false;
    }
    if (write !== undefined) this.lastWrite = write;
  }

  /** A change the view learned from Redis (another replica, or a resynchronisation), applied to the local registry. */
  private remote(change: RegistryChange): void {
    if (this.forwarding) return;
    const url = change.url;
    if (change.type === 'left' && change.by === 'ttl') {
      if (this.heardWithinTtl(url)) {
        // Redis let it expire, but a heartbeat reached this replica within the TTL (while Redis was out
        // of sight, or just before it lost its data): this replica keeps it and writes it back.
        const worker = sharedWorkerOf(this.registry, url);
        if (worker !== undefined) this.local({ type: 'refreshed', url, name: worker.name, lastSeenAt: worker.lastSeenAt, renamed: false });
        return;
      }
      // Just after an outage, the registry's own sweep decides, once the grace is over.
      if (!this.mayExpire()) return;
    }
    if (change.type !== 'drained' && change.type !== 'readied' && change.type !== 'override_changed' && !this.admits(url)) return;
    this.applying = true;
    try {
      if (change.type === 'drained' || change.type === 'readied' || change.type === 'override_changed')
        applySharedOverride(this.registry, url, this.view.overrides().get(url));
      else applySharedWorker(this.registry, url, this.view.workers().get(url), change);
    } finally {
      this.applying = false;
    }
  }

  /**
   * Whoever can write to Redis can name a worker without the secret, so a worker another replica wrote
   * is judged here as a registration would be (an IP literal is never judged again at connect).
   */
  private admits(url: string): boolean {
    if (this.registry.get(url) !== undefined) return true;
    const refusal = this.addresses.judgeUrl(url);
    if (refusal === undefined) return true;
    if (!this.refused.has(url)) {
      this.refused.add(url);
      this.options.log.warn({ worker: url, reason: refusal }, 'shared registry: a worker in Redis refused here');
    }
    return false;
  }

  private registeredWeightMoved(url: string): boolean {
    return this.registry.get(url)?.registeredWeight !== this.view.workers().get(url)?.registeredWeight;
  }

  private heardWithinTtl(url: string): boolean {
    const w = this.registry.get(url);
    return w !== undefined && this.now() - w.lastSeenAt < this.ttlMs;
  }
}

/** host:port of a Redis URL, for log lines: never its user or password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port === '' ? '6379' : u.port}`;
  } catch {
    return '(unparsable REDIS_URL)';
  }
}
