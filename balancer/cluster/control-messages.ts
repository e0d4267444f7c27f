import type { Registration } from '../registry';

/**
 * What a serving process asks of the primary (PROCESSES > 1), over the same IPC channel as the
 * registry feed but under its own tag: the three writes of the RegistryBackend (a call, answered by
 * a reply with its id) and passive health outcomes (no reply). The primary sends each reply after
 * the change it caused has gone out on the feed, so when a serving process reads the reply, its
 * view already holds the effect (one channel keeps the order of sending).
 */
export const CONTROL_TAG = 'lb:control';

export type ControlCall =
  { op: 'register'; registration: Registration } | { op: 'deregister'; url: string } | { op: 'claimNonce'; nonce: string; ttlMs: number };

/** What each call resolves with. */
export type ControlResult = 'created' | 'refreshed' | boolean;

export type ControlMessage =
  /** Serving process to primary: apply this write to the registry's truth. */
  | { tag: typeof CONTROL_TAG; kind: 'call'; id: number; call: ControlCall }
  /** Primary to serving process: the call's result, or why it failed. */
  | { tag: typeof CONTROL_TAG; kind: 'reply'; id: number; result?: ControlResult; error?: string }
  /**
   * Serving process to primary: an exchange with `url` failed, or (`failed: false`) the first one
   * succeeded after failures in that process. Never sent for the other successes.
   */
  | { tag: typeof CONTROL_TAG; kind: 'outcome'; url: string; failed: boolean };

export function isControlMessage(message: unknown): message is ControlMessage {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === CONTROL_TAG;
}
