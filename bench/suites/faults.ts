import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from '../args';
import { childPids } from '../proc-sockets';
import { startOurBalancer, startWorker, waitForRegistered, type BalancerProcess, type Started } from '../fleet';
import { runMetadata, writeJson } from '../json';
import { progress } from '../progress';
import { table } from '../report';

/**
 * What a dying worker, or a restarted or signalled balancer, costs clients: a balancer with three
 * 20 ms workers, 8 clients sending GETs in a loop for a bounded time, and one fault a couple of
 * seconds in. "Slowed" is a request slower than max(3 x the p99 before the fault, 100 ms); "failing
 * for" runs from the fault to the end of the last failed request, after which every request was
 * served. Each fault gets a fresh balancer and workers.
 */
interface Scene {
  /** A fault that replaces the balancer puts the new one here, for the clean-up. */
  balancer: BalancerProcess;
  readonly workers: Started[];
  /** The balancer's STATE_DIR, kept for its successor; 'off' unless the fault asks for one. */
  readonly stateDir: string;
}

interface Fault {
  readonly name: string;
  /** Run the balancer with a STATE_DIR of its own (a temp directory), as its default ./state would be. */
  readonly stateDir?: boolean;
  /** PROCESSES for the balancer (1 unless named). */
  readonly processes?: number;
  /** Applies the fault; a promise it returns is awaited (a restart resolves once the new balancer listens). */
  apply(scene: Scene): unknown;
}

/**
 * As an operator's restart (systemctl restart): SIGTERM, which drains, then a new balancer on the same
 * port, secret and STATE_DIR the moment the old one has exited. With STATE_DIR off it knows no worker
 * until each heartbeats again; with one, it restores them from the snapshot before it listens.
 */
async function restartBalancer(scene: Scene): Promise<void> {
  const old = scene.balancer;
  await old.proc.stop(10_000);
  scene.balancer = await startOurBalancer(`${old.name} restarted`, {
    PORT: new URL(old.url).port,
    REGISTRATION_SECRET: old.secret,
    STATE_DIR: scene.stateDir,
  });
}

const FAULTS: Fault[] = [
  { name: 'SIGKILL one of three', apply: ({ workers: w }) => w[1].proc.child.kill('SIGKILL') },
  { name: 'SIGSTOP one of three', apply: ({ workers: w }) => w[1].proc.child.kill('SIGSTOP') },
  { name: 'SIGTERM one of three (drain)', apply: ({ workers: w }) => w[1].proc.child.kill('SIGTERM') },
  { name: 'all three SIGKILLed', apply: ({ workers: w }) => w.forEach((x) => x.proc.child.kill('SIGKILL')) },
  { name: 'balancer restarted, STATE_DIR off', apply: restartBalancer },
  { name: 'balancer restarted, with STATE_DIR', stateDir: true, apply: restartBalancer },
  { name: 'SIGHUP under load', apply: ({ balancer }) => balancer.proc.child.kill('SIGHUP') },
  { name: 'PROCESSES=2: SIGHUP under load', processes: 2, apply: ({ balancer }) => balancer.proc.child.kill('SIGHUP') },
  { name: 'PROCESSES=2: a serving process SIGKILLed', processes: 2, apply: ({ balancer }) => process.kill(childPids(balancer.proc.pid)[0], 'SIGKILL') },
];

const CLIENTS = 8;
const WORKER_DELAY_MS = 20;
const FAULT_AFTER_MS = 2_000;
const MAX_REQUESTS = 50_000;

export interface FaultRow {
  fault: string;
  afterFault: number;
  failed: number;
  /** From the fault to the end of the last failed request (ms); 0 when none failed. */
  failingForMs: number;
  slowed: number;
  baselineP99Ms: number;
  worstMs: number;
  statuses: Record<string, number>;
}

interface Outcome {
  at: number;
  ms: number;
  status: number;
}

/** Bounded by count and time: stops at `deadline` or after MAX_REQUESTS, whichever comes first. */
async function clientLoop(url: string, deadline: number, outcomes: Outcome[]): Promise<void> {
  while (Date.now() < deadline && outcomes.length < MAX_REQUESTS) {
    const at = Date.now();
    let status = 0;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // status 0: the request itself failed
    }
    outcomes.push({ at, ms: Date.now() - at, status });
  }
}

