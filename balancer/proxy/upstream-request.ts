import type { Readable } from 'node:stream';
import type { RequestFacts } from './check-request';
import type { ProxyRequest } from './client-types';
import { knownName } from '../header-names';
import { connectionTokens, dropNamed, HOP_BY_HOP } from '../hop-by-hop';
import type { TrustPolicy } from './forwarding';
import { isOriginOrAsterisk, parseAbsoluteTarget } from './request-target';
import { processRequestIds, type RequestIds } from './request-id';
import type { OutgoingRequest } from '../upstream/request-head';

/**
 * What the forward step sends: everything the worker's pool needs, plus what the retry step reads,
 * and the facts the check step (check-request.ts) decides on.
 */
export interface UpstreamRequest extends OutgoingRequest, RequestFacts {
  readonly method: string;
  /** The client's target; an absolute-form one in origin-form (its authority is then the Host). */
  readonly path: string;
  /** Flat [name, value, name, value, ...] list: the balancer's own headers first, then the client's in its order and case. */
  readonly headers: string[];
  /**
   * The client's request stream when it carries a body, so the body is streamed, never buffered;
   * a Buffer when the proxy kept a small body to be able to replay it on a retry.
   */
  readonly body: Readable | Buffer | null;
  /** The request already passed through this balancer (its Via carries our token): forwarding it would loop. */
  readonly looped: boolean;
  /** Content-Length when the body's size is declared (not chunked), for the retry step's replay limit. */
  readonly declaredLength: number | undefined;
  /** The client sent an Idempotency-Key, which makes even a POST safe to retry. */
  readonly idempotencyKey: boolean;
  /** The X-Request-Id sent to the worker: the client's own when acceptable, else a new one (request-id.ts). */
  readonly requestId: string;
  /** `X-Request-Id: <requestId>\r\n`, the first header line of the worker's request and the client's response. */
  readonly headLines: string;
}

const FORWARDED_HEADERS: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded']);

/**
 * Builds the request to the worker from the client's: copies end-to-end headers in their original case,
 * drops hop-by-hop ones, and sets X-Forwarded-For/-Host/-Proto (appending to a trusted proxy's values).
 * The Host header passes through unchanged, as nginx's `proxy_set_header Host $host` and Traefik do,
 * so workers that route by virtual host keep working; with an absolute-form target the Host sent is
 * the target's authority instead, and the path its origin-form (RFC 9112 section 3.2.2).
 * With `via` (this balancer's token, e.g. "1.1 lb-3f2a9c1d"), appends it to Via as RFC 9110 section
 * 7.6.3 asks of proxies, and flags a request that already carries it: a worker registered at the
 * balancer's own address would otherwise bounce each request back to it forever.
 * Records, in the same pass, the facts the check step refuses a request on (header and Host counts,
 * framing headers); the caller runs that check before the request goes anywhere.
 * Sets X-Request-Id: the client's when it sent exactly one that `ids` accepts, else a new one from
 * `ids` (two are ambiguous, so neither is trusted).
 */
