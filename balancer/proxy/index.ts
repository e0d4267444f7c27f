import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { AccessLog, AccessReason } from './access-log';
import { fromIncomingMessage, type ProxyRequest, type ProxyResponse } from './client-types';
import type { PickContext, Strategy } from '../../strategies';
import { errorBody, loopDetected, noWorker, type ProxyError } from '../errors';
import { classify, rawCode, type ExchangeErrorReason } from '../exchange-errors';
import type { Logger } from '../logger';
import type { WorkerRecord } from '../registry';
import { GatewayStats } from '../stats/gateway-stats';
import { createRequestCheck, DEFAULT_MAX_REQUEST_HEADERS } from './check-request';
import { chooseWorker, claimWorker, releaseWorker, type SlowStart } from './choose-worker';
import { clientAddress, type TrustPolicy } from './forwarding';
import { forward } from './forward';
import { failExchange, sendProxyError } from './handle-failure';
import { ResponseRelay } from './relay-response';
import { readReplayableBody } from './request-body';
import { isReplayableRequest, isRetryableReason, RetryBudget } from './retry-policy';
import { buildUpstreamRequest, type UpstreamRequest } from './upstream-request';

export interface RetryOptions {
  /** Extra attempts after the first, each on a worker not tried yet. */
  attempts: number;
  budget: RetryBudget;
  /** Bodies up to this many bytes are kept so they can be replayed; larger ones are not retried. */
  bodyLimit: number;
}

export interface ProxyDeps {
  strategy: Strategy<WorkerRecord>;
  trust: TrustPolicy;
  /** This balancer's Via token; requests that already carry it are refused with 508. */
  via?: string;
  log: Logger;
  /** Passive health: told the outcome of every exchange. */
  recordExchange?: (worker: WorkerRecord, failed: boolean) => void;
  retry?: RetryOptions;
  slowStart?: SlowStart;
  now?: () => number;
  /** Time to response headers is measured on this clock (ms, sub-ms resolution): the histogram starts at 0.5 ms. */
  clock?: () => number;
  /** Requests with more header fields are refused with 431 (MAX_REQUEST_HEADERS). */
  maxRequestHeaders?: number;
  /** ACCESS_LOG=json: one line per request; undefined (off) costs one test per request. */
  accessLog?: AccessLog;
  /** Counts the answers the gateway gives itself; createBalancer passes the one /metrics reads. */
  gatewayStats?: GatewayStats;
}

export type ProxyHandler = (req: ProxyRequest, res: ProxyResponse) => void;

const NO_RETRY: RetryOptions = { attempts: 0, budget: new RetryBudget(0, 0), bodyLimit: 0 };

/**
 * The data plane: choose a worker, build the upstream request, forward it, relay the response, and
 * handle a failure (retrying on another worker when that is safe). Each step is its own module; this
 * file only wires them and keeps the bookkeeping load-aware strategies and health checks read.
 */
