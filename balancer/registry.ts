import type { Strategy } from '../strategies';
import { WorkerUnhealthyError, type HealthOptions, type Registration, type WorkerRecord, type WorkerState } from './registry-types';
import { ActiveHealthChecker } from './health/active-checker';
import { recordOutcome } from './health/outlier-detector';
import type { Logger } from './logger';
import { PauseDetector } from './pause-detector';
import { ChangeFeed } from './registry-changes';
import type { WorkerPool } from './upstream/pool';
import { GatewayStats } from './stats/gateway-stats';
import { noteState } from './stats/state-changes';
import { WorkerStats } from './stats/worker-stats';
import { OperatorOverrides } from './worker-overrides';
import type { DrainedBy } from './worker-state';

export { WorkerUnhealthyError, type HealthOptions, type Registration, type WorkerRecord, type WorkerState } from './registry-types';

const NO_HEALTH: HealthOptions = { panicThresholdPercent: 0, registrationTtlMs: 0 };

/**
 * Owns the workers: their pools, their health, their lifecycle, and which of them the strategy may
 * pick. Health checks and passive outcomes are pushed in here, never probed from pick(); every change
 * of eligibility reaches the strategy through onWorkerUp/onWorkerDown (see reconcile()).
 */
export class WorkerRegistry {
  private readonly workers = new Map<string, WorkerRecord>();
  /** Workers that left while requests were still in flight, until their pool has closed; never picked. */
  private readonly leavingWorkers = new Map<WorkerRecord, Promise<void>>();
  /** The operator's drains and weights, by URL; they outlive the worker's registrations (see worker-overrides.ts). */
  readonly overrides: OperatorOverrides;
  /** Every change of membership, weight and operator decision, as it happens (see registry-changes.ts). */
  readonly changes: ChangeFeed;
  private readonly checker: ActiveHealthChecker | undefined;
  private ttlTimer: NodeJS.Timeout | undefined;
  /** Watches the TTL sweep's own timer for lateness; undefined without a TTL (nothing expires then). */
  private readonly pauses: PauseDetector | undefined;
  /** No worker expires before this time (ms epoch): set when the balancer finds it was paused. */
  private graceUntil = 0;
  private panicking = false;

  constructor(
    private readonly strategy: Strategy<WorkerRecord>,
    private readonly createPool: (origin: string) => WorkerPool,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly health: HealthOptions = NO_HEALTH,
    /** Counts expirations of silent workers; createBalancer passes the one /metrics reads. */
    private readonly gatewayStats: GatewayStats = new GatewayStats(),
  ) {
    this.overrides = new OperatorOverrides(health.registrationTtlMs);
    this.changes = new ChangeFeed(log);
    if (health.active) {
      const skip = health.active.skipBusy ? (url: string) => this.answeredSinceLastProbe(url) : undefined;
      this.checker = new ActiveHealthChecker(health.active, (url, ok, reason) => this.recordProbe(url, ok, reason), skip);
    }
    if (health.registrationTtlMs > 0) {
      const sweepMs = Math.min(1000, health.registrationTtlMs / 3);
      this.pauses = new PauseDetector(sweepMs, now);
      this.ttlTimer = setInterval(() => this.expireSilentWorkers(), sweepMs);
      this.ttlTimer.unref();
    }
  }

  /**
   * Called by POST /register-worker: adds a worker, or refreshes one already known (the heartbeat).
   * An operator's override for the URL wins over what the worker sends: its weight, and its drain,
   * which a new record at that URL (a restarted worker) takes over.
   */
  register(reg: Registration): 'created' | 'refreshed' {
    const existing = this.workers.get(reg.url);
    if (existing) {
      const renamed = existing.name !== reg.name;
      const { weight, registeredWeight } = existing;
      existing.lastSeenAt = this.now();
      existing.name = reg.name;
      existing.registeredWeight = reg.weight;
      this.applyWeight(existing, this.overrides.get(reg.url)?.weight ?? reg.weight);
      this.changes.emit({ type: 'refreshed', url: reg.url, name: reg.name, lastSeenAt: existing.lastSeenAt, renamed });
      if (existing.weight !== weight || reg.weight !== registeredWeight) this.emitWeight(existing);
      return 'refreshed';
    }
    return this.add(reg, this.now());
  }

