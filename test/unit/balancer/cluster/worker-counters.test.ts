import {
  addGateway,
  addPacked,
  dropGauges,
  packGateway,
  packWorker,
  requestsOfPacked,
  WORKER_COUNTERS,
  writeSum,
} from '../../../../balancer/cluster/worker-counters';
import type { WorkerRecord } from '../../../../balancer/registry';
import { GatewayStats } from '../../../../balancer/stats/gateway-stats';
import { WorkerStats } from '../../../../balancer/stats/worker-stats';
import { connectionsOf, inflightOf } from '../../../../balancer/stats/worker-gauges';
import { errorsOf, requestsOf } from '../../../../balancer/stats/worker-windows';

/**
 * The layout a serving process packs its counters in and the primary sums them in: two processes'
 * counts of one worker, packed, summed through JSON (as IPC carries them) and written into the
 * primary's record, read back as /metrics and /status read them.
 */
function served(statuses: number[], errors: ('reset' | 'refused')[], gauges: { inflight: number; open: number; idle: number; queued: number }): WorkerRecord {
  const stats = new WorkerStats();
  for (const status of statuses) stats.recordResponse(status, 3);
  for (const reason of errors) stats.recordError(reason);
  stats.retries = 1;
  return { stats, inflight: gauges.inflight, pool: { stats: { open: gauges.open, idle: gauges.idle, queued: gauges.queued } } } as unknown as WorkerRecord;
}

const overIpc = (packed: number[]): number[] => JSON.parse(JSON.stringify(packed)) as number[];

describe('worker counters across processes', () => {
  const one = served([200, 200, 503], ['reset'], { inflight: 2, open: 3, idle: 1, queued: 0 });
  const two = served([200, 404], ['refused', 'refused'], { inflight: 1, open: 2, idle: 2, queued: 4 });

  it('sums every counter and gauge of two processes into the primary record', () => {
    const sum = new Float64Array(WORKER_COUNTERS);
    addPacked(sum, overIpc(packWorker(one)));
    addPacked(sum, overIpc(packWorker(two)));
    const primary = { stats: new WorkerStats(), inflight: 0, pool: { stats: { open: 0, idle: 0, queued: 0 } } } as unknown as WorkerRecord;
    primary.stats.probesOk = 7; // the primary's own: left alone
    writeSum(primary.stats, sum);
    expect([...primary.stats.responses]).toEqual([0, 3, 0, 1, 1]);
    expect(primary.stats.headerTime.reduce((a, b) => a + b, 0)).toBe(5);
    expect(primary.stats.headerTimeSumMs).toBe(15);
    expect(requestsOf(primary.stats)).toBe(8);
    expect(errorsOf(primary.stats)).toBe(4);
    expect(requestsOfPacked(sum)).toBe(8);
    expect(primary.stats.retries).toBe(2);
    expect(primary.stats.probesOk).toBe(7);
    expect(inflightOf(primary)).toBe(3);
    expect(connectionsOf(primary)).toEqual({ open: 5, idle: 3, queued: 4 });
  });

  it('a departed process leaves its counters and none of its gauges', () => {
    const sum = new Float64Array(WORKER_COUNTERS);
    addPacked(sum, packWorker(one));
    dropGauges(sum);
    const primary = { stats: new WorkerStats() } as unknown as WorkerRecord;
    writeSum(primary.stats, sum);
    expect(requestsOf(primary.stats)).toBe(4);
    expect(primary.stats.gathered).toEqual({ inflight: 0, open: 0, idle: 0, queued: 0 });
  });

  it('gateway counters sum, and open WebSockets only from live processes', () => {
    const a = new GatewayStats();
    a.countAnswer('no_worker');
    a.registrations.created = 2;
    a.websocketsOpen = 3;
    a.websocketsOpened = 5;
    const total = new GatewayStats();
    addGateway(total, overIpc(packGateway(a)), true);
    addGateway(total, overIpc(packGateway(a)), false);
    expect(total.answers.no_worker).toBe(2);
    expect(total.registrations.created).toBe(4);
    expect(total.websocketsOpen).toBe(3);
    expect(total.websocketsOpened).toBe(10);
  });
});
