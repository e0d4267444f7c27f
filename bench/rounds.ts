import { runLoad, type GeneratorName, type LoadResult } from './load';
import { startNoiseMeter } from './noise';
import { cpuTimeUs, sampleRss } from './processes';
import { progress } from './progress';
import { fmtMb, fmtMs, fmtPct, fmtRps, fmtUs } from './report';
import { median } from './stats';

/**
 * Alternating rounds: every target gets a warm-up, then `rounds` measurements, with the order rotated
 * each round so no target always runs first (cold caches) or last (a warmer machine). Medians are
 * reported; RSS of each target's process is sampled every 200 ms while it is under load.
 */

export interface RoundsConfig {
  generator: GeneratorName;
  connections: number;
  rounds: number;
  roundS: number;
  warmupS: number;
  /**
   * Unmeasured load right before each measured round, in seconds (default none): the round then sees
   * the target's steady state, not the reconnections its upstreams forced while it was idle.
   */
  rewarmS?: number;
  /** How many disturbed rounds may be repeated in one call (default: one per target). */
  repeatBudget?: number;
  /** autocannon only: count responses per worker name in every body (see load.ts). */
  countShares?: boolean;
}

export interface Target {
  name: string;
  url: string;
  pid: number;
  /**
   * Stop the process (SIGSTOP) while other targets are measured, and continue it for its own warm-up
   * and rounds. For targets that keep working while idle and share something with the others: a
   * balancer with 1,000 workers sends 1,000 health probes a second when it has no traffic, to an
   * upstream process the other targets are measured against.
   */
  pauseWhenIdle?: boolean;
}

/** After a paused target is continued: time for the timers that fell due meanwhile to fire before it is measured. */
const RESUME_SETTLE_MS = 300;

function setPaused(t: Target, paused: boolean): void {
  if (!t.pauseWhenIdle) return;
  try {
    process.kill(t.pid, paused ? 'SIGSTOP' : 'SIGCONT');
  } catch {
    // Already gone: its rounds will report the failure.
  }
}

/** Runs `fn` with `t` continued (and settled, if it was paused), then pauses it again. */
async function whileRunning<T>(t: Target, fn: () => Promise<T>): Promise<T> {
  if (t.pauseWhenIdle) {
    setPaused(t, false);
    await new Promise((resolve) => setTimeout(resolve, RESUME_SETTLE_MS));
  }
  try {
    return await fn();
  } finally {
    setPaused(t, true);
  }
}

