import { PAUSE_MARGIN_MS, PauseDetector } from '../../../balancer/pause-detector';

describe('PauseDetector', () => {
  function detector(intervalMs: number) {
    let clock = 1_000_000;
    const pauses = new PauseDetector(intervalMs, () => clock);
    return { tick: (afterMs: number) => ((clock += afterMs), pauses.tick()) };
  }

  it('sees nothing in ticks on time or late by up to one interval plus the margin', () => {
    const { tick } = detector(500);
    expect(tick(500)).toBe(0);
    expect(tick(530)).toBe(0);
    expect(tick(500 + 500 + PAUSE_MARGIN_MS)).toBe(0);
  });

  it('reports how late a tick came once it is later than that', () => {
    const { tick } = detector(500);
    expect(tick(500)).toBe(0);
    expect(tick(3_500)).toBe(3_000);
    // Counted from the late tick: the next one on time is no pause.
    expect(tick(500)).toBe(0);
  });
});