export function buildUpstreamRequest(
  req: ProxyRequest,
  clientIp: string,
  trust: TrustPolicy,
  via?: string,
  ids: RequestIds = processRequestIds,
): UpstreamRequest {
  const raw = req.rawHeaders;
  // The balancer's own headers lead the list, as nginx's proxy_set_header ones do: a worker that keeps
  // only the first N header lines (node keeps 1,000) still gets them, whatever the client sent after.
  // Their values are filled in after the loop; one that is not sent is cut out there.
  // X-Request-Id goes ahead of them all, already serialized (headLines).
  const headers: string[] = ['x-forwarded-for', '', 'x-forwarded-proto', '', 'x-forwarded-host', '', 'via', ''];
  const trusted = trust.trusts(clientIp);
  let path = req.url ?? '/';
  let authority: string | undefined;
  let invalidTarget = false;
  if (!isOriginOrAsterisk(path)) {
    const target = parseAbsoluteTarget(path);
    if (target === undefined) invalidTarget = true;
    else ({ authority, path } = target);
  }
  let forwardedFor: string | undefined;
  let forwardedHost: string | undefined;
  let forwardedProto: string | undefined;
  let host: string | undefined;
  let hostCount = 0;
  let contentLengthCount = 0;
  let transferEncodingCount = 0;
  let transferEncoding = '';
  let connection: string | undefined;
  let receivedVia: string | undefined;
  let hasBody = false;
  let declaredLength: number | undefined;
  let idempotencyKey = false;
  let givenId: string | undefined;
  let givenIds = 0;

  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const lower = knownName(name);
    if (lower === '') {
      headers.push(name, value);
      continue;
    }
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
      else if (lower === 'transfer-encoding' && transferEncodingCount++ === 0) transferEncoding = value;
      continue;
    }
    if (FORWARDED_HEADERS.has(lower)) {
      if (!trusted) continue;
      if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
      else if (lower === 'x-forwarded-host') forwardedHost ??= value;
      else if (lower === 'x-forwarded-proto') forwardedProto ??= value;
      else headers.push(name, value);
      continue;
    }
    if (lower === 'via') {
      receivedVia = receivedVia === undefined ? value : `${receivedVia}, ${value}`;
      continue;
    }
    if (lower === 'x-request-id') {
      givenIds++;
      givenId = value;
      continue;
    }
    // Everything later steps need from the headers is read here, so nothing touches req.headers
    // (which Node builds lazily, as a second pass over the same raw list).
    if (lower === 'host') {
      hostCount++;
      host = value;
      // An absolute-form target's authority replaces the client's Host (RFC 9112 section 3.2.2).
      if (authority !== undefined) continue;
    } else if (lower === 'content-length') {
      contentLengthCount++;
      declaredLength = Number(value);
      if (value !== '0') hasBody = true;
    } else if (lower === 'idempotency-key') idempotencyKey = true;
    headers.push(name, value);
  }

  // node's parser frames by Transfer-Encoding whenever one is non-empty; the check step refuses
  // every such request but `chunked` alone, so this is the framing node read.
  const chunked = transferEncodingCount > 0;
  if (chunked) hasBody = true;
  headers[1] = forwardedFor ? `${forwardedFor}, ${clientIp}` : clientIp;
  headers[3] = forwardedProto ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  const requestId = ids.choose(givenIds === 1 ? givenId : undefined);
  let looped = false;
  // Entries of the balancer's own headers at the front; one not sent (no Via token, no Host) is cut out.
  let ownHeaders = 8;
  if (via !== undefined) {
    looped = receivedVia !== undefined && receivedVia.includes(via);
    headers[7] = receivedVia === undefined ? via : `${receivedVia}, ${via}`;
  } else if (receivedVia !== undefined) headers[7] = receivedVia;
  else {
    headers.splice(6, 2);
    ownHeaders -= 2;
  }
  const xfHost = forwardedHost ?? authority ?? host;
  if (xfHost !== undefined) headers[5] = xfHost;
  else {
    headers.splice(4, 2);
    ownHeaders -= 2;
  }
  if (authority !== undefined) {
    headers.splice(ownHeaders, 0, 'Host', authority);
    ownHeaders += 2;
  }
  // Headers the client's Connection names are dropped; ours, ahead of the client's, are never among them.
  const upstreamHeaders = connection === undefined ? headers : dropNamed(headers, connectionTokens(connection), ownHeaders);

  return {
    method: req.method ?? 'GET',
    path,
    headers: upstreamHeaders,
    body: hasBody ? req.bodyStream : null,
    chunked,
    looped,
    declaredLength: chunked ? undefined : declaredLength,
    idempotencyKey,
    requestId,
    headLines: ids.line(requestId),
    headerCount: raw.length >> 1,
    hostCount,
    contentLengthCount,
    transferEncodingCount,
    transferEncoding,
    httpVersionMinor: req.httpVersionMinor,
    invalidTarget,
  };
}
