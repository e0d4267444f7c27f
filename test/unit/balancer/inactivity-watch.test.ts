import { InactivityWatch, type Watched } from '../../../balancer/inactivity-watch';

function item(limitMs: number): Watched & { fired: number } {
  return {
    activeAt: 0,
    fired: 0,
    silenceLimitMs: () => limitMs,
    onInactive() {
      this.fired++;
    },
  };
}

/** A tick as the watch runs it: the check, then the verdict once the I/O already arrived was read. */
function tick(watch: InactivityWatch, now: number): void {
  watch.check(now);
  watch.judgeSuspects();
}

describe('InactivityWatch', () => {
  it('reports an item only once its silence is past the limit plus a tick, counted from its last stamp', () => {
    const watch = new InactivityWatch(50);
    const a = item(500);
    watch.add(a);
    a.activeAt = 1000;
    tick(watch, 1549);
    expect(a.fired).toBe(0);
    tick(watch, 1550);
    expect(a.fired).toBe(1);
    watch.delete(a);
  });

  it('never reports an item early, whenever within a tick its activity really happened', () => {
    // A stamp is the clock at the last tick, up to a tick before the activity it records.
    const watch = new InactivityWatch(100);
    const a = item(1000);
    watch.add(a);
    a.activeAt = 5000;
    tick(watch, 5000);
    const reallyActiveAt = 5099; // just before the next tick, stamped with the clock of the last one
    a.activeAt = watch.now;
    for (let now = 5100; now < reallyActiveAt + 1000; now += 100) tick(watch, now);
    expect(a.fired).toBe(0);
    tick(watch, 6100); // 1,001 ms after the real activity
    expect(a.fired).toBe(1);
    watch.delete(a);
  });

  it('skips items with no limit at the moment, and forgets deleted ones', () => {
    const watch = new InactivityWatch(10);
    const untimed = item(0);
    const gone = item(100);
    watch.add(untimed);
    watch.add(gone);
    untimed.activeAt = gone.activeAt = 0;
    watch.delete(gone);
    tick(watch, 1_000_000);
    expect(untimed.fired).toBe(0);
    expect(gone.fired).toBe(0);
    watch.delete(untimed);
  });

  it('reports no suspect that was active between the check and the verdict', () => {
    // After a stall, the tick runs before node reads what arrived meanwhile; that read stamps the item.
    const watch = new InactivityWatch(10);
    const readLate = item(100);
    const silent = item(100);
    watch.add(readLate);
    watch.add(silent);
    readLate.activeAt = silent.activeAt = 0;
    expect(watch.check(1_000)).toBe(true);
    readLate.activeAt = watch.now;
    watch.judgeSuspects();
    expect(readLate.fired).toBe(0);
    expect(silent.fired).toBe(1);
    watch.delete(readLate);
    watch.delete(silent);
  });

  it('reports no suspect whose limit was lifted, or that was deleted, before the verdict', () => {
    const watch = new InactivityWatch(10);
    let limit = 100;
    const lifted: Watched & { fired: number } = { ...item(0), silenceLimitMs: () => limit };
    const gone = item(100);
    watch.add(lifted);
    watch.add(gone);
    lifted.activeAt = gone.activeAt = 0;
    expect(watch.check(1_000)).toBe(true);
    limit = 0; // a response started on it
    watch.delete(gone);
    watch.judgeSuspects();
    expect(lifted.fired).toBe(0);
    expect(gone.fired).toBe(0);
    watch.delete(lifted);
  });

  it('ticks a tenth of the shortest non-zero limit, between 10 ms and 1 s', () => {
    expect(InactivityWatch.forLimits(5000, 60_000).tickMs).toBe(500);
    expect(InactivityWatch.forLimits(0, 60_000).tickMs).toBe(1000);
    expect(InactivityWatch.forLimits(50).tickMs).toBe(10);
  });
});
