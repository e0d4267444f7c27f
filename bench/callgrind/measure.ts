import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../processes';
import { progress } from '../progress';
import { annotate, parseAnnotate, steadyPerRequest, type DumpCost } from './annotate';
import { SequentialClient } from './client';
import { dumpCounters, zeroCounters } from './control';
import { startCallgrindFleet, type CallgrindFleet } from './fleet';

export interface Round extends DumpCost {
  /** Instructions per request, compile and GC taken out. */
  readonly steady: number;
}

export interface MeasureSettings {
  readonly dist: string;
  readonly rounds: number;
  readonly requestsPerRound: number;
  readonly warmupRequests: number;
  readonly keep: boolean;
  /** Epoch ms past which no further request is sent. */
  readonly deadline: number;
}

/** Files this run leaves in /tmp; removed at the end (also from the exit hook) unless kept. */
export interface Scratch {
  dir?: string;
  /** The balancer's pid: V8 writes /tmp/perf-<pid>.map, valgrind its vgdb FIFOs (left behind on SIGKILL). */
  pid?: number;
}

export const perfMapOf = (pid: number) => `/tmp/perf-${pid}.map`;

export function removeScratch(scratch: Scratch): void {
  if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true });
  if (scratch.pid === undefined) return;
  rmSync(perfMapOf(scratch.pid), { force: true });
  const fifo = `-${scratch.pid}-by-`;
  for (const name of readdirSync('/tmp')) if (name.startsWith('vgdb-pipe-') && name.includes(fifo)) rmSync(join('/tmp', name), { force: true });
}

function checkPrerequisites(dist: string): void {
  const missing = ['valgrind', 'callgrind_control', 'callgrind_annotate'].filter((tool) => !which(tool));
  if (missing.length) throw new Error(`${missing.join(', ')} not found on PATH: install valgrind (Debian package valgrind)`);
  for (const script of ['load-balancer-server.js', 'workers/worker-server.js']) {
    if (!existsSync(join(dist, script))) throw new Error(`${join(dist, script)} does not exist: is ${dist} a built dist/ directory?`);
  }
}

const WARMUP_STEP = 5_000;
/**
 * The warm-up changes connection this often: each round runs on a fresh one (see below), and the code
 * that closes and accepts connections must be compiled before the rounds, not recompiled inside them.
 */
const WARMUP_REQUESTS_PER_CONNECTION = 500;
const ROUND_LEAD_IN = 10;

/**
 * One run: the fleet under callgrind, the warm-up, then `rounds` dumps of `requestsPerRound` requests
 * each. Every process is stopped before this returns or throws; the caller's exit hook is the last
 * resort if this process itself is killed.
 */
export async function measure(settings: MeasureSettings, scratch: Scratch): Promise<Round[]> {
  checkPrerequisites(settings.dist);
  scratch.dir = mkdtempSync(join(tmpdir(), 'bench-instructions-'));
  let fleet: CallgrindFleet | undefined;
  let client: SequentialClient | undefined;
  try {
    progress(`starting the balancer of ${settings.dist} under callgrind (tens of seconds)`);
    fleet = await startCallgrindFleet(settings.dist, scratch.dir, (pid) => (scratch.pid = pid));
    client = await SequentialClient.open(fleet.port);
    for (let sent = 0; sent < settings.warmupRequests;) {
      const step = Math.min(WARMUP_STEP, settings.warmupRequests - sent);
      for (let done = 0; done < step; done += WARMUP_REQUESTS_PER_CONNECTION) {
        client.close();
        client = await SequentialClient.open(fleet.port);
        await client.send(Math.min(WARMUP_REQUESTS_PER_CONNECTION, step - done), settings.deadline);
      }
      sent += step;
      progress(`warm-up: ${sent.toLocaleString('en-US')} of ${settings.warmupRequests.toLocaleString('en-US')} requests`);
    }
    const rounds: Round[] = [];
    for (let i = 1; i <= settings.rounds; i++) {
      // A fresh connection per round, its first requests sent before the counters are zeroed (the old
      // one's close handled by then), so the round counts the same steady path: annotating the last dump
      // can outlast the balancer's keep-alive timeout (5 s) on a loaded machine, which closes an idle
      // connection under the client.
      client.close();
      client = await SequentialClient.open(fleet.port);
      await client.send(ROUND_LEAD_IN, settings.deadline);
      await zeroCounters(fleet.target);
      await client.send(settings.requestsPerRound, settings.deadline);
      const dump = await dumpCounters(fleet.target);
      const cost = parseAnnotate(await annotate(dump));
      if (!settings.keep) unlinkSync(dump);
      const round = { ...cost, steady: steadyPerRequest(cost, settings.requestsPerRound) };
      rounds.push(round);
      progress(`round ${i} of ${settings.rounds}: ${Math.round(round.steady).toLocaleString('en-US')} instructions per request`);
    }
    return rounds;
  } finally {
    client?.close();
    // valgrind writes its last dump on exit (a few seconds); SIGKILL only if it takes far longer.
    await Promise.all([fleet?.balancer.stop(30_000), ...(fleet?.workers ?? []).map((w) => w.stop(3_000))]);
    if (settings.keep) progress(`kept the dumps in ${scratch.dir} and the perf map ${scratch.pid === undefined ? '(none)' : perfMapOf(scratch.pid)}`);
    else removeScratch(scratch);
  }
}
