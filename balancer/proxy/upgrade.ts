import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Strategy } from '../../strategies';
import { classifyUpstreamError, errorBody, loopDetected, noWorker, type ProxyError } from '../errors';
import type { Logger } from '../logger';
import type { WorkerRecord } from '../registry';
import { chooseWorker, claimWorker, releaseWorker, type SlowStart } from './choose-worker';
import { clientAddress, type TrustPolicy } from './forwarding';
import { HOP_BY_HOP } from '../hop-by-hop';
import { buildUpstreamRequest } from './upstream-request';
import { fromIncomingMessage } from './client-types';

export interface UpgradeDeps {
  strategy: Strategy<WorkerRecord>;
  trust: TrustPolicy;
  via?: string;
  log: Logger;
  slowStart: SlowStart;
  connectTimeoutMs: number;
}

/** Writes one of the gateway's errors on a raw socket (no ServerResponse exists for an upgrade) and closes it. */
function rejectSocket(socket: Duplex, error: ProxyError): void {
  const body = errorBody(error);
  const retryAfter = error.retryAfter !== undefined ? `retry-after: ${error.retryAfter}\r\n` : '';
  socket.end(`HTTP/1.1 ${error.status} ${error.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${retryAfter}connection: close\r\n\r\n${body}`);
}

function headerBlock(rawHeaders: string[], skip: (lower: string) => boolean): string {
  let block = '';
  for (let i = 0; i < rawHeaders.length; i += 2) if (!skip(rawHeaders[i].toLowerCase())) block += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return block;
}

/**
 * HTTP Upgrade (WebSocket) proxying: the strategy picks the worker as for any request (so
 * consistent-hash keeps a client on one worker), the handshake is forwarded with the same
 * X-Forwarded-* rules, and after the worker's 101 the two sockets are piped both ways until either
 * side closes. The connection counts as in flight on its worker for as long as it is open, and it is
 * not tied to the worker's pool, so draining a worker lets open connections finish.
 */
export function createUpgradeHandler({ strategy, trust, via, log, slowStart, connectTimeoutMs }: UpgradeDeps) {
  return function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const clientIp = clientAddress(req.socket.remoteAddress);
    const upstream = buildUpstreamRequest(fromIncomingMessage(req), clientIp, trust, via);
    if (upstream.looped) return rejectSocket(socket, loopDetected);
    const worker = chooseWorker(strategy, { req, clientIp }, undefined, slowStart);
    if (!worker) return rejectSocket(socket, noWorker);

    const target = new URL(worker.url);
    const proxyReq = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port,
      method: req.method,
      path: req.url,
      headers: [...upstream.headers, 'Connection', 'Upgrade', 'Upgrade', req.headers.upgrade ?? 'websocket'],
      agent: false,
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
      upstreamSocket.on('error', () => upstreamSocket.destroy());
      upstreamSocket.setTimeout(0); // the connect timeout must not cut an idle WebSocket later
      socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${headerBlock(res.rawHeaders, () => false)}\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      const closeBoth = () => {
        socket.destroy();
        upstreamSocket.destroy();
        done(true);
      };
      socket.once('close', closeBoth);
      upstreamSocket.once('close', closeBoth);
    });

    // The worker declined to upgrade: relay its answer as an ordinary response, framed by closing.
    proxyReq.on('response', (res: IncomingMessage) => {
      answered();
      socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${headerBlock(res.rawHeaders, (h) => HOP_BY_HOP.has(h))}connection: close\r\n\r\n`);
      res.pipe(socket);
      // 'close' comes however the answer ends: complete, cut by the worker, or called off because the
      // client left. A cut answer cuts the client too, so it never waits for the rest.
      res.once('close', () => {
        if (!res.complete) socket.destroy();
        done(res.complete);
      });
    });

    proxyReq.on('timeout', () => proxyReq.destroy(Object.assign(new Error('connect timeout'), { code: 'UPSTREAM_CONNECT_TIMEOUT' })));
    proxyReq.on('error', (err: NodeJS.ErrnoException) => {
      done(false);
      log.warn({ worker: worker.url, path: req.url, code: err.code ?? err.message }, 'upgrade to worker failed');
      if (socket.writable) rejectSocket(socket, classifyUpstreamError(err));
    });
    socket.once('close', () => {
      if (open) proxyReq.destroy();
    });
    proxyReq.end();
  };
}
