import type { Logger } from '../logger';

/** One operator change, as its audit line records it: who (the peer address), what, and the state either side. */
export interface AuditEntry {
  readonly who: string;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * Writes the one audit line of a change, at info so the default log level keeps it. Called by a changing
 * route after it acted; the entry holds no header and no body, so the token can never reach the log.
 */
export function auditChange(log: Logger, entry: AuditEntry): void {
  log.info({ audit: true, ...entry }, 'admin change');
}

/** The peer address of a request: the audit line's "who" (the admin listener trusts no forwarding header). */
export const peerOf = (req: { socket: { remoteAddress?: string } }): string => req.socket.remoteAddress ?? 'unknown';
