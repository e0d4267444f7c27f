import { startOurBalancer, startWorker, waitForRegistered } from '../fleet';
import { runLoad, type GeneratorName, type LoadResult } from '../load';
import { startNoiseMeter } from '../noise';
import { rssKb, sampleRss, stopAll } from '../processes';
import { progress } from '../progress';

/**
 * Extra (2): the balancer's memory with 1,000 client connections open at once. The workers wait 1 s
 * before answering, so all 1,000 requests (and up to 1,000 upstream connections) are in flight
 * together; VmRSS is sampled every 200 ms and the peak reported against the idle figure.
 */

export interface ConnectionsRssResult {
  connections: number;
  workerDelayMs: number;
  idleRssKb?: number;
  peakRssKb?: number;
  load: LoadResult;
  /** % of the machine used by other processes meanwhile (see noise.ts). */
  otherCpuPct?: number;
}

const CONNECTIONS = 1000;
const DELAY_MS = 1000;

export async function measureConnectionsRss(generator: GeneratorName, durationS: number): Promise<ConnectionsRssResult> {
  progress(`1,000 connections: starting a balancer and 2 workers that answer after ${DELAY_MS} ms`);
  const balancer = await startOurBalancer('balancer-1000-connections');
  const workers = [await startWorker('slow-1', DELAY_MS, balancer), await startWorker('slow-2', DELAY_MS, balancer)];
  await waitForRegistered(
    balancer,
    workers.map((w) => w.url),
  );
  try {
    const idleRssKb = rssKb(balancer.proc.pid);
    progress(`1,000 connections: ${generator} -c ${CONNECTIONS} for ${durationS} s`);
    const sampler = sampleRss(balancer.proc.pid, 200);
    const noise = startNoiseMeter();
    const load = await runLoad(generator, `${balancer.url}/`, { connections: CONNECTIONS, durationS });
    const otherCpuPct = noise.stop();
    const peakRssKb = sampler.stop();
    return { connections: CONNECTIONS, workerDelayMs: DELAY_MS, idleRssKb, peakRssKb, load, otherCpuPct };
  } finally {
    await stopAll();
  }
}
