import { framingEmpty, framingHttp10, framingTwice, invalidHost, invalidTarget, tooManyHeaders, unsupportedTransferCoding, type ProxyError } from '../errors';
import { sameName, trimOws } from '../http-syntax';

/**
 * What buildUpstreamRequest's one pass over the client's headers saw of how the request is framed
 * and addressed: all checkRequest needs, so the check costs no second pass.
 */
export interface RequestFacts {
  /** Header field lines the client sent (node's list is cut at MAX_REQUEST_HEADERS + 1, never shorter). */
  readonly headerCount: number;
  readonly hostCount: number;
  readonly contentLengthCount: number;
  readonly transferEncodingCount: number;
  /** The first Transfer-Encoding line's value ('' when there is none). */
  readonly transferEncoding: string;
  /** 0 for HTTP/1.0; undefined for the listener's requests, which are all HTTP/1.1. */
  readonly httpVersionMinor: number | undefined;
  /** The target is absolute-form, but not one an upstream Host can be taken from (see request-target.ts). */
  readonly invalidTarget: boolean;
}

export type RequestCheck = (facts: RequestFacts) => ProxyError | undefined;

/**
 * The pipeline step that refuses what must not reach a worker, before one is chosen. Built once
 * with the header cap; returns the refusal as a value, or undefined for a request that may go on.
 *
 * Framing (RFC 9112 section 6): what goes upstream has exactly one framing, the one node's parser
 * read. node's llhttp already refuses Transfer-Encoding beside Content-Length, except when the
 * Transfer-Encoding is empty: it then frames by Content-Length while the header's name is still
 * there, the smuggling gadget. So, as nginx: any Transfer-Encoding other than exactly one `chunked`
 * line is refused, 400 when the framing is ambiguous (with Content-Length, repeated, empty, or in
 * HTTP/1.0) and 501 for a coding the balancer does not implement (`gzip, chunked`: the worker would
 * be sent the body still gzip-coded under a plain chunked framing).
 */
export function createRequestCheck(maxHeaders: number): RequestCheck {
  const tooMany = tooManyHeaders(maxHeaders);
  return function checkRequest(facts) {
    if (facts.headerCount > maxHeaders) return tooMany;
    if (facts.invalidTarget) return invalidTarget;
    // RFC 9112 section 3.2: none in HTTP/1.1, or more than one, is a 400.
    if (facts.hostCount > 1 || (facts.hostCount === 0 && facts.httpVersionMinor !== 0)) return invalidHost;
    if (facts.transferEncodingCount === 0) return facts.contentLengthCount > 1 ? framingTwice : undefined;
    return transferEncodingProblem(facts);
  };
}

/** Everything but one `Transfer-Encoding: chunked` in HTTP/1.1 without Content-Length is refused. */
function transferEncodingProblem(facts: RequestFacts): ProxyError | undefined {
  if (facts.httpVersionMinor === 0) return framingHttp10;
  if (facts.transferEncodingCount > 1 || facts.contentLengthCount > 0) return framingTwice;
  const coding = trimOws(facts.transferEncoding);
  if (coding === '') return framingEmpty;
  return sameName(coding, 'chunked') ? undefined : unsupportedTransferCoding;
}

/** MAX_REQUEST_HEADERS' default: Apache's LimitRequestFields, and HAProxy's tune.http.maxhdr of 101 counting the request line. */
export const DEFAULT_MAX_REQUEST_HEADERS = 100;
