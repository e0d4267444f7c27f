import { isIPv4 } from 'node:net';
import type { BenchOptions } from '../args';
import { runAutocannon } from '../load';
import { progress } from '../progress';
import { fmtMs, fmtRps, fmtShares, table } from '../report';

const DEFAULT_DURATION_S = 60;
const DEFAULT_CONNECTIONS = 16;

/** True for a URL this tool may send load to: http(s) on a loopback address of this machine. */
export function isLoopbackTarget(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'));
}

/**
 * `--target <url>`: bounded load against a balancer that is already running, so a newcomer watches it
 * move on the dashboard (npm start prints the command). Measures nothing to compare; it reports what it
 * sent and which workers answered. Loopback only: this is a demo tool, not a load tester for other hosts.
 */
export async function runTargetSuite(opts: BenchOptions): Promise<void> {
  const target = opts.target ?? '';
  if (!isLoopbackTarget(target)) throw new Error(`--target must be an http URL on this machine (127.0.0.1, ::1 or localhost), got ${target}`);
  const durationS = opts.durationS ?? DEFAULT_DURATION_S;
  const connections = opts.connections ?? DEFAULT_CONNECTIONS;
  progress(`sending load to ${target}: ${connections} connections for ${durationS} s`);
  const result = await runAutocannon(target, { connections, durationS, countShares: true });
  console.log(
    table(
      ['target', 'requests', 'req/s', 'p50', 'p99', 'errors', 'answered by'],
      [[target, result.requests, fmtRps(result.rps), fmtMs(result.p50Ms), fmtMs(result.p99Ms), result.errors, fmtShares(result.shares)]],
    ),
  );
}
