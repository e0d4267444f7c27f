import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';

export interface ActiveCheckOptions {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** The same address check as the traffic pools' connects (WorkerAddressPolicy.lookup): probes are connections too. */
  lookup?: LookupFunction;
}

/**
 * Probes each worker's health endpoint on an interval and reports each result; the registry counts
 * consecutive results against its thresholds. Probes use their own small keep-alive agent, so a
 * worker's traffic pool being full never makes a probe time out. The next probe is scheduled when the
 * previous one ends, so a frozen worker never piles probes up.
 */
export class ActiveHealthChecker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly agent: Agent;

  /**
   * `answeredSinceLastProbe`, when given, lets a probe be skipped for a worker that completed proxied
   * requests since the previous one: real traffic already proved it alive, so a busy fleet of 1,000
   * workers is not also sent 1,000 probes a second. A frozen worker completes nothing and is probed.
   */
  constructor(
    private readonly opts: ActiveCheckOptions,
    private readonly report: (url: string, healthy: boolean, reason?: string) => void,
    private readonly answeredSinceLastProbe?: (url: string) => boolean,
  ) {
    this.agent = new Agent({
      connections: 1,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: opts.timeoutMs, lookup: opts.lookup },
    });
  }

  watch(url: string): void {
    if (this.timers.has(url)) return;
    this.schedule(url);
  }

  unwatch(url: string): void {
    clearTimeout(this.timers.get(url));
    this.timers.delete(url);
  }

  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.agent.close();
  }

  private schedule(url: string, delayMs = this.opts.intervalMs): void {
    const timer = setTimeout(() => void this.probe(url), delayMs);
    timer.unref();
    this.timers.set(url, timer);
  }

  private async probe(url: string): Promise<void> {
    if (this.answeredSinceLastProbe?.(url)) {
      this.schedule(url);
      return;
    }
    let healthy = false;
    let reason: string | undefined;
    try {
      // A precise deadline for the whole probe: undici's own timeouts run on a coarse clock
      // (about half a second), which would stretch detection of a frozen worker past its budget.
      const res = await request(url + this.opts.path, { dispatcher: this.agent, signal: AbortSignal.timeout(this.opts.timeoutMs) });
      await res.body.dump();
      healthy = res.statusCode >= 200 && res.statusCode < 300;
      if (!healthy) reason = `status ${res.statusCode}`;
    } catch (err) {
      reason = (err as { code?: string }).code ?? (err as Error).name;
    }
    if (!this.timers.has(url)) return; // unwatched while the probe was in flight
    this.report(url, healthy, reason);
    // After a failure the next probe comes sooner (HAProxy's fastinter), so a frozen worker is out
    // within the 5 s the defaults promise even when its first probe was skipped for recent traffic.
    if (this.timers.has(url)) this.schedule(url, healthy ? this.opts.intervalMs : Math.ceil(this.opts.intervalMs / 2));
  }
}
