import type { ServerResponse } from 'node:http';

/**
 * Every admin answer is a small JSON document; errors carry `{error, message}` like the gateway's own
 * (balancer/errors.ts), so one client parses both. Admin answers are never cached (RFC 9111 section 5.2.2.5).
 */
export function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function sendError(res: ServerResponse, status: number, error: string, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { error, message }, headers);
}
