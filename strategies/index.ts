import type { Candidate, Strategy, StrategyDeps } from './strategy';
import { ConsistentHash } from './consistent-hash';
import { LeastConnections } from './least-connections';
import { LeastLatency } from './least-latency';
import { PowerOfTwo } from './power-of-two';
import { RandomStrategy } from './random';
import { RoundRobin } from './round-robin';
import { WeightedRoundRobin } from './weighted-round-robin';

export type { Candidate, PickContext, RequestOutcome, Strategy, StrategyDeps } from './strategy';

/** Every strategy STRATEGY accepts. Adding one: a file in strategies/ and one line here. */
const factories: Record<string, (deps: StrategyDeps) => Strategy> = {
  'round-robin': () => new RoundRobin(),
  'weighted-round-robin': () => new WeightedRoundRobin(),
  'least-connections': () => new LeastConnections(),
  'power-of-two': (deps) => new PowerOfTwo(deps),
  random: (deps) => new RandomStrategy(deps),
  'consistent-hash': (deps) => new ConsistentHash(deps),
  'least-latency': (deps) => new LeastLatency(deps),
};

export const strategyNames = Object.keys(factories);

export function createStrategy<W extends Candidate>(name: string, deps: StrategyDeps): Strategy<W> {
  const factory = factories[name];
  if (!factory) throw new Error(`unknown strategy "${name}"; accepted: ${strategyNames.join(', ')}`);
  return factory(deps) as unknown as Strategy<W>;
}
