/**
 * Why a serving process could not start (PROCESSES > 1), told to the primary on the IPC channel before
 * the process exits, so that the primary's one "balancer failed to start" line names the cause (a busy
 * PORT, say) instead of only "exited before it listened". Kept apart from the other messages by its tag.
 */
export const START_FAILURE_TAG = 'lb:start-failure';

export interface StartFailureMessage {
  readonly tag: typeof START_FAILURE_TAG;
  /** The same words the process would print itself: never a secret (listenProblem() and settings errors). */
  readonly reason: string;
}

/** True for this message; anything else on the channel belongs to someone else. */
export function isStartFailure(message: unknown): message is StartFailureMessage {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === START_FAILURE_TAG;
}

/**
 * Called by the entry point of a serving process whose start failed: sends the reason and resolves once
 * it is sent (or at once, with false, when there is no channel to the primary, so the caller prints it).
 */
export function reportStartFailure(reason: string, channel: Pick<NodeJS.Process, 'send' | 'connected'> = process): Promise<boolean> {
  if (channel.send === undefined || !channel.connected) return Promise.resolve(false);
  const message: StartFailureMessage = { tag: START_FAILURE_TAG, reason };
  return new Promise((resolve) => {
    channel.send?.(message, undefined, undefined, (err) => resolve(err === null || err === undefined));
  });
}
