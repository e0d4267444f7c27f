import { manyWorkersVerdict, type ManyWorkersResult } from '../../../bench/extras/many-workers';
import type { TargetSummary } from '../../../bench/rounds';

const target = (name: string, rps: number, cpuUsPerRequest: number): TargetSummary => ({
  name,
  rounds: [],
  rps,
  p50Ms: 1,
  p99Ms: 2,
  errors: 0,
  requests: rps * 2,
  cpuUsPerRequest,
  otherCpuPct: [],
  discarded: [],
});

function result(ours: [number, number, number, number], nginx?: [number, number, number, number]): ManyWorkersResult {
  const [twoRps, twoCpu, thousandRps, thousandCpu] = ours;
  const m: ManyWorkersResult = {
    upstreamPorts: 1000,
    two: target('2 workers', twoRps, twoCpu),
    thousand: target('1,000 workers', thousandRps, thousandCpu),
    thousandNoChecks: target('1,000 workers, health checks off', thousandRps, thousandCpu),
    ratio: thousandRps / twoRps,
    registeredAfter: [1000, 1000],
  };
  if (nginx) {
    m.nginxTwo = target('nginx, 2 servers', nginx[0], nginx[1]);
    m.nginxThousand = target('nginx, 1,000 servers', nginx[2], nginx[3]);
    m.nginxRatio = nginx[2] / nginx[0];
  }
  return m;
}

describe('the 1,000-worker target, as issue 13 restated it: relative to nginx in the same rounds', () => {
  it('is met when we keep at least nginx share of throughput and grow CPU per request no more', () => {
    expect(manyWorkersVerdict(result([10_000, 80, 8_400, 103], [20_000, 30, 14_200, 54]))).toBe(
      "throughput kept 0.84x against nginx's 0.71x: met; CPU per request grew 1.29x against nginx's 1.80x: met",
    );
  });

  it('says which half failed', () => {
    expect(manyWorkersVerdict(result([10_000, 80, 6_000, 103], [20_000, 30, 14_200, 54]))).toContain("0.60x against nginx's 0.71x: NOT met");
    expect(manyWorkersVerdict(result([10_000, 80, 8_400, 160], [20_000, 30, 14_200, 54]))).toContain("grew 2.00x against nginx's 1.80x: NOT met");
  });

  it('gives no verdict without nginx, since the target is relative to it', () => {
    expect(manyWorkersVerdict(result([10_000, 80, 8_400, 103]))).toBeUndefined();
  });
});
