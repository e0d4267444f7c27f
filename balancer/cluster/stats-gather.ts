import type { Logger } from '../logger';
import type { WorkerRecord, WorkerRegistry } from '../registry';
import { GatewayStats } from '../stats/gateway-stats';
import { STATS_TAG, isStatsMessage, type ServingReading, type StatsMessage } from './stats-messages';
import { addGateway, addPacked, dropGauges, packGateway, requestsOfPacked, WORKER_COUNTERS, writeSum } from './worker-counters';

/** The part of a cluster.Worker the gatherer uses (a forked ChildProcess is one too). */
export interface GatherChannel {
  readonly connected: boolean;
  send(message: StatsMessage): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

interface Member {
  /** The `process` label of its process metrics, e.g. "serving-1". */
  readonly name: string;
  readonly channel: GatherChannel;
  /** Its last answer; stands in for it when it does not answer in time, so no sum ever falls. */
  last: ServingReading | undefined;
  /** The gathers waiting for its answer, by request id. */
  readonly waiting: Map<number, (reading: ServingReading) => void>;
}

/** One gather: the process metrics of every process that answered, and who did not. */
export interface GatherResult {
  readonly answered: readonly Member[];
  readonly unanswered: readonly string[];
}

/**
 * The primary's side of the whole-balancer /metrics and /status (PROCESSES > 1). The serving processes
 * count (WorkerStats, GatewayStats); the primary asks each for its counters, waits at most `timeoutMs`,
 * and writes the sums into its own registry's records (stats.gathered for the gauges) and into
 * `gateway`, which /metrics and /status then read as they read a single process.
 *
 * Pull, not push: a scrape counts every request up to the moment it asked, and a process that does not
 * answer is seen (and counted) rather than silently stale; /status's windows gather once a second
 * (start()), the primary pacing it. A process that does not answer in time is left out of this gather,
 * its last answer standing in; a process that is gone leaves its last counters (not its gauges) in the
 * sums, so counters never fall when a serving process is replaced. Requests it served after its last
 * answer are not counted.
 */
export class FleetStatsGatherer {
  /** Summed at each gather: the primary's own counters plus every serving process's, gone ones included. */
  readonly gateway = new GatewayStats();
  clientConnectionsOpen = 0;
  /** Gathers a serving process did not answer in time, since start. */
  unansweredTotal = 0;
  private readonly members = new Map<GatherChannel, Member>();
  private readonly departedWorkers = new Map<string, Float64Array>();
  private readonly departedGateway = new GatewayStats();
  /** What each record's serving processes had relayed at the last gather (noteAnswered). */
  private readonly relayed = new WeakMap<WorkerRecord, number>();
  private nextId = 0;
  private running: Promise<GatherResult> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: WorkerRegistry,
    /** The primary's own GatewayStats (registrations it took, expirations it ran). */
    private readonly own: GatewayStats,
    private readonly log: Logger,
    private readonly timeoutMs = 500,
  ) {}

  /** Called by the primary for each serving process, right after it is forked. */
  attach(channel: GatherChannel, name: string): void {
    const member: Member = { name, channel, last: undefined, waiting: new Map() };
    this.members.set(channel, member);
    channel.on('message', (message) => {
      if (isStatsMessage(message) && message.kind === 'reply') member.waiting.get(message.id)?.(message.reading);
    });
    channel.on('disconnect', () => this.depart(member));
  }

  get processes(): number {
    return this.members.size;
  }

