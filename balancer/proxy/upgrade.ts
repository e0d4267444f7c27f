import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Strategy } from '../../strategies';
import { errorBody, loopDetected, noWorker, proxyErrorFor, unaskedSwitch, type ProxyError } from '../errors';
import { classify, rawCode } from '../exchange-errors';
import { UpstreamError } from '../upstream/errors';
import type { Logger } from '../logger';
import type { WorkerRecord } from '../registry';
import type { GatewayStats } from '../stats/gateway-stats';
import { chooseWorker, claimWorker, releaseWorker, type SlowStart } from './choose-worker';
import { clientAddress, type TrustPolicy } from './forwarding';
import { HOP_BY_HOP } from '../hop-by-hop';
import { buildUpstreamRequest } from './upstream-request';
import type { RequestCheck } from './check-request';
import { fromIncomingMessage } from './client-types';
import { REQUEST_ID_HEADER, withRequestId } from './request-id';
import { grantedUpgrade, plainRequestHead, switchAllowed, type UpgradeProtocols } from './upgrade-protocols';

export interface UpgradeDeps {
  strategy: Strategy<WorkerRecord>;
  trust: TrustPolicy;
  via?: string;
  log: Logger;
  slowStart: SlowStart;
  connectTimeoutMs: number;
  /** The protocols a client may switch to (UPGRADE_PROTOCOLS). */
  protocols: UpgradeProtocols;
  /**
   * Gives the connection back to node:http with `bytes` as the first it reads: how a request whose
   * Upgrade is not allowed is served as a plain request (node detached its parser before 'upgrade').
   */
  serveAsPlain: (socket: Duplex, bytes: Buffer) => void;
  /**
   * How many headers of a request node:http keeps in rawHeaders (its server's maxHeadersCount). It
   * drops the rest, though its parser framed the request with all of them: a head rebuilt from a list
   * that may be cut could frame the body differently, so such a request is refused instead.
   */
  headersKept: () => number;
  /** The data plane's own refusals (framing, Host, header cap), applied to a handshake as to any request. */
  checkRequest: RequestCheck;
  /** Judges the worker's resolved addresses at connect, as the pools do (WorkerAddressPolicy.lookup). */
  lookup?: LookupFunction;
  /** A tunnel silent both ways for this long is closed (WEBSOCKET_IDLE_TIMEOUT_MS); 0 never closes it. */
  idleTimeoutMs?: number;
  /** Counts the gateway's own answers to handshakes and the tunnels open (lb_websockets_open). */
  gatewayStats: GatewayStats;
}

/** 431 for an upgrade request with as many headers as node keeps, so perhaps more than it kept. */
const tooManyHeaders = 'HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

/**
 * Hands the socket back to node:http once the answers to requests read before this one have been
 * written: node parses pipelined requests ahead, and a fresh node:http connection would neither queue
 * its answer behind them nor ever be handed the socket by them. node keeps the response writing to a
 * socket as its `_httpMessage` (not public API), and moves the next queued one there on 'finish'
 * before any listener added here runs.
 */
