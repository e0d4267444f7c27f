import { resolve } from 'node:path';
import { positive } from '../args';
import { DIST } from '../processes';

export interface InstructionOptions {
  /** The compiled build to measure: its load-balancer-server.js and workers/worker-server.js. */
  dist: string;
  /** PROCESSES of the measured balancer; > 1 counts the serving process that holds the connection, and the primary. */
  processes: number;
  rounds: number;
  requestsPerRound: number;
  warmupRequests: number;
  baselinePath: string;
  updateBaseline: boolean;
  /** Recorded as the build's commit instead of asking git in the build's checkout. */
  commit?: string;
  json?: string;
  /** Keeps the dump directory and the perf map for reading JIT addresses afterwards. */
  keep: boolean;
  timeLimitS: number;
  help: boolean;
}

/** Repo root: this file is dist/bench/callgrind/options.js, DIST is dist/. */
const REPO = resolve(DIST, '..');
export const DEFAULT_BASELINE = resolve(REPO, 'bench/instructions-baseline.json');

export const USAGE = `Usage: npm run bench:instructions -- [options]

User-space instructions per request of the balancer, counted by valgrind's callgrind (the method
of docs/measuring.md, section 1), against the baseline committed in bench/instructions-baseline.json.

The balancer runs under valgrind --tool=callgrind with node --single-threaded --perf-basic-prof,
two 0 ms workers registered to it, health checks off, everything on 127.0.0.1. One client sends
GET / one request at a time on one keep-alive socket (a new one every 500 requests of the warm-up).
After the warm-up, each round opens a fresh connection and sends 10 requests on it, zeroes the
counters (callgrind_control -z), sends its requests and dumps them (callgrind_control -d); the
round's count is its total less TurboFan's compile jobs and garbage collection (inclusive, from
callgrind_annotate), divided by its requests. The median of the rounds is compared with the baseline.
Counts are deterministic to about 1 %; an occasional round with a major GC and recompilation after
it reads high, which is why the median is reported. Needs valgrind (Debian package valgrind).

Time: valgrind needs 20 s to start node on a quiet 2-core machine and 2-3 minutes on a busy one;
then 20,000 warm-up requests (30-110 s) and 7 rounds of 3,000 (6-25 s each). Default runs on a
shared 2-core machine at load average 7-10 took 3 min 57 s and 6 min 50 s. The load changes the
time, not the counts: a build measured twice agreed to 0.2 %.

Options
  --rounds <n>            measured rounds (7)
  --requests <n>          requests per round (3000)
  --warmup <n>            warm-up requests before the first round (20000)
  --processes <n>         run the balancer with PROCESSES=n (1); with n > 1 valgrind follows the
                          serving processes (--trace-children=yes), each round counts the one
                          that holds its connection, and the primary is reported per request
                          alongside (the baseline is a single process's: not with --update-baseline)
  --dist <path>           measure another build's compiled dist/ directory (default: this build's);
                          its own workers/worker-server.js is used with it
  --commit <id>           what to record as the measured build's commit (default: git in the
                          checkout that holds --dist, with -dirty for uncommitted changes)
  --update-baseline       write the result as the new baseline (--baseline path)
  --baseline <path>       the baseline file (${DEFAULT_BASELINE})
  --json <path>           also write this run's rounds, median and ratio as JSON
  --keep                  keep the callgrind dumps and /tmp/perf-<pid>.map, and print where
  --time-limit <s>        give up after this many seconds in all (1200)
  --help                  this text

Examples
  npm run bench:instructions                                  this build against the baseline
  npm run bench:instructions -- --rounds 3                    about 40 s shorter
  npm run bench:instructions -- --processes 2 --rounds 5      a serving process of PROCESSES=2
  npm run bench:instructions -- --dist ../other/dist --json other.json
`;

function text(flag: string, value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('--')) throw new Error(`${flag} expects a value`);
  return value;
}

/** Parses argv (without node and script); throws with a message naming the flag. */
export function parseInstructionArgs(argv: string[]): InstructionOptions {
  const opts: InstructionOptions = {
    dist: DIST,
    processes: 1,
    rounds: 7,
    requestsPerRound: 3_000,
    warmupRequests: 20_000,
    baselinePath: DEFAULT_BASELINE,
    updateBaseline: false,
    keep: false,
    timeLimitS: 1_200,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--processes':
        opts.processes = positive(flag, value());
        break;
      case '--rounds':
        opts.rounds = positive(flag, value());
        break;
      case '--requests':
        opts.requestsPerRound = positive(flag, value());
        break;
      case '--warmup': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error('--warmup expects an integer >= 0');
        opts.warmupRequests = n;
        break;
      }
      case '--dist':
        opts.dist = resolve(text(flag, value()));
        break;
      case '--commit':
        opts.commit = text(flag, value());
        break;
      case '--update-baseline':
        opts.updateBaseline = true;
        break;
      case '--baseline':
        opts.baselinePath = resolve(text(flag, value()));
        break;
      case '--json':
        opts.json = resolve(text(flag, value()));
        break;
      case '--keep':
        opts.keep = true;
        break;
      case '--time-limit':
        opts.timeLimitS = positive(flag, value());
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  // The committed baseline is a single process's count: a serving process's is compared with it, never replaces it.
  if (opts.updateBaseline && opts.processes > 1) throw new Error("--update-baseline writes a single process's baseline: not with --processes > 1");
  return opts;
}