  /** Asks every serving process; resolves within timeoutMs. Concurrent callers share one gather. */
  gather(withProcess = false): Promise<GatherResult> {
    if (this.running !== undefined && !withProcess) return this.running;
    const run = this.ask(withProcess).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** /status's windows: one gather a second, while the admin listener runs. Never keeps the process alive. */
  start(intervalMs = 1000): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.gather(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async ask(withProcess: boolean): Promise<GatherResult> {
    const id = ++this.nextId;
    const members = [...this.members.values()].filter((m) => m.channel.connected);
    const answers = await Promise.all(members.map((m) => this.askOne(m, id, withProcess)));
    const unanswered = members.filter((_, i) => !answers[i]).map((m) => m.name);
    this.unansweredTotal += unanswered.length;
    if (unanswered.length > 0) this.log.warn({ unanswered, timeoutMs: this.timeoutMs }, 'serving processes did not answer for their counters in time');
    this.sum();
    return { answered: members.filter((_, i) => answers[i]), unanswered };
  }

  private askOne(member: Member, id: number, withProcess: boolean): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), this.timeoutMs);
      const finish = (answered: boolean) => {
        clearTimeout(timer);
        member.waiting.delete(id);
        resolve(answered);
      };
      member.waiting.set(id, (reading) => {
        member.last = reading;
        finish(true);
      });
      try {
        member.channel.send({ tag: STATS_TAG, kind: 'request', id, withProcess });
      } catch {
        finish(false); // closed since: its disconnect folds its last answer in
      }
    });
  }

  /** Writes departed + every member's last answer into the registry's records and `gateway`. O(processes x workers). */
  private sum(): void {
    const sums = new Map<string, Float64Array>();
    for (const url of this.registry.urls()) sums.set(url, Float64Array.from(this.departedWorkers.get(url) ?? new Float64Array(WORKER_COUNTERS)));
    for (const url of this.departedWorkers.keys()) if (!sums.has(url)) this.departedWorkers.delete(url); // the worker left
    resetGateway(this.gateway);
    addGateway(this.gateway, packGateway(this.own), true);
    addGateway(this.gateway, packGateway(this.departedGateway), false);
    this.clientConnectionsOpen = 0;
    for (const m of this.members.values()) {
      if (m.last === undefined) continue;
      for (const w of m.last.workers) {
        const sum = sums.get(w.url);
        if (sum !== undefined) addPacked(sum, w.counters);
      }
      addGateway(this.gateway, m.last.gateway, true);
      this.clientConnectionsOpen += m.last.clientConnectionsOpen;
    }
    for (const [url, sum] of sums) {
      const record = this.registry.get(url);
      if (record === undefined) continue;
      writeSum(record.stats, sum);
      this.noteAnswered(record, requestsOfPacked(sum));
    }
  }

  /**
   * The active checker skips a worker that answered proxied requests since its last probe
   * (registry.answeredSinceLastProbe, HEALTH_CHECK_SKIP_BUSY). In the primary nothing is proxied, so
   * `answered` grows here, by what the serving processes relayed since the last gather; it only ever
   * grows, as the checker's comparison needs.
   */
  private noteAnswered(record: WorkerRecord, relayed: number): void {
    const before = this.relayed.get(record) ?? 0;
    if (relayed > before) record.answered += relayed - before;
    this.relayed.set(record, relayed);
  }

  /** A serving process is gone: its last counters stay in the sums (without its gauges), and it is asked no more. */
  private depart(member: Member): void {
    if (!this.members.delete(member.channel)) return;
    const last = member.last;
    if (last === undefined) return;
    for (const w of last.workers) {
      let sum = this.departedWorkers.get(w.url);
      if (sum === undefined) this.departedWorkers.set(w.url, (sum = new Float64Array(WORKER_COUNTERS)));
      addPacked(sum, w.counters);
      dropGauges(sum);
    }
    addGateway(this.departedGateway, last.gateway, false);
  }
}

function resetGateway(g: GatewayStats): void {
  for (const k of Object.keys(g.answers) as (keyof typeof g.answers)[]) g.answers[k] = 0;
  for (const k of Object.keys(g.registrations) as (keyof typeof g.registrations)[]) g.registrations[k] = 0;
  for (const k of Object.keys(g.deregistrations) as (keyof typeof g.deregistrations)[]) g.deregistrations[k] = 0;
  g.expirations = 0;
  g.connectionsRefused = 0;
  g.websocketsOpen = 0;
  g.websocketsOpened = 0;
}
