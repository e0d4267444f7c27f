import type { IncomingHttpHeaders } from 'node:http';
import type { PickContext, Strategy, StrategyDeps } from '../../../strategies';
import { mulberry32 } from '../../helpers/random';

/** A worker as strategies see it; mutable here so tests can play the proxy and the registry. */
export interface FakeWorker {
  url: string;
  name: string;
  weight: number;
  inflight: number;
}

/** Workers named w1..wn (or the given names), weight 1 unless given. */
export function fakeWorkers(names: string[] | number, weights: number[] = []): FakeWorker[] {
  const list = typeof names === 'number' ? Array.from({ length: names }, (_, i) => `w${i + 1}`) : names;
  return list.map((name, i) => ({ url: `http://127.0.0.1:${9001 + i}`, name, weight: weights[i] ?? 1, inflight: 0 }));
}

export function ctx(clientIp = '10.0.0.1', headers: IncomingHttpHeaders = {}): PickContext {
  return { req: { headers }, clientIp };
}

/** Seeded randomness and a clock the test moves by hand. */
export function fakeDeps(seed = 1, hashKey = 'ip'): StrategyDeps & { clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return { random: mulberry32(seed), now: () => clock.ms, hashKey, clock };
}

export function join<W extends FakeWorker>(strategy: Strategy<W>, workers: W[]): void {
  for (const w of workers) strategy.onWorkerUp(w);
}

/** Names of `count` successive picks (no request start/end: the workers stay idle). */
export function names<W extends FakeWorker>(strategy: Strategy<W>, count: number, avoid?: ReadonlySet<W>): string[] {
  return Array.from({ length: count }, () => strategy.pick(ctx(), avoid)?.name ?? '-');
}

/** How many of `count` picks went to each worker name. */
export function tally<W extends FakeWorker>(strategy: Strategy<W>, count: number, avoid?: ReadonlySet<W>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names(strategy, count, avoid)) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
