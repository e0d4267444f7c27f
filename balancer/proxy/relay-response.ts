import type { ProxyResponse } from './client-types';
import type { ExchangeHandler } from '../upstream/connection';
import { withoutRequestId, withRequestId } from './request-id';
import type { UpstreamRequest } from './upstream-request';

/** Raised into the pool when the client goes away, so the worker's request is aborted too. */
export class ClientGoneError extends Error {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('client closed the connection');
  }
}

export interface RelayCallbacks {
  /** Once, when the worker's response headers arrive: from here on a failure can no longer be retried. */
  onResponseStart(statusCode: number): void;
  /** Once, when the exchange ends: `err` is undefined on success. */
  onEnd(err: Error | undefined, responseStarted: boolean): void;
}

/**
 * Streams the worker's response to the client as the pool delivers it: status and end-to-end headers,
 * then the body chunk by chunk with backpressure (the worker's socket pauses while the client's buffer
 * is full). It also ties the client's lifetime to the upstream request: a client that disconnects
 * aborts it. It counts the body bytes each way, for the access log.
 */
export class ResponseRelay implements ExchangeHandler {
  /** Request body bytes written to the worker (the pool reports them). */
  requestBodyBytes = 0;
  /** Response body bytes handed to the client's response. */
  responseBodyBytes = 0;
  private abort: ((err: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private started = false;
  private finished = false;

  constructor(
    private readonly res: ProxyResponse,
    private readonly callbacks: RelayCallbacks,
    /** Its X-Request-Id goes back in the response headers, whatever the worker set there. */
    private readonly request: Pick<UpstreamRequest, 'requestId' | 'headLines'>,
    /** Safe to call off before the response starts and retry elsewhere (see WorkerPool.rescueWaiting). */
    readonly rescuable = false,
    /** Whether 1xx answers may be sent to this client: never to an HTTP/1.0 one (RFC 9110 section 15.2). */
    private readonly interimAllowed = true,
  ) {
    // Never removed: the listener ignores a close after the end, and removing it would `delete` a key
    // of the response's listener table, turning it into a slow dictionary for Node's own emits.
    res.on('close', this.onClientClose);
  }

  onConnect(abort: (err: Error) => void): void {
    this.abort = abort;
    if (this.res.destroyed) abort(new ClientGoneError());
  }

  onEarlyHints(headers: string[]): void {
    if (!this.interimAllowed || this.started || this.res.headersSent) return;
    const hints: Record<string, string> = {};
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      hints[name] = name in hints ? `${hints[name]}, ${headers[i + 1]}` : headers[i + 1];
    }
    try {
      this.res.writeEarlyHints(hints);
    } catch {
      // Node refuses hints whose Link it cannot validate; they are only hints, the response follows.
    }
  }

  onHeaders(statusCode: number, headers: string[], resume: () => void): boolean {
    this.started = true;
    this.resume = resume;
    this.callbacks.onResponseStart(statusCode);
    const res = this.res;
    if (res.writeHeadWithLines !== undefined) res.writeHeadWithLines(statusCode, withoutRequestId(headers), this.request.headLines);
    else res.writeHead(statusCode, withRequestId(headers, this.request.requestId));
    return true;
  }

  flushHeaders(): void {
    this.res.flushHeaders();
  }

  onBodyWritten(bytes: number): void {
    this.requestBodyBytes += bytes;
  }

  onData(chunk: Buffer): boolean {
    this.responseBodyBytes += chunk.length;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(lastChunk?: string): void {
    // One end(chunk) rather than write + end: Node then writes head, body and end in one go, with no
    // extra uncork tick.
    if (lastChunk === undefined) this.res.end();
    else {
      this.responseBodyBytes += lastChunk.length; // latin1: one character per byte
      this.res.end(lastChunk, 'latin1');
    }
    this.finish(undefined);
  }

  onError(err: Error): void {
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    // The worker's socket may carry another exchange by now: a late 'drain' must not resume it.
    this.resume = undefined;
    this.callbacks.onEnd(err, this.started);
  }

  private readonly onDrain = (): void => this.resume?.();

  private readonly onClientClose = (): void => {
    if (!this.finished) this.abort?.(new ClientGoneError());
  };
}