  /**
   * Called at start for each worker of the registry snapshot (balancer/state/restore.ts), before the
   * gateway listens: a new record, in rotation at once (healthy until its probes say otherwise), last
   * seen when the snapshot says, so REGISTRATION_TTL_MS counts from its last heartbeat before the restart.
   */
  restore(reg: Registration, lastSeenAt: number): void {
    if (!this.workers.has(reg.url)) this.add(reg, lastSeenAt);
  }

  private add(reg: Registration, lastSeenAt: number): 'created' {
    const now = this.now();
    const override = this.overrides.present(reg.url, now);
    const worker: WorkerRecord = {
      url: reg.url,
      name: reg.name,
      weight: override?.weight ?? reg.weight,
      registeredWeight: reg.weight,
      inflight: 0,
      pool: this.createPool(reg.url),
      registeredAt: now,
      lastSeenAt,
      healthy: true,
      probeStreak: 0,
      ejectedUntil: 0,
      consecutiveFailures: 0,
      ejections: 0,
      inRotation: false,
      rotationSince: 0,
      answered: 0,
      answeredAtLastProbe: 0,
      stats: new WorkerStats(),
      drain: override?.drain,
    };
    this.workers.set(reg.url, worker);
    this.checker?.watch(reg.url);
    this.reconcile();
    this.log.info(
      { worker: reg.url, workerName: reg.name, weight: worker.weight, drained: worker.drain !== undefined, workers: this.workers.size },
      'worker registered',
    );
    const { url, name, weight, registeredWeight } = worker;
    this.changes.emit({ type: 'joined', url, name, weight, registeredWeight, drained: worker.drain !== undefined, lastSeenAt });
    return 'created';
  }

  /**
   * Called by POST /deregister-worker ('worker') and when a heartbeat expires ('ttl'): the worker gets
   * no new requests from this moment, and its pool closes once the requests already sent to it have
   * finished (the pool's close() waits for them); until then leaving() lists it, draining by `by`.
   * Upgraded connections are detached from the pool and run on. An operator's override stays, aging.
   */
  deregister(url: string, by: 'worker' | 'ttl' = 'worker'): boolean {
    const worker = this.workers.get(url);
    if (!worker) return false;
    this.overrides.absent(url, this.now());
    this.retire(worker, by, by === 'ttl' ? 'heartbeat expired' : 'deregistered');
    return true;
  }

  /** POST /admin/workers/:worker/drain: out of rotation until ready(), whatever its registrations say. */
  drainWorker(worker: WorkerRecord): void {
    if (worker.drain?.by === 'admin') return;
    worker.drain = { since: this.now(), by: 'admin' };
    this.overrides.update(worker.url, { drain: worker.drain });
    this.reconcile();
    this.log.info({ worker: worker.url, inflight: worker.inflight }, 'worker drained by an operator');
    this.changes.emit({ type: 'drained', url: worker.url, since: worker.drain.since });
  }

  /** POST /admin/workers/:worker/ready: back in rotation (if healthy and not ejected). */
  readyWorker(worker: WorkerRecord): void {
    if (worker.drain === undefined) return;
    worker.drain = undefined;
    this.overrides.update(worker.url, { drain: undefined });
    this.reconcile();
    this.log.info({ worker: worker.url }, 'worker ready again, by an operator');
    this.changes.emit({ type: 'readied', url: worker.url });
  }

