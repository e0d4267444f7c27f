import type { Logger } from '../logger';
import type { WorkerRegistry } from '../registry';
import type { RegistryBackend } from '../registry-backend/types';
import { CONTROL_TAG, isControlMessage, type ControlCall, type ControlMessage, type ControlResult } from './control-messages';

/** The part of a cluster.Worker (or a forked ChildProcess) the primary's control side uses. */
export interface ControlChannel {
  readonly connected: boolean;
  send(message: ControlMessage): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * The primary's side of the serving processes' writes (PROCESSES > 1): applies each call to the
 * registry's backend (its MemoryBackend, so a nonce is claimed once for the fleet) and replies on the
 * caller's channel, after the change has gone out on the feed; feeds passive health outcomes to the
 * registry's outlier detector, whose ejections the feed then carries to every serving process.
 * Attach it to each serving process right after the broadcaster (the feed must be sent first).
 */
export class PrimaryControl {
  constructor(
    private readonly backend: RegistryBackend,
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
  ) {}

  attach(channel: ControlChannel): void {
    channel.on('message', (message) => {
      if (!isControlMessage(message)) return;
      if (message.kind === 'outcome') this.recordOutcome(message.url, message.failed);
      else if (message.kind === 'call') void this.answer(channel, message.id, message.call);
    });
  }

  private recordOutcome(url: string, failed: boolean): void {
    const worker = this.registry.get(url);
    if (worker !== undefined) this.registry.recordExchange(worker, failed);
  }

  private async answer(channel: ControlChannel, id: number, call: ControlCall): Promise<void> {
    let reply: ControlMessage;
    try {
      reply = { tag: CONTROL_TAG, kind: 'reply', id, result: await this.apply(call) };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.log.warn({ op: call.op, err: error }, 'a control call from a serving process failed');
      reply = { tag: CONTROL_TAG, kind: 'reply', id, error };
    }
    // A process that exited meanwhile is replaced; its caller has gone with it.
    if (!channel.connected) return;
    try {
      channel.send(reply);
    } catch {
      // closed between the check and the send: as above
    }
  }

  private apply(call: ControlCall): Promise<ControlResult> {
    switch (call.op) {
      case 'register':
        return this.backend.register(call.registration);
      case 'deregister':
        return this.backend.deregister(call.url);
      case 'claimNonce':
        return this.backend.claimNonce(call.nonce, call.ttlMs);
    }
  }
}
