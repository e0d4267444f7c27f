import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign, signedPayload } from '../../utils/auth';
import { startBalancer, TEST_SECRET, type RunningProcess } from './processes';

/**
 * A balancer fronting one upstream registered by hand, which stays registered whatever the tests do to
 * it: no active probes, no heartbeat expiry, no outlier ejection (a test's deliberate 502 would take it
 * out). The upstream sees only the tests' requests.
 */
export async function startBalancerFronting(url: string, name: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const balancer = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '0', ...env });
  expect((await signedPost(balancer.url, 'register-worker', { url, name })).status).toBe(201);
  return balancer;
}

/** Sends a signed registration (or deregistration) the way a worker would; returns the status and JSON body. */
export async function signedPost(balancerUrl: string, route: 'register-worker' | 'deregister-worker', fields: Record<string, unknown>, secret = TEST_SECRET) {
  const { body, signature } = signedPayload(fields, secret);
  return postRaw(balancerUrl, route, body, signature);
}

export async function postRaw(balancerUrl: string, route: string, body: string, signature?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-signature'] = signature;
  const res = await fetch(`${balancerUrl}/${route}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export { sign };

export interface EchoRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  bytes: number;
  sha256: string;
}

/**
 * An upstream on 127.0.0.1 that records each request it receives and streams the body back, with a
 * JSON summary of what it saw in the `x-echo` response header. `respond` can override the reply.
 */
export async function startEchoServer(): Promise<{ server: Server; url: string; seen: EchoRequest[]; close(): Promise<void> }> {
  const seen: EchoRequest[] = [];
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      const record: EchoRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bytes, sha256: hash.digest('hex') };
      seen.push(record);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-echo': JSON.stringify({ bytes, sha256: record.sha256 }),
        // Hop-by-hop headers the balancer must not relay to its client.
        connection: 'keep-alive, x-upstream-private',
        'x-upstream-private': 'secret',
        'keep-alive': 'timeout=5',
      });
      for (const chunk of chunks) res.write(chunk);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