  /** PUT /admin/workers/:worker/weight: the operator's weight, or undefined to go back to the registered one. */
  overrideWeight(worker: WorkerRecord, weight: number | undefined): void {
    const before = worker.weight;
    this.overrides.update(worker.url, { weight });
    this.applyWeight(worker, weight ?? worker.registeredWeight);
    this.changes.emit({ type: 'override_changed', url: worker.url, weight });
    if (worker.weight !== before) this.emitWeight(worker);
  }

  /** DELETE /admin/workers/:worker: drained, then gone once its requests finish; its overrides are forgotten, so it may register again afresh. */
  removeWorker(worker: WorkerRecord): void {
    if (this.workers.get(worker.url) !== worker) return;
    this.overrides.clear(worker.url);
    this.retire(worker, 'admin', 'removed by an operator');
  }

  /** Workers that have left but whose pool still finishes requests: shown as draining, never picked. */
  leaving(): WorkerRecord[] {
    return [...this.leavingWorkers.keys()];
  }

  /** Called by the proxy after each exchange: feeds passive outlier detection. */
  recordExchange(worker: WorkerRecord, failed: boolean): void {
    if (!failed) {
      worker.answered++;
      // The per-request common case: a success from a worker with no failures on record changes nothing else.
      if (worker.consecutiveFailures === 0 && worker.ejections === 0) return;
    }
    const outlier = this.health.outlier;
    if (!outlier || !this.workers.has(worker.url)) return;
    const now = this.now();
    if (!failed && worker.ejections > 0 && now > worker.ejectedUntil + outlier.maxEjectionMs) worker.ejections = 0;
    const ejectMs = recordOutcome(worker, failed, outlier);
    if (ejectMs === 0) return;
    worker.stats.ejectionsTotal++;
    this.log.warn({ worker: worker.url, ejectMs, ejections: worker.ejections }, 'worker ejected after consecutive failures');
    this.ejectUntil(worker, now + ejectMs);
  }

  /**
   * Called by a serving process's registry view (balancer/cluster/registry-view.ts) with the primary's
   * verdicts: the active checks' `healthy` and the passive ejection's end (ms epoch, 0 when none). A
   * worker found unhealthy has its waiting requests called off and retried, as recordProbe does.
   */
  adoptHealth(worker: WorkerRecord, healthy: boolean, ejectedUntil: number): void {
    if (this.workers.get(worker.url) !== worker) return;
    if (worker.healthy !== healthy) {
      this.setHealthy(worker, healthy);
      if (!healthy) worker.pool.rescueWaiting(new WorkerUnhealthyError(worker.url));
    }
    if (ejectedUntil !== worker.ejectedUntil) this.ejectUntil(worker, ejectedUntil);
  }

  /** Out of rotation until `until` (unless in panic), back in at that moment; emits `ejected` when it lies ahead. */
  private ejectUntil(worker: WorkerRecord, until: number): void {
    worker.ejectedUntil = until;
    const ms = until - this.now();
    if (ms > 0) setTimeout(() => this.reconcile(), ms + 1).unref();
    this.reconcile();
    if (ms > 0) this.changes.emit({ type: 'ejected', url: worker.url, until });
  }

  /** The active checks' verdict; healthy again also ends a passive ejection. */
  private setHealthy(worker: WorkerRecord, healthy: boolean): void {
    worker.healthy = healthy;
    if (healthy) worker.ejectedUntil = 0;
    this.reconcile();
    this.changes.emit({ type: 'health', url: worker.url, healthy });
  }

  get(url: string): WorkerRecord | undefined {
    return this.workers.get(url);
  }

  urls(): string[] {
    return [...this.workers.keys()];
  }

  /** Every registered worker, in registration order: for /metrics and /status at scrape time. */
  records(): IterableIterator<WorkerRecord> {
    return this.workers.values();
  }

  get size(): number {
    return this.workers.size;
  }

