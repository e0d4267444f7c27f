import { readFileSync } from 'node:fs';

/** Assumed when the limit cannot be read (not Linux): the common soft default, so the cap errs low. */
export const FALLBACK_DESCRIPTOR_LIMIT = 1024;

/**
 * The process's soft RLIMIT_NOFILE, from /proc/self/limits on Linux (Node raises the soft limit to
 * the hard one at start, and this reads what it got); `unlimited` counts as no practical cap.
 * Undefined when the file is missing or unreadable.
 */
export function softDescriptorLimit(limitsText: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = limitsText();
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (match === null) return undefined;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/**
 * The default client-connection cap for a descriptor limit. A tenth of the descriptors (at least 64)
 * stays in reserve for what is not a client connection: the listening socket, worker registrations
 * and heartbeats, health probes, logs. Of the rest, each client connection may hold one worker
 * connection too (a proxied request in flight keeps one upstream socket, and the pools keep at most
 * as many idle as were once busy), so clients get half.
 */
export function defaultClientCap(descriptorLimit: number): number {
  const reserve = Math.max(64, Math.floor(descriptorLimit / 10));
  return Math.max(1, Math.floor((descriptorLimit - reserve) / 2));
}
