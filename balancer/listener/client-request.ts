import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ProxyRequest } from '../proxy/client-types';
import type { RequestHead } from './request-head';

/**
 * A request the listener read itself, as the data plane reads requests: method, URL, raw headers,
 * the socket, and a body stream when the request declares a body.
 */
export class ClientRequest implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly bodyStream: RequestBody | null;
  private headersByName: IncomingHttpHeaders | undefined;

  constructor(
    head: RequestHead,
    readonly socket: Socket,
    /** Asks the connection for more body; null when the request has none. */
    onDemand: (() => void) | null,
  ) {
    this.method = head.method;
    this.url = head.url;
    this.rawHeaders = head.rawHeaders;
    this.bodyStream = onDemand === null ? null : new RequestBody(onDemand);
  }

  /** Built on first use, as node's: lower-case names, repeats joined with ", " (cookies with "; "). */
  get headers(): IncomingHttpHeaders {
    if (this.headersByName !== undefined) return this.headersByName;
    const out: Record<string, string> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      const prev = out[name];
      out[name] = prev === undefined ? raw[i + 1] : `${prev}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]}`;
    }
    this.headersByName = out;
    return out;
  }
}

/** A request's body as the connection feeds it, with backpressure: `onDemand` runs when the reader wants more after the connection paused. */
export class RequestBody extends Readable {
  constructor(private readonly onDemand: () => void) {
    super();
  }

  override _read(): void {
    this.onDemand();
  }
}
