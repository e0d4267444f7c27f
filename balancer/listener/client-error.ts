import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GatewayAnswerReason, GatewayStats } from '../stats/gateway-stats';

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TOO_LARGE = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TIMED_OUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** Sockets already answered or being answered: node's parser reports again on every later read. */
const handled = new WeakSet<Duplex>();

/**
 * node:http's 'clientError' on the connections it serves (balancer/index.ts wires it): the parser
 * refused bytes, or a request timed out. An expected event, never a crash. An answer is written only
 * where it belongs in the exchange order: a response pending or under way on the socket (node keeps it
 * as socket._httpMessage) is never interrupted by a status line; the refusal is written after it ends,
 * and the connection closes. Bytes after a request that closes the connection (HTTP/1.0, or
 * Connection: close: llhttp reports them as HPE_CLOSED_CONNECTION) are not a request and get nothing
 * (RFC 9112 section 9.6): that request's own answer closes the connection. Each answer written is
 * counted in `stats` under its reason. Built once by createBalancer.
 */
export function createClientErrorHandler(stats: GatewayStats): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  const answer = (socket: Duplex, reason: GatewayAnswerReason, text: string) => {
    stats.countAnswer(reason);
    socket.end(text);
  };
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    if (handled.has(socket)) return;
    handled.add(socket);
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'HPE_CLOSED_CONNECTION') {
      if (pending == null || pending.writableFinished) socket.destroy();
      return;
    }
    const [reason, text]: [GatewayAnswerReason, string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['head_too_large', TOO_LARGE]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['head_timeout', TIMED_OUT]
          : ['malformed_request', BAD_REQUEST];
    if (pending == null || pending.writableFinished) return answer(socket, reason, text);
    // The pending response closes the connection when it ends; the refusal follows it if the socket is still writable.
    pending.shouldKeepAlive = false;
    pending.once('close', () => {
      if (socket.writable) answer(socket, reason, text);
    });
  };
}