function handBackAfterPending(socket: Duplex, bytes: Buffer, serveAsPlain: (socket: Duplex, bytes: Buffer) => void): void {
  if (socket.destroyed) return;
  const pending = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending === undefined || pending === null) return serveAsPlain(socket, bytes);
  // node removed its error listener before 'upgrade': until it takes the socket again, this one keeps
  // a reset from being an uncaught 'error'.
  socket.on('error', destroyOnError);
  pending.once('finish', () => {
    socket.off('error', destroyOnError);
    handBackAfterPending(socket, bytes, serveAsPlain);
  });
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Writes one of the gateway's errors on a raw socket (no ServerResponse exists for an upgrade), counts it, and closes it. */
function rejectSocket(socket: Duplex, error: ProxyError, stats: GatewayStats, requestId: string): void {
  stats.countAnswer(error.code);
  const body = errorBody(error);
  const retryAfter = error.retryAfter !== undefined ? `retry-after: ${error.retryAfter}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${retryAfter}` +
      `${REQUEST_ID_HEADER}: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The worker's answer headers as a head's lines, with the request's X-Request-Id in place of any the worker set (as on plain requests). */
function headerBlock(rawHeaders: string[], requestId: string, skip: (lower: string) => boolean): string {
  const flat = withRequestId([...rawHeaders], requestId);
  let block = '';
  for (let i = 0; i < flat.length; i += 2) if (!skip(flat[i].toLowerCase())) block += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return block;
}

/**
 * HTTP Upgrade (WebSocket) proxying: the strategy picks the worker as for any request (so
 * consistent-hash keeps a client on one worker), the handshake is forwarded with the same
 * X-Forwarded-* rules, and after the worker's 101 the two sockets are piped both ways until either
 * side closes. The connection counts as in flight on its worker for as long as it is open, and it is
 * not tied to the worker's pool, so draining a worker lets open connections finish.
 */
export function createUpgradeHandler({
  strategy,
  trust,
  via,
  log,
  slowStart,
  connectTimeoutMs,
  protocols,
  serveAsPlain,
  headersKept,
  checkRequest,
  lookup,
  idleTimeoutMs = 0,
  gatewayStats,
}: UpgradeDeps) {
  return function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const granted = grantedUpgrade(req.rawHeaders, protocols);
    if (granted === '') {
      // Not an upgrade the balancer makes: the same request without its Upgrade, read again by node,
      // proxied like any other (RFC 9110 section 7.8 lets a server ignore Upgrade), the connection kept.
      if (req.rawHeaders.length >= 2 * headersKept()) {
        gatewayStats.countAnswer('too_many_headers');
        return void socket.on('error', destroyOnError).end(tooManyHeaders);
      }
      return handBackAfterPending(socket, Buffer.concat([Buffer.from(plainRequestHead(req), 'latin1'), head]), serveAsPlain);
    }
    socket.on('error', () => socket.destroy());
    const clientIp = clientAddress(req.socket.remoteAddress);
    const upstream = buildUpstreamRequest(fromIncomingMessage(req), clientIp, trust, via);
    const refusal = checkRequest(upstream);
    const requestId = upstream.requestId;
    if (refusal !== undefined) return rejectSocket(socket, refusal, gatewayStats, requestId);
    if (upstream.looped) return rejectSocket(socket, loopDetected, gatewayStats, requestId);
    const worker = chooseWorker(strategy, { req, clientIp }, undefined, slowStart);
    if (!worker) return rejectSocket(socket, noWorker, gatewayStats, requestId);

    const target = new URL(worker.url);
    const proxyReq = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port,
      method: req.method,
      path: upstream.path,
      headers: [REQUEST_ID_HEADER, requestId, ...upstream.headers, 'Connection', 'Upgrade', 'Upgrade', granted],
      agent: false,
      lookup,
      timeout: connectTimeoutMs,
    });

    const startedAt = slowStart.now();
    let latencyMs = -1;
    let open = true;
    claimWorker(strategy, worker);
    const answered = () => (latencyMs = slowStart.now() - startedAt);
    // Reported when the connection ends (it counted as in flight until then), with the handshake's latency.
    const done = (ok: boolean) => {
      if (!open) return;
      open = false;
      releaseWorker(strategy, worker, { ok, latencyMs: latencyMs >= 0 ? latencyMs : slowStart.now() - startedAt });
    };

    proxyReq.on('upgrade', (res: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
      answered();
      if (!switchAllowed(res.rawHeaders, granted)) {
        upstreamSocket.destroy();
        done(false);
        log.warn(
          { worker: worker.url, path: req.url, upgrade: res.headers.upgrade, requestId },
          'worker switched to a protocol that was not asked for; refused',
        );
        return rejectSocket(socket, unaskedSwitch, gatewayStats, requestId);
      }
      upstreamSocket.on('error', () => upstreamSocket.destroy());
      upstreamSocket.setTimeout(0); // the connect timeout must not cut an idle WebSocket later
      socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${headerBlock(res.rawHeaders, requestId, () => false)}\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      gatewayStats.websocketsOpen++;
      gatewayStats.websocketsOpened++;
      let tunnelOpen = true;
      const closeBoth = () => {
        socket.destroy();
        upstreamSocket.destroy();
        done(true);
        if (tunnelOpen) gatewayStats.websocketsOpen--;
        tunnelOpen = false;
      };
      socket.once('close', closeBoth);
      upstreamSocket.once('close', closeBoth);
      // Everything the tunnel carries is read from or written to the client socket, so its timer (re-armed
      // by node on every read and write) measures silence both ways, as nginx's proxy_read_timeout does.
      // Per tunnel, not per message: the upgraded path is not the request path.
      if (idleTimeoutMs > 0 && socket instanceof Socket) socket.setTimeout(idleTimeoutMs, closeBoth);
    });

    // The worker declined to upgrade: relay its answer as an ordinary response, framed by closing.
    proxyReq.on('response', (res: IncomingMessage) => {
      answered();
      socket.write(
        `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${headerBlock(res.rawHeaders, requestId, (h) => HOP_BY_HOP.has(h))}connection: close\r\n\r\n`,
      );
      res.pipe(socket);
      // 'close' comes however the answer ends: complete, cut by the worker, or called off because the
      // client left. A cut answer cuts the client too, so it never waits for the rest.
      res.once('close', () => {
        if (!res.complete) socket.destroy();
        done(res.complete);
      });
    });

    proxyReq.on('timeout', () => proxyReq.destroy(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT')));
    proxyReq.on('error', (err: Error) => {
      done(false);
      const reason = classify(err);
      if (reason !== 'client_gone') worker.stats.recordError(reason);
      log.warn({ worker: worker.url, path: req.url, reason, code: rawCode(err), requestId }, 'upgrade to worker failed');
      if (socket.writable) rejectSocket(socket, proxyErrorFor(reason), gatewayStats, requestId);
    });
    socket.once('close', () => {
      if (open) proxyReq.destroy();
    });
    proxyReq.end();
  };
}
