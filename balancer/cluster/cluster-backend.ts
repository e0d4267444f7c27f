import type { Logger } from '../logger';
import type { Registration, WorkerRegistry } from '../registry';
import { RegistryUnavailableError, type RegistryBackend } from '../registry-backend/types';
import { CONTROL_TAG, isControlMessage, type ControlCall, type ControlMessage, type ControlResult } from './control-messages';
import type { FeedMessage } from './feed-messages';
import { RegistryView } from './registry-view';

/** How long a serving process waits for the primary's reply before answering 503. */
export const CONTROL_REPLY_TIMEOUT_MS = 5_000;

/** The part of `process` in a serving process this backend uses (the IPC channel to the primary). */
export interface PrimaryLink {
  readonly connected?: boolean;
  send?(message: FeedMessage | ControlMessage): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

interface Pending {
  resolve(result: ControlResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The RegistryBackend of a serving process (PROCESSES > 1): the truth is the primary's MemoryBackend.
 * Writes are calls to the primary over IPC (the control plane has checked the signature here; the
 * primary claims the nonce once for the fleet), and their effect comes back through the registry feed
 * into `registry`, the local view the strategy picks from. The primary answers after the feed, so a
 * write resolves with its effect in force here (the contract's first clause).
 * A reply that does not come within `timeoutMs`, or a channel that is gone, rejects a write with
 * RegistryUnavailableError (the control plane answers 503); a nonce claim answers true then, as the
 * RegistryBackend contract says, since the local replay guard has checked it. After one timeout,
 * calls fail at once until a reply comes back, so a registration (a nonce claim, then the write)
 * waits one timeout, not two.
 */
export class ClusterBackend implements RegistryBackend {
  readonly kind = 'cluster';
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Set when a call timed out, cleared by the next reply: meanwhile calls fail at once, not after another timeout. */
  private unanswered = false;
  private stopFollowing: (() => void) | undefined;
  private readonly onMessage = (message: unknown) => this.settle(message);

  constructor(
    readonly registry: WorkerRegistry,
    private readonly link: PrimaryLink,
    private readonly log: Logger,
    private readonly timeoutMs = CONTROL_REPLY_TIMEOUT_MS,
  ) {}

  /** Subscribes to the feed; resolves once the primary's first snapshot is in the local view. */
  start(): Promise<void> {
    this.link.on('message', this.onMessage);
    const { ready, stop } = new RegistryView(this.registry, this.log).follow(this.link);
    this.stopFollowing = stop;
    return ready;
  }

  async register(registration: Registration): Promise<'created' | 'refreshed'> {
    return (await this.call({ op: 'register', registration })) as 'created' | 'refreshed';
  }

  async deregister(url: string): Promise<boolean> {
    return (await this.call({ op: 'deregister', url })) as boolean;
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.call({ op: 'claimNonce', nonce, ttlMs })) as boolean;
    } catch (err) {
      if (err instanceof RegistryUnavailableError) return true;
      throw err;
    }
  }

  /** Called by the serving process after a passive health outcome worth telling (see OutcomeReporter). */
  reportOutcome(url: string, failed: boolean): void {
    this.post({ tag: CONTROL_TAG, kind: 'outcome', url, failed });
  }

  /** A serving process runs no TTL sweep (the primary expires workers), so this is never asked there. */
  mayExpire(): boolean {
    return true;
  }

  /** A serving process keeps no STATE_DIR (the primary restores it and sends its view), so this is never asked there. */
  restoresFromSnapshot(): boolean {
    return false;
  }

  close(): Promise<void> {
    this.stopFollowing?.();
    this.link.off('message', this.onMessage);
    for (const [id, pending] of this.pending) this.fail(id, pending, 'the serving process is closing');
    return Promise.resolve();
  }

  private call(call: ControlCall): Promise<ControlResult> {
    const id = ++this.nextId;
    return new Promise<ControlResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.unanswered = true;
        this.fail(id, this.pending.get(id), `the primary did not answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      if (!this.post({ tag: CONTROL_TAG, kind: 'call', id, call })) this.fail(id, this.pending.get(id), 'the channel to the primary is closed');
      // Sent all the same: its late reply is how this process learns the primary is back.
      else if (this.unanswered) this.fail(id, this.pending.get(id), 'the primary has not answered since a call timed out');
    });
  }

  /** False when the channel is gone (the primary exited): nothing was sent. */
  private post(message: ControlMessage): boolean {
    if (this.link.send === undefined || this.link.connected === false) return false;
    try {
      this.link.send(message);
      return true;
    } catch {
      return false;
    }
  }

  private settle(message: unknown): void {
    if (!isControlMessage(message) || message.kind !== 'reply') return;
    this.unanswered = false;
    const pending = this.pending.get(message.id);
    if (pending === undefined) return; // timed out already: its 503 has been answered
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error !== undefined || message.result === undefined) pending.reject(new Error(`the primary failed the call: ${message.error ?? 'no result'}`));
    else pending.resolve(message.result);
  }

  private fail(id: number, pending: Pending | undefined, why: string): void {
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(new RegistryUnavailableError(why));
  }
}
