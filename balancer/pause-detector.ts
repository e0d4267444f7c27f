/**
 * How late a periodic timer may fire, beyond one interval, before the process counts as having been
 * paused. An event loop merely busy is late by milliseconds; SIGSTOP, a long GC pause or a VM
 * migration makes it late by seconds. A false alarm costs only a TTL's delay in expiring workers.
 */
export const PAUSE_MARGIN_MS = 250;

/**
 * Tells from a periodic timer's lateness that this process was not running. The registry's TTL sweep
 * calls tick() at each firing of its setInterval; a tick that comes more than one interval plus
 * PAUSE_MARGIN_MS late means the process was stopped (or its loop blocked) for about that long, so
 * the heartbeats the workers sent meanwhile could not be read yet. Time comes from the injected clock.
 */
export class PauseDetector {
  private lastTick: number;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.lastTick = now();
  }

  /** Called by the timer it watches, once per firing: how long the process was paused (ms), or 0. */
  tick(): number {
    const now = this.now();
    const lateMs = now - this.lastTick - this.intervalMs;
    this.lastTick = now;
    return lateMs > this.intervalMs + PAUSE_MARGIN_MS ? lateMs : 0;
  }
}
