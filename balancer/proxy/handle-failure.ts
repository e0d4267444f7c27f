import type { ProxyResponse } from './client-types';
import { errorBody, proxyErrorFor, type ProxyError } from '../errors';
import type { ExchangeErrorReason } from '../exchange-errors';
import { REQUEST_ID_HEADER } from './request-id';
import type { GatewayStats } from '../stats/gateway-stats';

/**
 * Sends one of the gateway's own errors as JSON, with Retry-After on 503, Connection: close when the
 * error says so, and the request's X-Request-Id when it has one (every proxied request does), and
 * counts it under its code (lb_gateway_answers_total). Returns the body bytes sent; 0, and nothing
 * counted, when the response had already started or the client was gone.
 */
export function sendProxyError(res: ProxyResponse, error: ProxyError, stats: GatewayStats, requestId?: string): number {
  if (res.headersSent || res.destroyed) return 0;
  stats.countAnswer(error.code);
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
export function failExchange(res: ProxyResponse, reason: ExchangeErrorReason, responseStarted: boolean, stats: GatewayStats, requestId: string): ProxyError {
  const error = proxyErrorFor(reason);
  if (responseStarted || res.headersSent) res.destroy();
  else sendProxyError(res, error, stats, requestId);
  return error;
}
