import type { BalancerProcess, Started } from '../fleet';

/** What every peer is started with: the same two workers, and a private temp dir for config files. */
export interface PeerContext {
  readonly workers: readonly Started[];
  /** Our balancer, already running with both workers registered (they register themselves at start). */
  readonly balancer: BalancerProcess;
  readonly tmpDir: string;
}

export interface RunningPeer {
  readonly url: string;
  /** The process whose VmRSS is reported: the proxy itself (for "direct", the worker). */
  readonly pid: number;
}

export interface PeerDef {
  /** Short name used by --only and in the JSON. */
  readonly name: string;
  /** One line for the report: what runs and how it is configured. */
  readonly description: string;
  /** An executable the peer needs; when it is not installed the peer is skipped, and the report says so. */
  readonly binary?: string;
  start(ctx: PeerContext): Promise<RunningPeer>;
}
