import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger';
import { sendError } from './answers';

export interface EventStreamOptions {
  /** One event's data, one line of JSON: built once per tick and written to every stream alike. */
  readonly build: () => string;
  /** Streams open at once; one more is answered 503. */
  readonly maxStreams: number;
  readonly intervalMs: number;
  /** A comment line every this many ticks, so an idle proxy between us and the reader keeps the stream. */
  readonly heartbeatEveryTicks: number;
  /** A reader whose socket has not drained for this many ticks in a row is disconnected. */
  readonly maxSkippedTicks: number;
  readonly log: Logger;
}

export interface EventStream {
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly size: number;
}

/**
 * Server-sent events (WHATWG HTML, section 9.2 "Server-sent events"): `event: status` with one line of
 * data every tick and at once on connect, `retry:` for the reader's reconnection delay, comment lines as
 * heartbeats. One timer serves every stream and runs only while one is open. A slow reader never makes
 * us buffer without bound: while its socket has not drained (writableNeedDrain) its ticks are skipped, so
 * it holds at most the socket's high-water mark plus one event, and after maxSkippedTicks it is cut off.
 * A reader that goes away is dropped on its socket's close.
 */
export function createEventStream(opts: EventStreamOptions): EventStream {
  const streams = new Map<ServerResponse, { skipped: number }>();
  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;
  const event = (): string | undefined => {
    try {
      return `event: status\ndata: ${opts.build()}\n\n`;
    } catch (err) {
      opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'status event not built');
      return undefined;
    }
  };
  const tick = () => {
    const frame = event();
    const heartbeat = ++ticks % opts.heartbeatEveryTicks === 0 ? ': heartbeat\n\n' : '';
    for (const [res, stream] of streams) {
      if (res.writableNeedDrain) {
        if (++stream.skipped >= opts.maxSkippedTicks) res.destroy();
        continue;
      }
      stream.skipped = 0;
      res.write(heartbeat + (frame ?? ''));
    }
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (streams.size >= opts.maxStreams) {
      sendError(res, 503, 'too_many_streams', `at most ${opts.maxStreams} status streams at once (ADMIN_MAX_STREAMS); GET /status answers any number`, {
        'retry-after': '10',
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    streams.set(res, { skipped: 0 });
    res.on('close', () => {
      streams.delete(res);
      if (streams.size === 0) stop();
    });
    res.write(`retry: 2000\n\n${event() ?? ''}`);
    if (timer === undefined) {
      timer = setInterval(tick, opts.intervalMs);
      timer.unref();
    }
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    handle,
    get size() {
      return streams.size;
    },
  };
}
