import type { ProxyResponse } from './client-types';
import { errorBody, proxyErrorFor, type ProxyError } from '../errors';
import type { ExchangeErrorReason } from '../exchange-errors';
import type { GatewayStats } from '../stats/gateway-stats';

/**
 * Sends one of the gateway's own errors as JSON, with Retry-After on 503, and Connection: close when the
 * error says so, and counts it under its code (lb_gateway_answers_total); an answer that cannot be sent
 * any more (the client left, or a response already started) is not counted.
 */
export function sendProxyError(res: ProxyResponse, error: ProxyError, stats: GatewayStats): void {
  if (res.headersSent || res.destroyed) return;
  stats.countAnswer(error.code);
  const body = errorBody(error);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
  if (error.closeConnection === true) headers.connection = 'close';
  res.writeHead(error.status, headers);
  res.end(body);
}

/**
 * What the client gets when the exchange with a worker failed. Before the response started, a proper
 * 502/504; after, the status line is gone, so the only honest signal left is cutting the connection.
 */
export function failExchange(res: ProxyResponse, reason: ExchangeErrorReason, responseStarted: boolean, stats: GatewayStats): ProxyError {
  const error = proxyErrorFor(reason);
  if (responseStarted || res.headersSent) res.destroy();
  else sendProxyError(res, error, stats);
  return error;
}
