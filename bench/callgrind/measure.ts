import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../processes';
import { progress } from '../progress';
import { annotate, parseAnnotate, steadyPerRequest, type DumpCost } from './annotate';
import { SequentialClient } from './client';
import { childPids, connectionOwners } from '../proc-sockets';
import { dumpCounters, zeroCounters } from './control';
import { startCallgrindFleet, type CallgrindFleet } from './fleet';

export interface Round extends DumpCost {
  /** Instructions per request, compile and GC taken out. */
  readonly steady: number;
  /** PROCESSES > 1: the serving process that held the round's connection (the one counted above). */
  readonly servingPid?: number;
  /** PROCESSES > 1: the primary's counts over the same round, and its steady instructions per request. */
  readonly primary?: DumpCost & { readonly steady: number };
  /** Wall time from the zeroing to the dump: work done on a timer (the primary's gather) grows with it, not with requests. */
  readonly seconds: number;
}

export interface MeasureSettings {
  readonly dist: string;
  /** PROCESSES of the measured balancer. */
  readonly processes: number;
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
  /** The balancer's pids (the primary's first): V8 writes /tmp/perf-<pid>.map, valgrind its vgdb FIFOs (left behind on SIGKILL). */
  pids: number[];
}

export const perfMapOf = (pid: number) => `/tmp/perf-${pid}.map`;

export function removeScratch(scratch: Scratch): void {
  if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true });
  for (const pid of scratch.pids) {
    rmSync(perfMapOf(pid), { force: true });
    const fifo = `-${pid}-by-`;
    for (const name of readdirSync('/tmp')) if (name.startsWith('vgdb-pipe-') && name.includes(fifo)) rmSync(join('/tmp', name), { force: true });
  }
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
    fleet = await startCallgrindFleet(settings.dist, settings.processes, scratch.dir, (pid) => scratch.pids.push(pid));
    if (settings.processes > 1) scratch.pids.push(...childPids(fleet.target.pid));
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
      const primary = settings.processes > 1 ? fleet.target : undefined;
      const serving = primary ? fleet.targetOf(servingPidOf(fleet.port, primary.pid, client)) : fleet.target;
      const zeroed = Date.now();
      await zeroCounters(serving);
      if (primary) await zeroCounters(primary);
      await client.send(settings.requestsPerRound, settings.deadline);
      // Both dumped before either is annotated (which takes seconds), so both count the same interval.
      const servingDump = await dumpCounters(serving);
      const primaryDump = primary ? await dumpCounters(primary) : undefined;
      const seconds = (Date.now() - zeroed) / 1000;
      const cost = await readDump(servingDump, settings.keep);
      const primaryCost = primaryDump === undefined ? undefined : await readDump(primaryDump, settings.keep);
      const steady = (c: DumpCost) => steadyPerRequest(c, settings.requestsPerRound);
      const round: Round = {
        ...cost,
        steady: steady(cost),
        seconds,
        ...(primary && primaryCost ? { servingPid: serving.pid, primary: { ...primaryCost, steady: steady(primaryCost) } } : {}),
      };
      rounds.push(round);
      const where = round.primary ? ` in serving process ${round.servingPid} (primary: ${Math.round(round.primary.steady).toLocaleString('en-US')})` : '';
      progress(`round ${i} of ${settings.rounds}: ${Math.round(round.steady).toLocaleString('en-US')} instructions per request${where}`);
    }
    return rounds;
  } finally {
    client?.close();
    // valgrind writes its last dump on exit (a few seconds); SIGKILL only if it takes far longer.
    await Promise.all([fleet?.balancer.stop(30_000), ...(fleet?.workers ?? []).map((w) => w.stop(3_000))]);
    if (settings.keep) progress(`kept the dumps in ${scratch.dir} and the perf maps ${scratch.pids.map(perfMapOf).join(' ') || '(none)'}`);
    else removeScratch(scratch);
  }
}

async function readDump(dump: string, keep: boolean): Promise<DumpCost> {
  const cost = parseAnnotate(await annotate(dump));
  if (!keep) unlinkSync(dump);
  return cost;
}

/**
 * The serving process that holds the client's connection: the primary handed it (SCHED_RR) to one of
 * its children, and the socket is in that child's descriptor table (read from /proc). Called after the
 * round's lead-in requests, so the connection has been accepted and served by then.
 */
function servingPidOf(port: number, primaryPid: number, client: SequentialClient): number {
  const owner = connectionOwners(port, childPids(primaryPid)).get(client.localPort);
  if (owner === undefined) throw new Error(`no serving process of ${primaryPid} holds the client connection from port ${client.localPort}`);
  return owner;
}
