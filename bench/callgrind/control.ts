import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `callgrind_control` talks to the process through valgrind's vgdb FIFOs in /tmp, whose names carry
 * the USER and HOST of the valgrind process's environment. The balancer reads HOST too (its listen
 * address), so every call here gets the same USER and HOST as the process it controls; with any other
 * HOST, callgrind_control prints "OK." and does nothing.
 */
export interface ControlTarget {
  readonly pid: number;
  /** USER and HOST exactly as the valgrind process has them (absent = unset). */
  readonly env: { USER?: string; HOST?: string };
  /** The directory its --callgrind-out-file points into, and that file's base name. */
  readonly outDir: string;
  readonly outBase: string;
}

const CONTROL_TIMEOUT_MS = 120_000;

function callgrindControl(target: ControlTarget, flag: '-z' | '-d'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'callgrind_control',
      [flag, String(target.pid)],
      { timeout: CONTROL_TIMEOUT_MS, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...target.env } },
      (err, stdout, stderr) => {
        const said = `${stdout}${stderr}`.trim();
        if (err) reject(new Error(`callgrind_control ${flag} ${target.pid} failed: ${err.message}\n${said}`));
        // It reports a missing FIFO on stderr and still exits 0 (valgrind 3.19).
        else if (/error|failed|cannot/i.test(stderr)) reject(new Error(`callgrind_control ${flag} ${target.pid}: ${said}`));
        else resolve(said);
      },
    );
  });
}

/** Zeroes the counters: what runs from here until the next dump is what the dump counts. */
export async function zeroCounters(target: ControlTarget): Promise<void> {
  await callgrindControl(target, '-z');
}

/** Dump files written so far, as `<outBase>.<n>`. */
function dumpFiles(target: ControlTarget): Set<string> {
  const prefix = `${target.outBase}.`;
  return new Set(readdirSync(target.outDir).filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))));
}

/**
 * Dumps the counters and returns the new dump file's path. callgrind_control returns once the dump is
 * written; a missing or empty file is an error, never a round of zero instructions.
 */
export async function dumpCounters(target: ControlTarget): Promise<string> {
  const before = dumpFiles(target);
  await callgrindControl(target, '-d');
  const added = [...dumpFiles(target)].filter((name) => !before.has(name));
  if (added.length !== 1) throw new Error(`callgrind_control -d ${target.pid} wrote ${added.length} dump files in ${target.outDir}, expected 1`);
  const path = join(target.outDir, added[0]);
  if (statSync(path).size === 0) throw new Error(`callgrind dump ${path} is empty`);
  return path;
}