  /** For GET /workers?details=1: why each worker is, or is not, getting traffic; the leaving ones last. */
  describe(): WorkerState[] {
    const now = this.now();
    const states = [...this.workers.values()].map((w) => this.stateOf(w, now));
    for (const w of this.leavingWorkers.keys()) states.push(this.stateOf(w, now));
    return states;
  }

  /** One worker as describe() shows it; also the admin worker routes' answer. */
  stateOf(w: WorkerRecord, now = this.now()): WorkerState {
    return {
      url: w.url,
      name: w.name,
      weight: w.weight,
      inflight: w.inflight,
      inRotation: w.inRotation,
      healthy: w.healthy,
      ejectedForMs: Math.max(0, w.ejectedUntil - now),
      ejections: w.ejections,
      lastSeenMsAgo: now - w.lastSeenAt,
      registeredAt: new Date(w.registeredAt).toISOString(),
      registeredWeight: w.registeredWeight,
      weightOverride: this.workers.get(w.url) === w ? (this.overrides.get(w.url)?.weight ?? null) : null,
      drain: w.drain === undefined ? null : { since: new Date(w.drain.since).toISOString(), by: w.drain.by },
      leaving: this.leavingWorkers.has(w),
    };
  }

  /** True while outlier ejections are ignored because too few workers would remain. */
  get inPanic(): boolean {
    return this.panicking;
  }

  /** At shutdown: stops probes, lets in-flight requests finish, then closes every pool. */
  async close(): Promise<void> {
    clearInterval(this.ttlTimer);
    const workers = [...this.workers.values()];
    this.workers.clear();
    for (const w of workers) this.leaveRotation(w);
    await Promise.allSettled([...workers.map((w) => w.pool.close()), ...this.leavingWorkers.values(), this.checker?.close()]);
  }

  /** Called by the active health checker with each probe result; public so tests can drive it. */
  recordProbe(url: string, ok: boolean, reason?: string): void {
    const worker = this.workers.get(url);
    const active = this.health.active;
    if (!worker || !active) return;
    worker.stats.recordProbe(ok, this.now(), reason);
    worker.probeStreak = ok ? Math.max(0, worker.probeStreak) + 1 : Math.min(0, worker.probeStreak) - 1;
    if (worker.healthy && worker.probeStreak <= -active.unhealthyThreshold) {
      this.setHealthy(worker, false);
      // A frozen worker holds its requests until RESPONSE_TIMEOUT_MS; the ones that can be replayed
      // are called off now and retried on a healthy worker, so clients wait one detection window at most.
      const rescued = worker.pool.rescueWaiting(new WorkerUnhealthyError(url));
      this.log.warn({ worker: url, reason, failures: -worker.probeStreak, rescued }, 'worker marked unhealthy by health checks');
    } else if (!worker.healthy && worker.probeStreak >= active.healthyThreshold) {
      this.log.info({ worker: url }, 'worker healthy again');
      this.setHealthy(worker, true);
    }
  }

  /** For the active checker: true (and the count rebased) when the worker answered traffic since the last probe. */
  private answeredSinceLastProbe(url: string): boolean {
    const worker = this.workers.get(url);
    if (!worker || !worker.healthy || worker.answered === worker.answeredAtLastProbe) return false;
    worker.answeredAtLastProbe = worker.answered;
    return true;
  }

  /**
   * The TTL sweep, every min(1000, TTL/3) ms. When its timer fired far too late (see PauseDetector),
   * the balancer was not running: the workers' heartbeats of that time are still unread in its
   * sockets, so every worker gets one TTL of grace from now, the longest a heartbeat interval may be,
   * before any expires. A worker that really stopped meanwhile is dropped one TTL after the resume.
   */
  private expireSilentWorkers(): void {
    const now = this.now();
    const pausedMs = this.pauses?.tick() ?? 0;
    if (pausedMs > 0) {
      const graceMs = this.health.registrationTtlMs;
      this.graceUntil = Math.max(this.graceUntil, now + graceMs);
      this.log.warn({ pausedMs, graceMs, workers: this.workers.size }, `balancer was paused for ${pausedMs} ms; workers get ${graceMs} ms of grace`);
    }
    if (now < this.graceUntil || this.health.mayExpire?.() === false) return;
    const deadline = now - this.health.registrationTtlMs;
    for (const worker of [...this.workers.values()]) {
      if (worker.lastSeenAt < deadline && this.deregister(worker.url, 'ttl')) this.gatewayStats.expirations++;
    }
  }

