import { recordOutcome } from '../../../../balancer/health/outlier-detector';

const opts = { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 2500 };

describe('recordOutcome', () => {
  it('ejects only after the configured run of consecutive failures', () => {
    const state = { consecutiveFailures: 0, ejections: 0 };
    expect([true, true].map((f) => recordOutcome(state, f, opts))).toEqual([0, 0]);
    expect(recordOutcome(state, true, opts)).toBe(1000);
    expect(state).toEqual({ consecutiveFailures: 0, ejections: 1 });
  });

  it('resets the run on a success', () => {
    const state = { consecutiveFailures: 0, ejections: 0 };
    recordOutcome(state, true, opts);
    recordOutcome(state, true, opts);
    recordOutcome(state, false, opts);
    expect(recordOutcome(state, true, opts)).toBe(0);
    expect(state.consecutiveFailures).toBe(1);
  });

  it('ejects for longer each time, up to the maximum', () => {
    const state = { consecutiveFailures: 0, ejections: 0 };
    const ejections: number[] = [];
    for (let i = 0; i < 9; i++) {
      const ms = recordOutcome(state, true, opts);
      if (ms > 0) ejections.push(ms);
    }
    expect(ejections).toEqual([1000, 2000, 2500]);
  });
});
