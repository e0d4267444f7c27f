import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';

/** Where a run happened, stored with its results so two JSON files can be compared honestly. */
export interface RunMetadata {
  date: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAvg1m: number;
  commit?: string;
}

export function runMetadata(): RunMetadata {
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  const cpuList = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAvg1m: Math.round(loadavg()[0] * 100) / 100,
    ...(commit ? { commit } : {}),
  };
}

/** Writes `data` as pretty JSON, creating the directory; returns the absolute path written. */
export function writeJson(path: string, data: unknown): string {
  const absolute = resolve(path);
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, `${JSON.stringify(data, null, 2)}\n`);
  return absolute;
}
