import type { GeneratorName } from './load';

export type SuiteName = 'seed' | 'peers' | 'pick' | 'faults' | 'cores' | 'replicas' | 'target';

export interface BenchOptions {
  suite: SuiteName;
  /** Seconds per measured round, in the seed and peers suites. */
  durationS?: number;
  /** Overrides the connection count of every scenario. */
  connections?: number;
  connectionsSlow?: number;
  connectionsFast?: number;
  rounds?: number;
  warmupS?: number;
  generator?: GeneratorName;
  /** undefined: the suite's default (none for seed/pick, benchmark-results/peers.json for peers). */
  json?: string;
  /** Peers suite: only these peers (by name). */
  only?: string[];
  /** Peers suite: run the extra measurements (1,000 workers, 1,000 connections, 100 MB, pick). */
  extras: boolean;
  /** Target suite: the running balancer to send load to (loopback only). */
  target?: string;
  help: boolean;
}

export const USAGE = `Usage: npm run benchmark -- [options]

Suites
  --suite seed            (default) one worker called directly vs balancer + 3 workers,
                          for a 1 s worker and a 0 ms worker; autocannon in-process,
                          2 alternating rounds x 10 s per target (about 1.5 minutes)
  --suite peers           the same 2 workers (0 ms) behind our balancer, nginx, HAProxy,
                          @fastify/http-proxy, node-http-proxy and an Express+axios gateway,
                          plus "direct"; then the extra measurements (about 4 minutes)
  --suite pick            ns per strategy.pick() for every registered strategy, 10 and 10,000 workers
  --suite faults          what SIGKILL, SIGSTOP, SIGTERM of a worker, all workers dying, a balancer
                          restart and SIGHUP cost clients (failed and slowed requests, how long
                          they failed; 6 faults x --duration, default 10 s)
  --suite cores           PROCESSES=2 against PROCESSES=1: CPU per request (alternating rounds,
                          --rounds default 3, --duration default 3 s, --connections default 32),
                          connections per serving process, and a registration's time to reach
                          every serving process (p50/p99 over 100; about 1 minute)
  --suite replicas        two replicas sharing a registry through a redis-server (REDIS_URL): p50/p99
                          from a registration through one until the other routes to it (100 registrations)

Options
  --target <url>          bounded load (autocannon, --duration default 60 s, --connections default 16)
                          against a balancer already running on this machine, e.g. the one npm start
                          runs; watch it move on the dashboard. Loopback addresses only
  --duration <s>          seconds per measured round (seed: 10; peers: 2)
  --connections <n>       connections for every scenario (seed: 100 for 1 s, 64 for 0 ms; peers: 64)
  --connections-1s <n>    seed suite, 1 s scenario only
  --connections-0ms <n>   seed suite, 0 ms scenario only
  --rounds <n>            alternating rounds per target, medians reported (seed: 2; peers: 8)
  --warmup <s>            warm-up before each measured target (2)
  --generator wrk|autocannon   peers suite load generator (default: wrk when installed)
  --only a,b,c            peers suite: only these peers (ours, nginx, haproxy, fastify, http-proxy, express-axios, direct)
                          faults suite: only the faults whose names hold one of these, e.g. --only PROCESSES=2
  --no-extras             peers suite: skip the extra measurements
  --json [path]           write results as JSON (seed: benchmark-results/results.json;
                          peers always writes benchmark-results/peers.json + peers.svg)
  --help                  this text
`;

const DEFAULT_JSON: Record<SuiteName, string> = {
  seed: 'benchmark-results/results.json',
  peers: 'benchmark-results/peers.json',
  pick: 'benchmark-results/pick.json',
  faults: 'benchmark-results/faults.json',
  cores: 'benchmark-results/cores.json',
  replicas: 'benchmark-results/replicas.json',
  target: 'benchmark-results/target.json',
};

/** A flag's value as a positive number (an integer unless `integer` is false); throws naming the flag. Both benchmark parsers use it. */
export function positive(flag: string, value: string | undefined, integer = true): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} expects a positive ${integer ? 'integer' : 'number'}, got ${value ?? '(nothing)'}`);
  }
  return n;
}

/** Parses argv (without node and script); throws with a message naming the flag on a bad value. */
export function parseArgs(argv: string[]): BenchOptions {
  const opts: BenchOptions = { suite: 'seed', extras: true, help: false };
  let jsonFlag = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--suite': {
        const s = value();
        if (s !== 'seed' && s !== 'peers' && s !== 'pick' && s !== 'faults' && s !== 'cores' && s !== 'replicas')
          throw new Error(`--suite expects seed, peers, pick, faults, cores or replicas, got ${s ?? '(nothing)'}`);
        opts.suite = s;
        break;
      }
      case '--duration':
        opts.durationS = positive(flag, value(), false);
        break;
      case '--connections':
        opts.connections = positive(flag, value());
        break;
      case '--connections-1s':
        opts.connectionsSlow = positive(flag, value());
        break;
      case '--connections-0ms':
        opts.connectionsFast = positive(flag, value());
        break;
      case '--rounds':
        opts.rounds = positive(flag, value());
        break;
      case '--warmup':
        opts.warmupS = Number(value());
        if (!(opts.warmupS >= 0)) throw new Error('--warmup expects a number of seconds >= 0');
        break;
      case '--generator': {
        const g = value();
        if (g !== 'wrk' && g !== 'autocannon') throw new Error(`--generator expects wrk or autocannon, got ${g ?? '(nothing)'}`);
        opts.generator = g;
        break;
      }
      case '--only':
        opts.only = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--target':
        opts.target = value();
        if (opts.target === undefined || opts.target.startsWith('--')) throw new Error('--target expects a URL such as http://127.0.0.1:9080/');
        opts.suite = 'target';
        break;
      case '--no-extras':
        opts.extras = false;
        break;
      case '--json':
        jsonFlag = true;
        if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) opts.json = value();
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (jsonFlag && opts.json === undefined) opts.json = DEFAULT_JSON[opts.suite];
  if (opts.suite === 'peers' && opts.json === undefined) opts.json = DEFAULT_JSON.peers;
  return opts;
}

/**
 * The start of both benchmark entrypoints: their options parsed from the command line, or undefined
 * after printing --help; a bad option prints its problem and the usage, and exits 2.
 */
export function optionsOrExit<T extends { help?: boolean }>(parse: (argv: string[]) => T, usage: string): T | undefined {
  let opts: T;
  try {
    opts = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (opts.help === true) {
    process.stdout.write(usage);
    return undefined;
  }
  return opts;
}
