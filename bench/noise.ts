import { readdirSync, readFileSync } from 'node:fs';
import { procStatFields } from './processes';

/**
 * How much of the machine something other than this benchmark used during a measurement. On a shared
 * machine every figure moves with that, so each round records it and the report shows it. Linux only;
 * elsewhere it reads as undefined.
 *
 * other = (user + nice + system time of all CPUs) - (CPU time of this process and its descendants,
 * including children they have reaped, such as each wrk run), as a share of all CPU time elapsed.
 * Interrupt and softirq time (loopback networking) are left out on both sides.
 */

interface Snapshot {
  busy: number;
  total: number;
  ours: number;
}

function readCpuLine(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system] = fields;
  return { busy: user + nice + system, total: fields.reduce((a, b) => a + b, 0) };
}

/** utime + stime + cutime + cstime (clock ticks) and the parent of every process we can read. */
function readProcesses(): Map<number, { ppid: number; ticks: number }> {
  const out = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const rest = procStatFields(entry);
      out.set(Number(entry), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function ourTicks(procs: Map<number, { ppid: number; ticks: number }>): number {
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  let ticks = 0;
  const stack = [process.pid];
  while (stack.length) {
    const pid = stack.pop()!;
    ticks += procs.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

function snapshot(): Snapshot | undefined {
  try {
    const cpu = readCpuLine();
    return { ...cpu, ours: ourTicks(readProcesses()) };
  } catch {
    return undefined;
  }
}

export interface NoiseMeter {
  /** Share of all CPU time (0-100, all CPUs together) used by other processes since start. */
  stop(): number | undefined;
}

export function startNoiseMeter(): NoiseMeter {
  const start = snapshot();
  return {
    stop() {
      const end = snapshot();
      if (!start || !end || end.total === start.total) return undefined;
      const other = end.busy - start.busy - (end.ours - start.ours);
      return Math.max(0, (100 * other) / (end.total - start.total));
    },
  };
}
