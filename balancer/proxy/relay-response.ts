import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Rescuable } from '../registry';
import { stripResponseHeaders } from './headers';

/** Raised into undici when the client goes away, so the worker's request is aborted too. */
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
 * Streams the worker's response to the client as undici delivers it: status and end-to-end headers,
 * then the body chunk by chunk with backpressure (the worker's socket pauses while the client's buffer is full).
 * It also ties the client's lifetime to the upstream request: a client that disconnects aborts it.
 */
export class ResponseRelay implements Dispatcher.DispatchHandler, Rescuable {
  private controller: Dispatcher.DispatchController | undefined;
  private started = false;
  private finished = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly callbacks: RelayCallbacks,
  ) {
    res.once('close', this.onClientClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.res.destroyed) controller.abort(new ClientGoneError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.started = true;
    this.callbacks.onResponseStart(statusCode);
    this.res.writeHead(statusCode, stripResponseHeaders(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.finish(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish(err);
  }

  /** Called by the registry when the worker is found dead: gives up on it unless the answer has begun. */
  abortIfWaiting(reason: Error): void {
    if (!this.started && !this.finished) this.controller?.abort(reason);
  }

  private finish(err: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.res.off('close', this.onClientClose);
    this.callbacks.onEnd(err, this.started);
  }

  private readonly onClientClose = (): void => {
    if (!this.finished) this.controller?.abort(new ClientGoneError());
  };
}
