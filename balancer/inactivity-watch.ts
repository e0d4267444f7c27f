import { performance } from 'node:perf_hooks';

/** Something with an inactivity timeout: a client connection, a worker socket. */
export interface Watched {
  /** The watch's clock (`watch.now`) at the last activity. */
  activeAt: number;
  /** The silence allowed at this moment, in ms; 0 when nothing is timed (a response under way, say). */
  silenceLimitMs(): number;
  /** The silence outlasted the limit. */
  onInactive(): void;
}

/**
 * Inactivity timeouts for many sockets on one interval. Node's socket.setTimeout re-arms a timer on
 * every read and write (a clock read and a move in the timer list, four times per proxied request);
 * here activity is a plain stamp from the watch's clock, and each tick looks for the items whose
 * silence outlasted their current limit. The clock only advances at a tick, so a stamp may be up to a
 * tick old: the limit is counted from the stamp plus one tick, and a timeout fires between the limit
 * and the limit plus two ticks after the last activity, never early.
 *
 * A tick only suspects; the verdict waits for the I/O already arrived. Node runs timers before it
 * polls for I/O, so after a stall of the process (CPU starvation, a long GC, SIGSTOP) a tick would
 * close a connection whose request is already in the kernel's buffer unread: the close then resets
 * it, and the client loses a request it sent in time. A suspect is judged in the check phase right
 * after the next poll, and only if nothing stamped it meanwhile.
 */
export class InactivityWatch {
  /** Monotonic ms at the last tick: what items stamp their activity with. */
  now = performance.now();
  private readonly items = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;
  /** Items past their limit at the last check, each with its stamp then. */
  private suspects: [Watched, number][] = [];

  constructor(readonly tickMs: number) {}

  /** A tick of a tenth of the shortest limit (0 is none), within 10 ms and 1 s: a timeout fires at most a fifth, and 2 s, late. */
  static forLimits(...limitsMs: number[]): InactivityWatch {
    const shortest = Math.min(...limitsMs.filter((ms) => ms > 0));
    return new InactivityWatch(Math.min(1000, Math.max(10, shortest / 10)));
  }

  add(item: Watched): void {
    if (this.timer === undefined) {
      this.now = performance.now();
      this.timer = setInterval(this.tick, this.tickMs);
      this.timer.unref();
    }
    item.activeAt = this.now;
    this.items.add(item);
  }

  delete(item: Watched): void {
    this.items.delete(item);
    if (this.items.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Advances the clock to `now` and notes the items silent for longer than their limit; true when there are any. */
  check(now: number): boolean {
    this.now = now;
    for (const item of this.items) {
      if (this.isPastLimit(item)) this.suspects.push([item, item.activeAt]);
    }
    return this.suspects.length > 0;
  }

  /** Reports each suspect still watched, still silent since the check, and still past its limit (which may have changed). */
  judgeSuspects(): void {
    const suspects = this.suspects;
    this.suspects = [];
    for (const [item, stamp] of suspects) {
      if (this.items.has(item) && item.activeAt === stamp && this.isPastLimit(item)) item.onInactive();
    }
  }

  private isPastLimit(item: Watched): boolean {
    const limit = item.silenceLimitMs();
    return limit > 0 && this.now - item.activeAt >= limit + this.tickMs;
  }

  private readonly tick = (): void => {
    if (this.suspects.length === 0 && this.check(performance.now())) setImmediate(this.judge);
  };

  private readonly judge = (): void => this.judgeSuspects();
}