  /**
   * Brings the strategy's membership in line with the workers' state: not drained, healthy and not
   * ejected, except in panic, when ejecting would leave fewer than panicThresholdPercent of the healthy
   * workers, and the ejected ones stay in too (as Envoy does). A drained worker counts for neither side
   * of the panic ratio: it is out by decision, not by failure. Leaving workers are drained, so they
   * only ever go out. O(n), and only on state changes, never per request. Every worker's reported
   * state is read again here, so a change is counted and dated as it happens.
   */
  private reconcile(): void {
    const now = this.now();
    let healthy = 0;
    let available = 0;
    for (const w of this.workers.values()) {
      if (!w.healthy || w.drain !== undefined) continue;
      healthy++;
      if (w.ejectedUntil <= now) available++;
    }
    const panic = healthy > 0 && available * 100 < healthy * this.health.panicThresholdPercent;
    if (panic !== this.panicking) {
      this.panicking = panic;
      this.log.warn({ healthy, available }, panic ? 'panic mode: too many workers ejected, routing to all healthy ones' : 'panic mode over');
    }
    for (const w of this.leavingWorkers.keys()) this.leaveRotation(w);
    for (const w of this.workers.values()) {
      const shouldRotate = w.drain === undefined && w.healthy && (panic || w.ejectedUntil <= now);
      if (shouldRotate === w.inRotation) continue;
      if (shouldRotate) {
        w.inRotation = true;
        w.rotationSince = now;
        this.strategy.onWorkerUp(w);
      } else {
        this.leaveRotation(w);
      }
    }
    const slowStartMs = this.health.slowStartMs ?? 0;
    for (const w of this.workers.values()) noteState(w, now, slowStartMs);
  }

  private emitWeight(worker: WorkerRecord): void {
    this.changes.emit({ type: 'weight_changed', url: worker.url, weight: worker.weight, registeredWeight: worker.registeredWeight });
  }

  /** Sets the weight in force, telling the strategy only when it changed. */
  private applyWeight(worker: WorkerRecord, weight: number): void {
    if (worker.weight === weight) return;
    worker.weight = weight;
    this.strategy.onWeightChange?.(worker);
    this.log.info({ worker: worker.url, weight, registeredWeight: worker.registeredWeight }, 'worker weight changed');
  }

  /**
   * Takes a worker out of the registry, drained by `by`: a registration of its URL from now on makes a
   * fresh record. It stays in leaving() until its pool has closed (the requests sent to it have finished).
   */
  private retire(worker: WorkerRecord, by: DrainedBy, reason: string): void {
    this.workers.delete(worker.url);
    this.checker?.unwatch(worker.url);
    worker.drain = { since: this.now(), by };
    const closed = worker.pool
      .close()
      .catch((err: unknown) => this.log.warn({ worker: worker.url, err: err instanceof Error ? err.message : String(err) }, 'closing pool failed'))
      .finally(() => this.leavingWorkers.delete(worker));
    this.leavingWorkers.set(worker, closed);
    this.reconcile();
    this.log.info({ worker: worker.url, reason, inflight: worker.inflight, workers: this.workers.size }, 'worker removed, draining');
    this.changes.emit({ type: 'left', url: worker.url, by });
  }

  private leaveRotation(worker: WorkerRecord): void {
    if (!worker.inRotation) return;
    worker.inRotation = false;
    this.strategy.onWorkerDown(worker);
  }
}
