import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * The client's request as the data plane reads it: the listener's own requests, and node's
 * IncomingMessage through fromIncomingMessage.
 */
export interface ProxyRequest {
  readonly method?: string;
  readonly url?: string;
  /** Flat [name, value, ...] list in the client's order and case. */
  readonly rawHeaders: string[];
  /** 0 for an HTTP/1.0 request (node's IncomingMessage); the listener's requests are all HTTP/1.1. */
  readonly httpVersionMinor?: number;
  /** By lower-case name; built on first use (only hashing strategies and logs read it). */
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string; readonly encrypted?: boolean };
  /**
   * Where the body is read from when the headers declare one. The listener's requests without a body
   * have none (null): a stream for every GET would cost more than the rest of the request object.
   */
  readonly bodyStream: Readable | null;
}

/** Node's request as the data plane reads it: it is its own body stream. */
export function fromIncomingMessage(req: IncomingMessage): ProxyRequest {
  return {
    method: req.method,
    url: req.url,
    rawHeaders: req.rawHeaders,
    httpVersionMinor: req.httpVersionMinor,
    // Node builds these on first read; only hashing strategies and some log lines ask.
    get headers() {
      return req.headers;
    },
    socket: req.socket,
    bodyStream: req,
  };
}

/** The response to the client as the data plane writes it: node's ServerResponse or the listener's own. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /**
   * The request's X-Request-Id, set by the proxy pipeline as soon as it has one, so that the
   * listener's own answer outside the pipeline (the 408 for a stalled upload) carries it too.
   */
  requestId?: string;
  writeHead(statusCode: number, headers: OutgoingHttpHeaders | string[]): unknown;
  /**
   * writeHead with `lines` (already serialized header lines) written first: only the listener's own
   * responses have it, so the request's X-Request-Id line is made once for both heads. Undefined on node's.
   */
  writeHeadWithLines?(statusCode: number, headers: string[], lines: string): unknown;
  /** Sends a 103 Early Hints ahead of the response; node's takes only objects with a Link header. */
  writeEarlyHints(hints: Record<string, string | string[]>): void;
  /** Sends the head written by writeHead now, rather than with the first body bytes. */
  flushHeaders(): void;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  /** Relayed bodies come as latin1 text, one character per byte. */
  end(chunk: string, encoding: 'latin1'): unknown;
  destroy(): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}
