import type { ProxyResponse } from './client-types';
import { errorBody, proxyErrorFor, type ProxyError } from '../errors';
import type { ExchangeErrorReason } from '../exchange-errors';

/** Sends one of the gateway's own errors as JSON, with Retry-After on 503, and Connection: close when the error says so. */
export function sendProxyError(res: ProxyResponse, error: ProxyError): void {
  if (res.headersSent || res.destroyed) return;
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
export function failExchange(res: ProxyResponse, reason: ExchangeErrorReason, responseStarted: boolean): ProxyError {
  const error = proxyErrorFor(reason);
  if (responseStarted || res.headersSent) res.destroy();
  else sendProxyError(res, error);
  return error;
}
