import { EXCHANGE_ERROR_REASONS } from '../../../../balancer/exchange-errors';
import { HEADER_TIME_BUCKETS_MS, WorkerStats } from '../../../../balancer/stats/worker-stats';

describe('WorkerStats', () => {
  it('counts responses by status class and places each header time in the first bucket that holds it', () => {
    const stats = new WorkerStats();
    stats.recordResponse(200, 0.2);
    stats.recordResponse(204, 0.5);
    stats.recordResponse(404, 0.51);
    stats.recordResponse(503, 31_000);
    stats.recordResponse(101, 7);
    expect([...stats.responses]).toEqual([1, 2, 0, 1, 1]);
    expect(stats.responsesTotal).toBe(5);
    const expected = new Array<number>(HEADER_TIME_BUCKETS_MS.length + 1).fill(0);
    expected[0] = 2; // 0.2 and 0.5: le=0.5 is inclusive
    expected[1] = 1; // 0.51
    expected[4] = 1; // 7 ms: le=10
    expected[HEADER_TIME_BUCKETS_MS.length] = 1; // slower than 30 s
    expect([...stats.headerTime]).toEqual(expected);
    expect(stats.headerTimeSumMs).toBeCloseTo(0.2 + 0.5 + 0.51 + 31_000 + 7);
  });

  it('ignores a status outside 100-599 for the classes but still times it', () => {
    const stats = new WorkerStats();
    stats.recordResponse(600, 1);
    expect(stats.responsesTotal).toBe(0);
    expect(stats.headerTime[1]).toBe(1);
  });

  it('counts errors under their reason and remembers the last probe', () => {
    const stats = new WorkerStats();
    stats.recordError('refused');
    stats.recordError('refused');
    stats.recordError('response_timeout');
    expect(stats.errors[EXCHANGE_ERROR_REASONS.indexOf('refused')]).toBe(2);
    expect(stats.errors[EXCHANGE_ERROR_REASONS.indexOf('response_timeout')]).toBe(1);
    expect(stats.errorsTotal).toBe(3);
    stats.recordProbe(false, 1000, 'ECONNREFUSED');
    expect([stats.probesFailed, stats.lastProbeAt, stats.lastProbeOk, stats.lastProbeError]).toEqual([1, 1000, false, 'ECONNREFUSED']);
    stats.recordProbe(true, 2000, undefined);
    expect([stats.probesOk, stats.lastProbeAt, stats.lastProbeOk, stats.lastProbeError]).toEqual([1, 2000, true, undefined]);
  });
});
