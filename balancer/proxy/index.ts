import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { fromIncomingMessage, type ProxyRequest, type ProxyResponse } from './client-types';
import type { PickContext, Strategy } from '../../strategies';
import { loopDetected, noWorker, type ProxyError } from '../errors';
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
  const { strategy, trust, via, log, recordExchange, retry = NO_RETRY, now = Date.now } = deps;
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
      else sendProxyError(x.res, noWorker, gatewayStats);
      return;
    }
    const startedAt = clock();
    let status = 0;
    let latencyMs = -1;
    claimWorker(strategy, worker);
    const relay = new ResponseRelay(
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
          if (err === undefined || reason === undefined || clientGone) return;
          (x.tried ??= new Set()).add(worker);
          const retryable = x.replayable && !responseStarted && x.tried.size <= retry.attempts && isRetryableReason(reason);
          if (retryable && !retry.budget.tryWithdraw()) worker.stats.retriesRefusedByBudget++;
          else if (retryable) {
            worker.stats.retries++;
            log.info(
              { worker: worker.url, reason, code: rawCode(err), method: x.req.method, path: x.req.url, attempt: x.tried.size + 1 },
              'retrying on another worker',
            );
            attempt(x, err);
            return;
          }
          reportFailure(x, err, reason, responseStarted, status);
        },
      },
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
   */
  function reportFailure(x: Exchange, err: Error, reason: ExchangeErrorReason, responseStarted: boolean, workerStatus = 0): void {
    const error = failExchange(x.res, reason, responseStarted, gatewayStats);
    const workers = x.tried ? [...x.tried].map((w) => w.url) : [];
    const status = responseStarted ? workerStatus : error.status;
    const msg = responseStarted ? 'upstream response cut short' : 'upstream request failed';
    log.warn({ workers, method: x.req.method, path: x.req.url, status, reason, code: rawCode(err), responseStarted }, msg);
  }

  /** A request refused before any worker is asked: an expected event, one log line, the error as the answer. */
  function refuse(req: ProxyRequest, res: ProxyResponse, error: ProxyError, clientIp: string): void {
    log.info({ client: clientIp, method: req.method, code: error.code }, 'request refused');
    // Read and dropped, so the answer is not lost to a reset of a socket with unread bytes.
    req.bodyStream?.resume();
    sendProxyError(res, error, gatewayStats);
  }

  return function proxy(req, res) {
    retry.budget.deposit();
    const clientIp = clientAddress(req.socket.remoteAddress);
    const upstream = buildUpstreamRequest(req, clientIp, trust, via);
    const refusal = checkRequest(upstream);
    if (refusal !== undefined) return refuse(req, res, refusal, clientIp);
    if (upstream.looped) {
      log.warn({ path: req.url, via: req.headers.via }, 'request loop: a worker is registered at this balancer address');
      req.bodyStream?.resume();
      return sendProxyError(res, loopDetected, gatewayStats);
    }
    const x: Exchange = { req, res, ctx: { req, clientIp }, upstream, replayable: false };
    if (retry.attempts === 0 || !isReplayableRequest(upstream.method, upstream.idempotencyKey)) return attempt(x);
    if (upstream.body === null) {
      x.replayable = true;
      return attempt(x);
    }
    // A small body is kept so it can be sent again; a large or chunked one streams and is not retried.
    if (upstream.declaredLength === undefined || !(upstream.declaredLength <= retry.bodyLimit)) return attempt(x);
    readReplayableBody(upstream.body as Readable, (err, body) => {
      if (err) return; // the client went away mid-upload; there is no one to answer
      x.upstream = { ...upstream, body: body! };
      x.replayable = true;
      attempt(x);
    });
  };
}

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
}

/**
 * The same data plane as an Express/Connect middleware, for applications that embed the balancer.
 * It never calls next(): every request it sees is proxied.
 */
export function proxyMiddleware(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void {
  const proxy = createProxy(deps);
  return (req, res) => proxy(fromIncomingMessage(req), res);
}