async function measureFault(fault: Fault, durationMs: number): Promise<FaultRow> {
  const stateDir = fault.stateDir === true ? mkdtempSync(join(tmpdir(), 'lb-faults-state-')) : 'off';
  const balancer = await startOurBalancer(`balancer (${fault.name})`, { STATE_DIR: stateDir, PROCESSES: String(fault.processes ?? 1) });
  const workers: Started[] = [];
  for (const name of ['a', 'b', 'c']) workers.push(await startWorker(name, WORKER_DELAY_MS, balancer));
  await waitForRegistered(
    balancer,
    workers.map((w) => w.url),
  );
  progress(`faults: ${fault.name}: ${CLIENTS} clients for ${durationMs / 1000} s, fault at ${FAULT_AFTER_MS / 1000} s`);
  const outcomes: Outcome[] = [];
  const load = Promise.all(Array.from({ length: CLIENTS }, () => clientLoop(`${balancer.url}/`, Date.now() + durationMs, outcomes)));
  await new Promise((r) => setTimeout(r, FAULT_AFTER_MS));
  const faultAt = Date.now();
  const scene: Scene = { balancer, workers, stateDir };
  await fault.apply(scene);
  await load;
  for (const w of workers) w.proc.child.kill('SIGCONT');
  await Promise.all([...workers.map((w) => w.proc.stop(500)), scene.balancer.proc.stop()]);
  if (stateDir !== 'off') rmSync(stateDir, { recursive: true, force: true });

  const before = outcomes
    .filter((o) => o.at < faultAt)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const baselineP99Ms = before[Math.min(before.length - 1, Math.floor(before.length * 0.99))] ?? 0;
  const after = outcomes.filter((o) => o.at >= faultAt || o.at + o.ms >= faultAt);
  const slowMs = Math.max(3 * baselineP99Ms, 100);
  const statuses: Record<string, number> = {};
  for (const o of after) statuses[o.status || 'error'] = (statuses[o.status || 'error'] ?? 0) + 1;
  const failed = after.filter((o) => o.status !== 200);
  return {
    fault: fault.name,
    afterFault: after.length,
    failed: failed.length,
    failingForMs: Math.max(0, ...failed.map((o) => o.at + o.ms - faultAt)),
    slowed: after.filter((o) => o.status === 200 && o.ms > slowMs).length,
    baselineP99Ms,
    worstMs: Math.max(0, ...after.map((o) => o.ms)),
    statuses,
  };
}

export async function runFaultsSuite(opts: BenchOptions): Promise<FaultRow[]> {
  const durationMs = (opts.durationS ?? 10) * 1000;
  const rows: FaultRow[] = [];
  // --only names a part of each fault to run, e.g. --only PROCESSES=2.
  const chosen = opts.only === undefined ? FAULTS : FAULTS.filter((f) => opts.only!.some((part) => f.name.includes(part)));
  for (const fault of chosen) rows.push(await measureFault(fault, durationMs));
  const body = rows.map((r) => [
    r.fault,
    r.afterFault,
    r.failed,
    `${r.failingForMs} ms`,
    r.slowed,
    `${r.baselineP99Ms} ms`,
    `${r.worstMs} ms`,
    Object.entries(r.statuses)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', '),
  ]);
  process.stdout.write(
    `\nFaults: one balancer (one process unless the fault names PROCESSES), three ${WORKER_DELAY_MS} ms workers (default heartbeat), ${CLIENTS} clients looping GETs, the fault at ${FAULT_AFTER_MS / 1000} s; default health, retry and outlier settings.\n\n` +
      `${table(['fault', 'requests during/after', 'failed', 'failing for', 'slowed', 'p99 before', 'worst after', 'statuses after'], body)}\n` +
      `slowed = answered 200 but slower than max(3 x the p99 before the fault, 100 ms); failing for = from the fault to the end of the last failed request.\n`,
  );
  if (opts.json) process.stdout.write(`\nJSON: ${writeJson(opts.json, { suite: 'faults', meta: runMetadata(), rows })}\n`);
  return rows;
}
