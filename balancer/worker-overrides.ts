import type { Drain } from './worker-state';

/** An operator's decisions about one worker URL, which its own registrations do not undo. */
export interface Override {
  /** Set by POST /admin/workers/:worker/drain (by 'admin'), cleared by .../ready. */
  drain: Drain | undefined;
  /** Set by PUT /admin/workers/:worker/weight; beats the weight the worker registers until reset. */
  weight: number | undefined;
  /** When its worker left the registry (ms epoch); undefined while one is registered at the URL. */
  absentSince: number | undefined;
}

/** How many overrides of workers that have left are kept at most, whatever REGISTRATION_TTL_MS says. */
export const MAX_ABSENT_OVERRIDES = 1024;

/**
 * The operator's overrides, keyed by worker URL, owned by the registry. They outlive the worker's
 * heartbeats and a restart (deregister, then register again): an override stays while its worker is
 * gone for up to `retentionMs` (the registration TTL: as long as the balancer would have kept the
 * worker itself without a heartbeat), and at most MAX_ABSENT_OVERRIDES of absent workers are kept
 * (oldest absence forgotten first; with a TTL of 0 this cap is the only bound). They live in memory,
 * and in the registry snapshot when STATE_DIR is writable (balancer/state), so a balancer restart keeps
 * them. Called only on registrations and operator actions, never per request.
 */
export class OperatorOverrides {
  private readonly byUrl = new Map<string, Override>();

  constructor(private readonly retentionMs: number) {}

  get(url: string): Override | undefined {
    return this.byUrl.get(url);
  }

  get size(): number {
    return this.byUrl.size;
  }

  /** Every override in force, by URL: for the registry snapshot. */
  entries(): IterableIterator<[string, Readonly<Override>]> {
    return this.byUrl.entries();
  }

  /** Called at start with each override of the registry snapshot, before any worker is restored or registers. */
  restore(url: string, override: Override): void {
    if (override.drain === undefined && override.weight === undefined) return;
    this.byUrl.set(url, { ...override });
  }

  /** Called when a worker (re)appears at `url`: the override still in force for it, now marked present. */
  present(url: string, now: number): Override | undefined {
    const override = this.byUrl.get(url);
    if (override === undefined) return undefined;
    if (override.absentSince !== undefined && this.expired(override.absentSince, now)) {
      this.byUrl.delete(url);
      return undefined;
    }
    override.absentSince = undefined;
    return override;
  }

  /** Records an operator's change; an override left with neither a drain nor a weight is forgotten. */
  update(url: string, change: Partial<Pick<Override, 'drain' | 'weight'>>): void {
    const override = this.byUrl.get(url) ?? { drain: undefined, weight: undefined, absentSince: undefined };
    Object.assign(override, change);
    if (override.drain === undefined && override.weight === undefined) this.byUrl.delete(url);
    else this.byUrl.set(url, override);
  }

  /** DELETE /admin/workers/:worker: the operator forgets the worker and every decision about it. */
  clear(url: string): void {
    this.byUrl.delete(url);
  }

  /** Called when the worker at `url` leaves the registry (deregistration or TTL): its override starts aging. */
  absent(url: string, now: number): void {
    const override = this.byUrl.get(url);
    if (override === undefined) return;
    override.absentSince = now;
    this.prune(now);
  }

  private expired(absentSince: number, now: number): boolean {
    return this.retentionMs > 0 && now - absentSince > this.retentionMs;
  }

  /** O(overrides); runs as a worker leaves, so the map is bounded without a timer of its own. */
  private prune(now: number): void {
    const absent: [string, number][] = [];
    for (const [url, o] of this.byUrl) {
      if (o.absentSince === undefined) continue;
      if (this.expired(o.absentSince, now)) this.byUrl.delete(url);
      else absent.push([url, o.absentSince]);
    }
    if (absent.length <= MAX_ABSENT_OVERRIDES) return;
    absent.sort((a, b) => a[1] - b[1]);
    for (const [url] of absent.slice(0, absent.length - MAX_ABSENT_OVERRIDES)) this.byUrl.delete(url);
  }
}
