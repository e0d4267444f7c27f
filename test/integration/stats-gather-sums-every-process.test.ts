import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { fleetScrape } from '../../balancer/cluster/fleet-metrics';
import { RegistryBroadcaster } from '../../balancer/cluster/registry-broadcaster';
import { FleetStatsGatherer } from '../../balancer/cluster/stats-gather';
import { writeBalancerMetrics } from '../../balancer/metrics';
import type { WorkerRegistry } from '../../balancer/registry';
import { GatewayStats } from '../../balancer/stats/gateway-stats';
import { parseExposition, samplesOf, valueOf } from '../helpers/prometheus-text';
import { forkViewChild, primaryRegistry, type ViewChild } from '../helpers/registry-view-child';

/**
 * PROCESSES: the primary's /metrics is the whole balancer. Two real forked serving processes count
 * responses into their own WorkerStats; one gather sums them into the primary's records, a process
 * that does not answer in time is left out (its last answer standing in) and counted, and a process
 * that is gone leaves its counts in the sums.
 */
const A = 'http://127.0.0.1:18091';
const B = 'http://127.0.0.1:18092';

function respond(child: ChildProcess, url: string, count: number, status: number): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { probe?: string }) => {
      if (m.probe !== 'responded') return;
      child.off('message', on);
      resolve();
    };
    child.on('message', on);
    child.send({ probe: 'respond', url, count, status });
  });
}

describe('gathering counters from every serving process', () => {
  let registry: WorkerRegistry;
  let broadcaster: RegistryBroadcaster;
  let gatherer: FleetStatsGatherer;
  let children: ViewChild[] = [];
  const own = new GatewayStats();

  beforeAll(async () => {
    registry = primaryRegistry();
    broadcaster = new RegistryBroadcaster(registry, pino({ level: 'silent' }));
    gatherer = new FleetStatsGatherer(registry, own, pino({ level: 'silent' }), 300);
    let n = 0;
    const attach = (c: ChildProcess) => {
      broadcaster.attach(c);
      gatherer.attach(c, `serving-${++n}`);
    };
    children = await Promise.all([forkViewChild(attach), forkViewChild(attach)]);
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 1 });
    await Promise.all(children.map((c) => c.until((ws) => ws.length === 2, 'both workers in every view')));
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    broadcaster.close();
    await registry.close();
  });

  const scrape = async () => {
    const fleet = await fleetScrape(gatherer)();
    const source = { registry, gateway: gatherer.gateway, slowStartMs: 0, clientConnectionsOpen: () => gatherer.clientConnectionsOpen };
    return parseExposition(writeBalancerMetrics(source, Date.now()) + fleet.extra + fleet.processMetrics);
  };

  it("one scrape sums every process's counts per worker, and labels each process's metrics", async () => {
    await respond(children[0].child, A, 5, 200);
    await respond(children[0].child, B, 2, 502);
    await respond(children[1].child, A, 7, 200);
    own.registrations.created = 2;
    const m = await scrape();
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'a', class: '2xx' })).toBe(12);
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'b', class: '5xx' })).toBe(2);
    expect(valueOf(m, 'lb_worker_header_time_seconds_count', { worker: 'a' })).toBe(12);
    expect(valueOf(m, 'lb_registrations_total', { outcome: 'created' })).toBe(2);
    expect(valueOf(m, 'lb_serving_processes')).toBe(2);
    expect(valueOf(m, 'lb_serving_processes_unanswered')).toBe(0);
    const labelled = samplesOf(m, 'process_cpu_user_seconds_total').map((s) => s.labels.process);
    expect(labelled.sort()).toEqual(['primary', 'serving-1', 'serving-2']);
    expect(new Set(samplesOf(m, 'process_resident_memory_bytes').map((s) => s.labels.process)).size).toBe(3);
  });

  it('a process that does not answer in time is left out and counted; its last answer stands in', async () => {
    children[1].child.send({ probe: 'block', ms: 1500 });
    await respond(children[0].child, A, 1, 200);
    const m = await scrape();
    expect(valueOf(m, 'lb_serving_processes_unanswered')).toBe(1);
    expect(valueOf(m, 'lb_stats_gather_unanswered_total')).toBe(1);
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'a', class: '2xx' })).toBe(13);
    expect(
      samplesOf(m, 'process_cpu_user_seconds_total')
        .map((s) => s.labels.process)
        .sort(),
    ).toEqual(['primary', 'serving-1']);
  });

  it('a process that is gone leaves its counts in the sums', async () => {
    await children[1].until(() => true, 'the blocked process answering again');
    await children[0].stop();
    const m = await scrape();
    expect(valueOf(m, 'lb_serving_processes')).toBe(1);
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'a', class: '2xx' })).toBe(13);
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'b', class: '5xx' })).toBe(2);
  });
});