export interface TargetSummary {
  name: string;
  rounds: LoadResult[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over all measured rounds (warm-ups excluded). */
  errors: number;
  requests: number;
  /** Highest VmRSS of the target's process seen while it was measured, in kB. */
  peakRssKb?: number;
  /**
   * CPU time (user + system) the target's process used per response, in microseconds, median of the
   * measured rounds: what each request costs the proxy itself, whatever the shared machine did to req/s.
   */
  cpuUsPerRequest?: number;
  /** Per measured round: % of all CPU time used by processes outside this benchmark (see noise.ts). */
  otherCpuPct: (number | undefined)[];
  /** Rounds measured again because other processes disturbed them (not in the medians). */
  discarded: (LoadResult & { otherCpuPct?: number })[];
  /** Responses per worker name, summed over the measured rounds (with countShares). */
  shares?: Record<string, number>;
}

/**
 * A round during which other processes used more than this share of the machine is measured again
 * at the end of the schedule (so a long disturbance is not sampled twice in a row), as long as the
 * repeat budget lasts (one repeat per target by default); the disturbed round is kept in
 * `discarded`, not in the medians.
 */
export const DISTURBED_PCT = 10;

interface Measured {
  result: LoadResult;
  other?: number;
  peak?: number;
  cpuUsPerRequest?: number;
}

/** The configured load on `t` for `durationS` seconds: warm-ups, re-warms and measured rounds alike. */
function loadOn(t: Target, cfg: RoundsConfig, durationS: number): Promise<LoadResult> {
  return runLoad(cfg.generator, `${t.url}/`, { connections: cfg.connections, durationS, countShares: cfg.countShares });
}

async function measureRound(t: Target, cfg: RoundsConfig): Promise<Measured> {
  const sampler = sampleRss(t.pid);
  const noise = startNoiseMeter();
  const cpuBefore = cpuTimeUs(t.pid);
  const result = await loadOn(t, cfg, cfg.roundS);
  const cpuAfter = cpuTimeUs(t.pid);
  const other = noise.stop();
  const peak = sampler.stop();
  const cpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && result.requests > 0 ? (cpuAfter - cpuBefore) / result.requests : undefined;
  return { result, other, peak, cpuUsPerRequest };
}

export async function alternatingRounds(targets: readonly Target[], cfg: RoundsConfig, label: string): Promise<TargetSummary[]> {
  for (const t of targets) setPaused(t, true);
  try {
    return await measureAll(targets, cfg, label);
  } finally {
    for (const t of targets) setPaused(t, false);
  }
}

async function measureAll(targets: readonly Target[], cfg: RoundsConfig, label: string): Promise<TargetSummary[]> {
  const results = new Map<string, { rounds: LoadResult[]; other: (number | undefined)[]; cpu: number[]; discarded: Measured[]; peak?: number }>(
    targets.map((t) => [t.name, { rounds: [], other: [], cpu: [], discarded: [] }]),
  );
  let repeats = cfg.repeatBudget ?? targets.length;
  if (cfg.warmupS > 0) {
    for (const t of targets) {
      progress(`${label}: warm-up ${t.name} (${cfg.warmupS} s)`);
      await whileRunning(t, () => loadOn(t, cfg, cfg.warmupS));
    }
  }
  const schedule: { round: number; target: Target }[] = [];
  for (let r = 0; r < cfg.rounds; r++) {
    for (let i = 0; i < targets.length; i++) schedule.push({ round: r + 1, target: targets[(i + r) % targets.length] });
  }
  // The schedule only grows by the bounded repeat budget, so this loop ends.
  for (let k = 0; k < schedule.length; k++) {
    const { round, target: t } = schedule[k];
    const entry = results.get(t.name)!;
    const m = await whileRunning(t, async () => {
      if (cfg.rewarmS) await loadOn(t, cfg, cfg.rewarmS);
      return measureRound(t, cfg);
    });
    const where = `${label}: round ${round}/${cfg.rounds} ${t.name}`;
    if ((m.other ?? 0) > DISTURBED_PCT && repeats > 0) {
      repeats--;
      entry.discarded.push(m);
      schedule.push({ round, target: t });
      progress(`${where}: disturbed (other CPU ${fmtPct(m.other)}, ${fmtRps(m.result.rps)} req/s), measured again at the end (${repeats} repeats left)`);
      continue;
    }
    entry.rounds.push(m.result);
    entry.other.push(m.other);
    if (m.cpuUsPerRequest !== undefined) entry.cpu.push(m.cpuUsPerRequest);
    if (m.peak !== undefined) entry.peak = Math.max(entry.peak ?? 0, m.peak);
    progress(
      `${where}: ${fmtRps(m.result.rps)} req/s, p99 ${fmtMs(m.result.p99Ms)}, ${m.result.errors} errors, RSS ${fmtMb(m.peak)}, CPU ${fmtUs(m.cpuUsPerRequest)}/request, other CPU ${fmtPct(m.other)}`,
    );
  }
  return targets.map((t) => {
    const { rounds, other, cpu, discarded, peak } = results.get(t.name)!;
    const shares: Record<string, number> = {};
    for (const round of rounds) for (const [name, n] of Object.entries(round.shares ?? {})) shares[name] = (shares[name] ?? 0) + n;
    return {
      name: t.name,
      rounds,
      rps: median(rounds.map((x) => x.rps)),
      p50Ms: median(rounds.map((x) => x.p50Ms)),
      p99Ms: median(rounds.map((x) => x.p99Ms)),
      errors: rounds.reduce((sum, x) => sum + x.errors, 0),
      requests: rounds.reduce((sum, x) => sum + x.requests, 0),
      otherCpuPct: other,
      discarded: discarded.map((d) => ({ ...d.result, otherCpuPct: d.other })),
      ...(peak !== undefined ? { peakRssKb: peak } : {}),
      ...(cpu.length > 0 ? { cpuUsPerRequest: median(cpu) } : {}),
      ...(cfg.countShares ? { shares } : {}),
    };
  });
}