export function createProxy(deps: ProxyDeps): ProxyHandler {
  const { strategy, trust, via, log, recordExchange, retry = NO_RETRY, now = Date.now, accessLog } = deps;
  const clock = deps.clock ?? performance.now.bind(performance);
  const slowStart: SlowStart = deps.slowStart ?? { windowMs: 0, now, random: Math.random };
  // Read once: at LOG_LEVEL=debug every request logs where it went and why; otherwise this costs nothing.
  const logDecisions = log.isLevelEnabled('debug');
  const checkRequest = createRequestCheck(deps.maxRequestHeaders ?? DEFAULT_MAX_REQUEST_HEADERS);
  const gatewayStats = deps.gatewayStats ?? new GatewayStats();

  /** One try on one worker; on a retryable failure, tries again on a worker not tried yet. */
  function attempt(x: Exchange, lastError?: Error): void {
    const worker = chooseWorker(strategy, x.ctx, x.tried, slowStart);
    if (!worker) {
      if (lastError) reportFailure(x, lastError, classify(lastError), false);
      else {
        const bytes = sendProxyError(x.res, noWorker, gatewayStats, x.upstream.requestId);
        if (accessLog !== undefined) logAccess(x, noWorker.status, noWorker.code, undefined, -1, 0, bytes);
      }
      return;
    }
    const startedAt = clock();
    let status = 0;
    let latencyMs = -1;
    claimWorker(strategy, worker);
    const relay: ResponseRelay = new ResponseRelay(
      x.res,
      {
        onResponseStart(statusCode) {
          status = statusCode;
          // Time to headers, not to the end of the body: a long download says nothing about the worker's speed.
          latencyMs = clock() - startedAt;
        },
        onEnd(err, responseStarted) {
          // Classified only when it failed: a success costs one comparison here.
          const reason = err === undefined ? undefined : classify(err);
          const clientGone = reason === 'client_gone';
          const failed = (err !== undefined && !clientGone) || status >= 500;
          if (latencyMs < 0) latencyMs = clock() - startedAt;
          releaseWorker(strategy, worker, { ok: !failed, latencyMs });
          // The worker's counters (balancer/stats): plain increments, formatted only at scrape time.
          if (status !== 0) worker.stats.recordResponse(status, latencyMs);
          if (!clientGone) {
            if (reason !== undefined) worker.stats.recordError(reason);
            recordExchange?.(worker, failed);
          }
          if (logDecisions) logDecision(x, worker, status, latencyMs, err, reason);
          if (err === undefined || reason === undefined || clientGone) {
            // The one line per request: the worker's answer went through, or the client left (status 0 if it got none).
            if (accessLog !== undefined) {
              const headersAt = responseStarted ? startedAt + latencyMs : -1;
              const attempts = (x.tried?.size ?? 0) + 1;
              logAccess(x, responseStarted ? status : 0, reason ?? x.retryReason, worker, headersAt, attempts, relay.responseBodyBytes, relay, startedAt);
            }
            return;
          }
          (x.tried ??= new Set()).add(worker);
          const retryable = x.replayable && !responseStarted && x.tried.size <= retry.attempts && isRetryableReason(reason);
          if (retryable && !retry.budget.tryWithdraw()) worker.stats.retriesRefusedByBudget++;
          else if (retryable) {
            worker.stats.retries++;
            log.info(
              {
                worker: worker.url,
                reason,
                code: rawCode(err),
                method: x.req.method,
                path: x.req.url,
                attempt: x.tried.size + 1,
                requestId: x.upstream.requestId,
              },
              'retrying on another worker',
            );
            if (x.startedAt < 0) x.startedAt = startedAt;
            x.retryReason = reason;
            attempt(x, err);
            return;
          }
          reportFailure(x, err, reason, responseStarted, status, relay, startedAt, latencyMs);
        },
      },
      x.upstream,
      x.replayable,
      x.req.httpVersionMinor !== 0,
    );
    forward(worker, x.upstream, relay);
  }

  function logDecision(
    x: Exchange,
    worker: WorkerRecord,
    status: number,
    latencyMs: number,
    err: Error | undefined,
    reason: ExchangeErrorReason | undefined,
  ): void {
    log.debug(
      {
        method: x.req.method,
        path: x.req.url,
        client: x.ctx.clientIp,
        strategy: strategy.name,
        worker: worker.url,
        inflight: worker.inflight,
        attempt: (x.tried?.size ?? 0) + 1,
        status,
        latencyMs,
        error: err ? rawCode(err) : undefined,
        reason,
      },
      'proxied',
    );
  }

  /**
   * Answers a failed exchange and logs it. The status logged is the one the client got: the gateway's
   * 502/504, or, when the worker's head had already been relayed, the worker's status, with the
   * connection then cut (HAProxy logs the status sent and a termination state the same way).
   * `relay` and the times are the last attempt's; absent when no worker was left to try again.
   */
  function reportFailure(
    x: Exchange,
    err: Error,
    reason: ExchangeErrorReason,
    responseStarted: boolean,
    workerStatus = 0,
    relay?: ResponseRelay,
    startedAt = -1,
    latencyMs = -1,
  ): void {
    const requestId = x.upstream.requestId;
    const error = failExchange(x.res, reason, responseStarted, gatewayStats, requestId);
    const workers = x.tried ? [...x.tried].map((w) => w.url) : [];
    const status = responseStarted ? workerStatus : error.status;
    const msg = responseStarted ? 'upstream response cut short' : 'upstream request failed';
    log.warn({ workers, method: x.req.method, path: x.req.url, status, reason, code: rawCode(err), responseStarted, requestId }, msg);
    if (accessLog === undefined) return;
    const sent = responseStarted ? (relay?.responseBodyBytes ?? 0) : Buffer.byteLength(errorBody(error));
    const last = x.tried ? [...x.tried].at(-1) : undefined;
    logAccess(x, status, reason, last, responseStarted ? startedAt + latencyMs : -1, x.tried?.size ?? 0, sent, relay, startedAt);
  }

  /**
   * Writes the request's access log line; called only with ACCESS_LOG on, once per request, where
   * its answer ended. `headersAt` is when the worker's head came (-1: none); `startedAt` the last
   * attempt's start, which is the request's own unless it was retried or its body read first.
   */
  function logAccess(
    x: Exchange,
    status: number,
    reason: AccessReason | undefined,
    worker: WorkerRecord | undefined,
    headersAt: number,
    attempts: number,
    responseBodyBytes: number,
    relay?: ResponseRelay,
    startedAt = -1,
  ): void {
    const end = clock();
    const begin = x.startedAt >= 0 ? x.startedAt : startedAt >= 0 ? startedAt : end;
    accessLog!.write({
      client: x.ctx.clientIp,
      method: x.upstream.method,
      path: x.req.url ?? '/',
      status,
      requestBodyBytes: relay?.requestBodyBytes ?? 0,
      responseBodyBytes,
      totalMs: toMicros(end - begin),
      headersMs: headersAt < 0 ? null : toMicros(headersAt - begin),
      worker: worker?.url ?? null,
      attempts,
      requestId: x.upstream.requestId,
      reason: reason ?? null,
    });
  }

  /** A request refused before any worker is asked: an expected event, one log line, the error as the answer. */
  function refuse(x: Exchange, error: ProxyError): void {
    const { req, res } = x;
    // Read and dropped, so the answer is not lost to a reset of a socket with unread bytes.
    req.bodyStream?.resume();
    const bytes = sendProxyError(res, error, gatewayStats, x.upstream.requestId);
    if (accessLog !== undefined) logAccess(x, error.status, error.code, undefined, -1, 0, bytes);
  }

  return function proxy(req, res) {
    retry.budget.deposit();
    const clientIp = clientAddress(req.socket.remoteAddress);
    const upstream = buildUpstreamRequest(req, clientIp, trust, via);
    res.requestId = upstream.requestId;
    const x: Exchange = { req, res, ctx: { req, clientIp }, upstream, replayable: false, startedAt: -1, retryReason: undefined };
    const refusal = checkRequest(upstream);
    if (refusal !== undefined) {
      log.info({ client: clientIp, method: req.method, code: refusal.code, requestId: upstream.requestId }, 'request refused');
      return refuse(x, refusal);
    }
    if (upstream.looped) {
      log.warn({ path: req.url, via: req.headers.via, requestId: upstream.requestId }, 'request loop: a worker is registered at this balancer address');
      return refuse(x, loopDetected);
    }
    if (retry.attempts === 0 || !isReplayableRequest(upstream.method, upstream.idempotencyKey)) return attempt(x);
    if (upstream.body === null) {
      x.replayable = true;
      return attempt(x);
    }
    // A small body is kept so it can be sent again; a large or chunked one streams and is not retried.
    if (upstream.declaredLength === undefined || !(upstream.declaredLength <= retry.bodyLimit)) return attempt(x);
    x.startedAt = clock();
    readReplayableBody(upstream.body as Readable, (err, body) => {
      // The client went away mid-upload: there is no one to answer, but the request is still logged.
      if (err) {
        if (accessLog !== undefined) logAccess(x, 0, 'client_gone', undefined, -1, 0, 0);
        return;
      }
      x.upstream = { ...upstream, body: body! };
      x.replayable = true;
      attempt(x);
    });
  };
}

/** Milliseconds kept to the microsecond: the proxy's clock is sub-ms, and a fast answer takes well under 1 ms. */
const toMicros = (ms: number) => Math.round(ms * 1000) / 1000;

/** One client request's journey through the pipeline, across retries. */
interface Exchange {
  readonly req: ProxyRequest;
  readonly res: ProxyResponse;
  readonly ctx: PickContext;
  upstream: UpstreamRequest;
  /** Whether this request may be sent again: safe to repeat, and its body (if any) was kept. */
  replayable: boolean;
  /** Workers already tried, avoided by the next pick. */
  tried?: Set<WorkerRecord>;
  /** When the request began, for the access log: set (>= 0) only once a retry or a body read makes it earlier than the attempt's start. */
  startedAt: number;
  /** Why the last attempt was retried, for the access log line of the one that answered. */
  retryReason: ExchangeErrorReason | undefined;
}

/**
 * The same data plane as an Express/Connect middleware, for applications that embed the balancer.
 * It never calls next(): every request it sees is proxied.
 */
export function proxyMiddleware(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void {
  const proxy = createProxy(deps);
  return (req, res) => proxy(fromIncomingMessage(req), res);
}
