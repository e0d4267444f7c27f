import { registerUrls, startOurBalancer, waitForRegistered } from '../fleet';
import { hasExited, spawnNode, waitFor } from '../processes';
import { progress } from '../progress';
import { alternatingRounds, type RoundsConfig, type TargetSummary } from '../rounds';
import { ratio } from '../stats';

/**
 * Extra (1): does the balancer slow down with 1,000 registered workers? Two balancers front the same
 * upstream process, which listens on 1,000 loopback ports: one balancer has 2 of those ports
 * registered, the other all 1,000 (every one gets traffic under round robin). The upstream, the
 * handler and the load are identical, so the ratio isolates what 1,000 workers cost the balancer
 * (registry, strategy, a pool and a keep-alive connection per worker). Target: within 5%.
 */

export interface ManyWorkersResult {
  upstreamPorts: number;
  two: TargetSummary;
  thousand: TargetSummary;
  /** 1,000-worker req/s over 2-worker req/s. */
  ratio?: number;
  /** How many workers the 1,000-worker balancer still listed after the run. */
  registeredAfter: number;
}

const COUNT = 1000;

export async function measureManyWorkers(cfg: RoundsConfig): Promise<ManyWorkersResult> {
  progress(`1,000 workers: starting one upstream process listening on ${COUNT} ports`);
  const upstream = spawnNode('many-ports', 'bench/servers/many-ports.js', { COUNT: String(COUNT) });
  const ports = await waitFor(
    async () => {
      const line = upstream.output().split('\n').find((l) => l.startsWith('{"ports"'));
      return line ? (JSON.parse(line) as { ports: number[] }).ports : undefined;
    },
    `${COUNT} listening ports`,
    30_000,
    () => (hasExited(upstream) ? `many-ports exited:\n${upstream.output()}` : undefined),
  );
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const small = await startOurBalancer('balancer-2-workers');
  const big = await startOurBalancer('balancer-1000-workers');
  progress(`1,000 workers: registering 2 ports with one balancer and ${COUNT} with the other (signed, like workers do)`);
  await registerUrls(small, urls.slice(0, 2));
  await registerUrls(big, urls);
  await waitForRegistered(small, urls.slice(0, 2));
  await waitForRegistered(big, urls);
  try {
    const [two, thousand] = await alternatingRounds(
      [
        { name: '2 workers', url: small.url, pid: small.proc.pid },
        { name: '1,000 workers', url: big.url, pid: big.proc.pid },
      ],
      cfg,
      '1,000 workers',
    );
    const listed = (await (await fetch(`${big.url}/workers`)).json()) as string[];
    return { upstreamPorts: ports.length, two, thousand, ratio: ratio(thousand.rps, two.rps), registeredAfter: listed.length };
  } finally {
    await Promise.all([small.proc.stop(), big.proc.stop(), upstream.stop()]);
  }
}
