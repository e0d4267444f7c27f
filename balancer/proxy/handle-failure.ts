import type { ProxyResponse } from './client-types';
import { errorBody, proxyErrorFor, type ProxyError } from '../errors';
import type { ExchangeErrorReason } from '../exchange-errors';
import { REQUEST_ID_HEADER } from './request-id';

/**
 * Sends one of the gateway's own errors as JSON, with Retry-After on 503, Connection: close when the
 * error says so, and the request's X-Request-Id when it has one (every proxied request does). Returns
 * the body bytes sent, 0 when the response had already started or the client was gone.
 */
export function sendProxyError(res: ProxyResponse, error: ProxyError, requestId?: string): number {
  if (res.headersSent || res.destroyed) return 0;
  const body = errorBody(error);
  const length = Buffer.byteLength(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': length };
  if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
  if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
  if (error.closeConnection === true) headers.connection = 'close';
  res.writeHead(error.status, headers);
  res.end(body);
  return length;
}

/**
 * What the client gets when the exchange with a worker failed. Before the response started, a proper
 * 502/504; after, the status line is gone, so the only honest signal left is cutting the connection.
 */
export function failExchange(res: ProxyResponse, reason: ExchangeErrorReason, responseStarted: boolean, requestId: string): ProxyError {
  const error = proxyErrorFor(reason);
  if (responseStarted || res.headersSent) res.destroy();
  else sendProxyError(res, error, requestId);
  return error;
}
