import type { Readable } from 'node:stream';
import { sameName } from '../http-syntax';

/** What the pool sends to a worker: the proxy's rewritten request. */
export interface OutgoingRequest {
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, ...] list, already free of hop-by-hop headers. */
  readonly headers: string[];
  /** A stream is sent as it arrives; a Buffer is a kept body, sent whole. */
  readonly body: Readable | Buffer | null;
  /** The client's body had no declared length, so it is re-framed as chunked on the way to the worker. */
  readonly chunked: boolean;
  /**
   * Header lines already serialized (`Name: value\r\n` each), written first: the proxy's X-Request-Id,
   * made once per request and written into both heads as one string (request-id.ts).
   */
  readonly headLines?: string;
}

/**
 * The request line and headers as one latin1 string, so the head leaves in a single write. Node's
 * parser hands header values and the URL over as latin1, so writing them back as latin1 reproduces the
 * client's bytes exactly; it has also already refused CR, LF and NUL in them, so nothing can be injected.
 * A request without Host (HTTP/1.0) gets the worker's, as HTTP/1.1 requires one.
 */
export function serializeRequestHead(req: OutgoingRequest, workerHost: string): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n${req.headLines ?? ''}`;
  let hasHost = false;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    // sameName, not toLowerCase: a short name is compared in place, with no new string per request.
    if (name.length === 4 && sameName(name, 'host')) hasHost = true;
    head += `${name}: ${h[i + 1]}\r\n`;
  }
  if (!hasHost) head += `host: ${workerHost}\r\n`;
  if (req.chunked && req.body !== null && !Buffer.isBuffer(req.body)) head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}
