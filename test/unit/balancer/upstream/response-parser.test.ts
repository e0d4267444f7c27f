import { MAX_HEAD_BYTES, ResponseParseError, ResponseParser } from '../../../../balancer/upstream/response-parser';
import { mulberry32 } from '../../../helpers/random';

/** One parser callback, recorded; body bytes as latin1 text, which round-trips every byte value. */
type Event = { type: 'head'; status: number; headers: string[] } | { type: 'body'; data: string } | { type: 'end'; keepAlive: boolean };

/** A parser whose callbacks append to `events`; body chunks are copied at once, as the parser's contract asks. */
function recorder(): { parser: ResponseParser; events: Event[] } {
  const events: Event[] = [];
  const parser = new ResponseParser({
    onHead: (status, headers) => events.push({ type: 'head', status, headers: [...headers] }),
    onBody: (chunk) => events.push({ type: 'body', data: chunk.toString('latin1') }),
    onEnd: (keepAlive, lastChunk) => {
      // The final slice of a Content-Length body comes with the end; as data it is one more body event.
      if (lastChunk !== undefined) events.push({ type: 'body', data: lastChunk });
      events.push({ type: 'end', keepAlive });
    },
  });
  return { parser, events };
}

/** Adjacent body events merged, so event lists from differently split input compare equal. */
function merged(events: Event[]): Event[] {
  const out: Event[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === 'body' && last !== undefined && last.type === 'body') out[out.length - 1] = { type: 'body', data: last.data + e.data };
    else out.push(e);
  }
  return out;
}

/**
 * Every read of a worker socket lands in one shared buffer (balancer/upstream/connection.ts), so every
 * piece fed to a parser here is written into one buffer too, over the previous piece: a parser that kept
 * a view into an earlier read, where it owes a copy (an unfinished line, say), then sees other bytes.
 */
const SHARED_READ = Buffer.alloc(1024 * 1024);
let lastRead = 0;
function bytes(s: string): Buffer {
  if (s.length > SHARED_READ.length) throw new Error(`a test read of ${s.length} bytes is larger than the shared buffer`);
  SHARED_READ.fill(0x23, 0, lastRead); // '#': what the next read leaves where the last one was
  lastRead = SHARED_READ.write(s, 'latin1');
  return SHARED_READ.subarray(0, lastRead);
}

/** Starts a fresh parser and feeds it `pieces` in order; returns the merged events and the parser. */
function parse(pieces: string[], isHead = false): { events: Event[]; parser: ResponseParser } {
  const r = recorder();
  r.parser.start(isHead);
  for (const p of pieces) r.parser.execute(bytes(p));
  // An empty slice of the body is never worth a callback.
  expect(r.events.filter((e) => e.type === 'body' && e.data === '')).toEqual([]);
  return { events: merged(r.events), parser: r.parser };
}

/** `raw` cut at the given ascending indices. */
function cut(raw: string, at: number[]): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const i of at) {
    pieces.push(raw.slice(from, i));
    from = i;
  }
  pieces.push(raw.slice(from));
  return pieces;
}

/** Asserts that `raw` gives the same events whole, cut at every single index, and fed one byte at a time. */
function expectSplitInvariant(raw: string, expected: Event[], isHead = false): void {
  expect(parse([raw], isHead).events).toEqual(expected);
  for (let i = 0; i <= raw.length; i++) expect({ at: i, events: parse(cut(raw, [i]), isHead).events }).toEqual({ at: i, events: expected });
  expect(parse(raw.split(''), isHead).events).toEqual(expected);
}

/** Runs `fn` and returns the ResponseParseError it throws, failing if it throws nothing or something else. */
function parseError(fn: () => void): ResponseParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ResponseParseError);
    expect((err as ResponseParseError).code).toBe('UPSTREAM_BAD_RESPONSE');
    return err as ResponseParseError;
  }
  throw new Error('expected a ResponseParseError, nothing was thrown');
}

/** Parsing `pieces` throws a ResponseParseError whose message contains `detail`. */
function expectRejected(pieces: string[], detail: string, isHead = false): void {
  const { parser } = recorder();
  parser.start(isHead);
  const err = parseError(() => {
    for (const p of pieces) parser.execute(bytes(p));
  });
  expect(err.message).toContain(detail);
}

const head = (status: number, headers: string[]): Event => ({ type: 'head', status, headers });
const body = (data: string): Event => ({ type: 'body', data });
const end = (keepAlive: boolean): Event => ({ type: 'end', keepAlive });

describe('ResponseParseError', () => {
  it('carries the code the proxy maps to 502 and names the problem', () => {
    const err = new ResponseParseError('bad chunk size');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toBe('the worker sent an invalid HTTP response: bad chunk size');
  });
});

describe('Content-Length bodies', () => {
  const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world';
  const expected = [head(200, ['Content-Type', 'text/plain', 'Content-Length', '11']), body('hello world'), end(true)];

  it('reports the head, the body and the end, in that order', () => {
    const { events, parser } = parse([raw]);
    expect(events).toEqual(expected);
    expect(parser.busy).toBe(false);
  });

  it('ends right after the head for Content-Length: 0, with no body event', () => {
    expectSplitInvariant('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', [head(200, ['Content-Length', '0']), end(true)]);
  });

  it('gives the same events at every split point and one byte at a time', () => {
    expectSplitInvariant(raw, expected);
  });

  it('gives the same events cut at every pair of points', () => {
    for (let i = 0; i <= raw.length; i++) {
      for (let j = i; j <= raw.length; j++) expect({ at: [i, j], events: parse(cut(raw, [i, j])).events }).toEqual({ at: [i, j], events: expected });
    }
  });

  it('hands each body slice over as it arrives, without waiting for the rest', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(r.events).toEqual([head(200, ['Content-Length', '10']), body('abc')]);
    r.parser.execute(bytes('defg'));
    expect(r.events.slice(2)).toEqual([body('defg')]);
    r.parser.execute(bytes('hij'));
    expect(r.events.slice(3)).toEqual([body('hij'), end(true)]);
  });

  it('accepts a body of bytes of every value, including CR, LF and NUL', () => {
    let all = '';
    for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
    expectSplitInvariant(`HTTP/1.1 200 OK\r\nContent-Length: 256\r\n\r\n${all}`, [head(200, ['Content-Length', '256']), body(all), end(true)]);
  });

  it('is busy from start() to the end, and in the head only until the head is complete', () => {
    const r = recorder();
    expect([r.parser.busy, r.parser.inHead]).toEqual([false, false]);
    r.parser.start(false);
    expect(r.parser.busy).toBe(true);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Len'));
    expect([r.parser.busy, r.parser.inHead]).toEqual([true, true]);
    r.parser.execute(bytes('gth: 4\r\n\r\nab'));
    expect([r.parser.busy, r.parser.inHead]).toEqual([true, false]);
    r.parser.execute(bytes('cd'));
    expect([r.parser.busy, r.parser.inHead]).toEqual([false, false]);
  });

  it('is inHead from start(), before any byte, so a silent worker is a headers timeout', () => {
    // connection.ts names a timeout UPSTREAM_HEADERS_TIMEOUT while inHead, including when nothing came.
    const r = recorder();
    r.parser.start(false);
    expect(r.parser.inHead).toBe(true);
    r.parser.execute(bytes('HTTP/1.1 100 Continue\r\n\r\n'));
    expect(r.parser.inHead).toBe(true);
  });
});

describe('chunked bodies', () => {
  const raw =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;name=value\r\nhello\r\n' +
    '6;a;b="q r"\r\n world\r\n' +
    '1;ext\r\n!\r\n' +
    '0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';
  const expected = [head(200, []), body('hello world!'), end(true)];

  it('de-chunks the body, ignoring chunk extensions and dropping trailers', () => {
    expect(parse([raw]).events).toEqual(expected);
  });

  it('gives the same events at every split point and one byte at a time', () => {
    expectSplitInvariant(raw, expected);
  });

  it('reads chunk sizes in upper- and lower-case hex', () => {
    const data = 'x'.repeat(0x1f) + 'y'.repeat(0xa);
    const framed = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1F\r\n${'x'.repeat(0x1f)}\r\n00a\r\n${'y'.repeat(0xa)}\r\n0\r\n\r\n`;
    expectSplitInvariant(framed, [head(200, []), body(data), end(true)]);
  });

  it('ends an empty chunked body at 0 CRLF CRLF with no body event', () => {
    expectSplitInvariant('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', [head(200, []), end(true)]);
  });

  it('takes chunked as the final coding of a list, case-insensitively and across header lines', () => {
    expect(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n']).events).toEqual([head(200, []), body('ab'), end(true)]);
    expect(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n']).events).toEqual([
      head(200, []),
      body('ab'),
      end(true),
    ]);
  });

  it('is busy until the last CRLF of the trailer section', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX: y\r\n'));
    expect([r.parser.busy, r.events.length]).toEqual([true, 2]);
    r.parser.execute(bytes('\r\n'));
    expect(r.parser.busy).toBe(false);
    expect(r.events).toEqual([head(200, []), body('a'), end(true)]);
  });

  const te = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  it.each([
    ['a non-hex digit', 'g\r\n'],
    ['a sign', '-1\r\n'],
    ['a 0x prefix', '0x5\r\n'],
    ['leading whitespace', ' 5\r\n'],
    ['an empty size line', '\r\n'],
    ['more than 12 hex digits', '1000000000000\r\n'],
    ['a bare LF inside an extension', '5;a\nb\r\n'],
    // Whitespace anywhere in the line, as node's parser (llhttp) refuses it.
    ['a space before an extension', '1 ; ext\r\n'],
    ['a space after an extension', '6;a;b="q r" \r\n'],
    ['a tab after the size', '5\t\r\n'],
  ])('rejects a chunk size with %s', (_what, line) => {
    expectRejected([te + line], 'bad chunk size');
    expectRejected((te + line).split(''), 'bad chunk size');
  });

  it('rejects a chunk size line longer than its limit', () => {
    expectRejected([`${te}5;${'e'.repeat(2000)}\r\nhello\r\n0\r\n\r\n`], 'chunk size line too long');
    expectRejected([te, `5;${'e'.repeat(2000)}`], 'line too long');
  });

  it.each([
    ['another byte', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['a bare LF', '5\r\nhello\n0\r\n\r\n'],
    ['the next chunk size', '5\r\nhello5\r\nworld\r\n0\r\n\r\n'],
  ])('rejects chunk data followed by %s instead of CRLF', (_what, chunks) => {
    expectRejected([te + chunks], 'chunk not followed by CRLF');
    expectRejected((te + chunks).split(''), 'chunk not followed by CRLF');
  });
});

describe('responses without a body', () => {
  // A worker may wrongly send a body after these heads, in a later read where it would pass for the next
  // response: so the connection is not reused after a HEAD, nor after a 204/304 that declares a body.
  it('ends a HEAD response right after its head, whatever Content-Length says, and does not reuse the connection', () => {
    const r = recorder();
    r.parser.start(true);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'));
    expect(r.events).toEqual([head(200, ['Content-Length', '1234']), end(false)]);
    expect(r.parser.busy).toBe(false);
  });

  it('ends a HEAD response that declares chunked right after its head', () => {
    expectSplitInvariant('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', [head(200, []), end(false)], true);
  });

  it('ends a HEAD response without framing right after its head', () => {
    expectSplitInvariant('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n', [head(200, ['Content-Type', 'text/html']), end(false)], true);
  });

  it.each([204, 304])('ends a %i right after its head, whatever Content-Length or Transfer-Encoding say', (status) => {
    // A 304's Content-Length describes the cached representation, not a body: it keeps the connection.
    expectSplitInvariant(`HTTP/1.1 ${status} X\r\nContent-Length: 99\r\n\r\n`, [head(status, ['Content-Length', '99']), end(status === 304)]);
    expectSplitInvariant(`HTTP/1.1 ${status} X\r\nTransfer-Encoding: chunked\r\n\r\n`, [head(status, []), end(false)]);
    expectSplitInvariant(`HTTP/1.1 ${status} X\r\n\r\n`, [head(status, []), end(true)]);
  });

  it('treats bytes after a HEAD response as unframed: the connection is not reused', () => {
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'], true).events).toEqual([head(200, ['Content-Length', '5']), end(false)]);
  });
});

describe('close-delimited bodies', () => {
  const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the worker closes';

  it('relays the body until finish(), which ends it with keepAlive false', () => {
    for (let i = 0; i <= raw.length; i++) {
      const r = recorder();
      r.parser.start(false);
      for (const p of cut(raw, [i])) r.parser.execute(bytes(p));
      expect(r.parser.busy).toBe(true);
      expect(merged(r.events)).toEqual([head(200, ['Content-Type', 'text/plain']), body('all of this until the worker closes')]);
      expect(r.parser.finish()).toBe(true);
      expect(r.events[r.events.length - 1]).toEqual(end(false));
      expect(r.parser.busy).toBe(false);
    }
  });

  it('ends an empty close-delimited body at finish()', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\n\r\n'));
    expect(r.parser.finish()).toBe(true);
    expect(r.events).toEqual([head(200, []), end(false)]);
  });

  it('reads until close when the final transfer coding is not chunked', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef'));
    expect(r.parser.finish()).toBe(true);
    // Content-Length is not reported beside Transfer-Encoding: a proxy must not forward it (section 6.3).
    expect(r.events).toEqual([head(200, []), body('abcdef'), end(false)]);
  });

  it('does not keep the connection even when the worker asks to', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nxyz'));
    r.parser.finish();
    expect(r.events).toEqual([head(200, []), body('xyz'), end(false)]);
  });

  it('returns false from finish() in the middle of a Content-Length body, with no event', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(r.parser.finish()).toBe(false);
    expect(r.events).toEqual([head(200, ['Content-Length', '10']), body('abc')]);
  });

  it('returns false from finish() in a chunked body, in a head, or before any byte', () => {
    const chunked = recorder();
    chunked.parser.start(false);
    chunked.parser.execute(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'));
    expect(chunked.parser.finish()).toBe(false);

    const inHead = recorder();
    inHead.parser.start(false);
    inHead.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-'));
    expect(inHead.parser.finish()).toBe(false);

    const nothing = recorder();
    nothing.parser.start(false);
    expect(nothing.parser.finish()).toBe(false);
    expect([...inHead.events, ...nothing.events]).toEqual([]);
    expect(chunked.events).toEqual([head(200, []), body('hel')]);
  });
});

describe('keep-alive', () => {
  const keepAliveOf = (raw: string) => {
    const { events } = parse([raw]);
    const last = events[events.length - 1];
    expect(last.type).toBe('end');
    return (last as { keepAlive: boolean }).keepAlive;
  };

  it('keeps an HTTP/1.1 connection by default', () => {
    expect(keepAliveOf('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')).toBe(true);
  });

  it.each(['close', 'Close', 'keep-alive, close', 'X-Private ,CLOSE'])('closes an HTTP/1.1 connection on Connection: %s', (value) => {
    expect(keepAliveOf(`HTTP/1.1 200 OK\r\nConnection: ${value}\r\nContent-Length: 2\r\n\r\nok`)).toBe(false);
  });

  it('reads every Connection header line', () => {
    expect(keepAliveOf('HTTP/1.1 200 OK\r\nConnection: x-a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).toBe(false);
  });

  it('closes an HTTP/1.0 connection by default and keeps it on Connection: keep-alive', () => {
    expect(keepAliveOf('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')).toBe(false);
    expect(keepAliveOf('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok')).toBe(true);
    expect(keepAliveOf('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok')).toBe(true);
  });

  it('frames by Transfer-Encoding when Content-Length is present too, drops the Content-Length, and does not reuse the connection', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    expectSplitInvariant(raw, [head(200, []), body('hello'), end(false)]);
  });

  it('does not reuse a connection after an HTTP/1.0 response with Transfer-Encoding (RFC 9112 section 6.1)', () => {
    // "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header field
    // MUST treat the message as if the framing is faulty, even if a Content-Length is present, and close
    // the connection after processing the message." Rejecting the response would satisfy this too.
    const raw = 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    const r = recorder();
    r.parser.start(false);
    let rejected = false;
    try {
      r.parser.execute(bytes(raw));
    } catch (err) {
      expect(err).toBeInstanceOf(ResponseParseError);
      rejected = true;
    }
    if (!rejected) expect(r.events.filter((e) => e.type === 'end')).toEqual([end(false)]);
  });

  it.each([
    [
      'a Content-Length body',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n',
      [head(200, ['Content-Length', '2']), body('ok'), end(false)],
    ],
    ['a zero-length body', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nX', [head(200, ['Content-Length', '0']), end(false)]],
    ['a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nX', [head(200, []), body('ok'), end(false)]],
    ['a 204', 'HTTP/1.1 204 No Content\r\n\r\nX', [head(204, []), end(false)]],
  ])('does not reuse the connection when bytes follow the end of %s in the same read', (_what, raw, expected) => {
    const { events, parser } = parse([raw]);
    expect(events).toEqual(expected);
    expect(parser.busy).toBe(false);
  });

  it('rejects bytes that arrive after the response ended, or before start()', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    expect(r.events).toEqual([head(200, ['Content-Length', '2']), body('ok'), end(true)]);
    expect(parseError(() => r.parser.execute(bytes('X'))).message).toContain('data after the end of the response');

    const unstarted = recorder();
    expect(parseError(() => unstarted.parser.execute(bytes('HTTP/1.1 200 OK\r\n\r\n'))).message).toContain('data after the end');
  });

  it('does nothing on an empty read', () => {
    const r = recorder();
    r.parser.execute(Buffer.alloc(0));
    r.parser.start(false);
    r.parser.execute(Buffer.alloc(0));
    expect(r.events).toEqual([]);
    expect(r.parser.busy).toBe(true);
  });
});

describe('Keep-Alive hint', () => {
  const hintOf = (value: string | undefined) => {
    const kaLine = value === undefined ? '' : `Keep-Alive: ${value}\r\n`;
    return parse([`HTTP/1.1 200 OK\r\n${kaLine}Content-Length: 0\r\n\r\n`]).parser.keepAliveHintMs;
  };

  it('reads timeout=N as N seconds', () => {
    expect(hintOf('timeout=5')).toBe(5000);
    expect(hintOf('timeout=5, max=1000')).toBe(5000);
    expect(hintOf('max=100, timeout=30')).toBe(30000);
    expect(hintOf('Timeout=2')).toBe(2000);
  });

  it('is 0 without a Keep-Alive header or a timeout in it', () => {
    expect(hintOf(undefined)).toBe(0);
    expect(hintOf('max=100')).toBe(0);
    expect(hintOf('xtimeout=7')).toBe(0);
  });

  it('is read from the header in any case and is reset by the next response', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nkeep-alive: timeout=9\r\nContent-Length: 0\r\n\r\n'));
    expect(r.parser.keepAliveHintMs).toBe(9000);
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(r.parser.keepAliveHintMs).toBe(0);
  });
});

describe('informational responses', () => {
  it('reports a 100 head, then parses the final response on the same stream', () => {
    const raw = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    expectSplitInvariant(raw, [head(100, []), head(200, ['Content-Length', '2']), body('ok'), end(true)]);
  });

  it('reports several 103 heads with their headers before the final response', () => {
    const raw =
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    expectSplitInvariant(raw, [
      head(103, ['Link', '</a.css>; rel=preload']),
      head(103, ['Link', '</b.js>; rel=preload']),
      head(201, []),
      body('abc'),
      end(true),
    ]);
  });

  it('stays busy after an informational head, waiting for the final one', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 100 Continue\r\n\r\n'));
    expect(r.events).toEqual([head(100, [])]);
    expect(r.parser.busy).toBe(true);
    expect(r.parser.finish()).toBe(false);
  });

  it('does not let a Connection: close on a 1xx decide the final response', () => {
    const raw = 'HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    expect(parse([raw]).events).toEqual([head(100, []), head(200, ['Content-Length', '0']), end(true)]);
  });

  it('ends a HEAD response after its final head, not after a 1xx', () => {
    const raw = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n';
    expectSplitInvariant(raw, [head(100, []), head(200, ['Content-Length', '7']), end(false)], true);
  });

  it('rejects 101 Switching Protocols, whole or split', () => {
    expectRejected(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'], 'unexpected 101');
    expectRejected('HTTP/1.1 101 Switching Protocols\r\n\r\n'.split(''), 'unexpected 101');
  });
});

describe('rejections', () => {
  it.each([
    ['HTTP/2 200 OK'],
    ['HTTP/2.0 200 OK'],
    ['HTTP/1.2 200 OK'],
    ['http/1.1 200 OK'],
    ['ICY 200 OK'],
    ['HTTP/1.1 20 OK'],
    ['HTTP/1.1 2000 OK'],
    ['HTTP/1.1 099 Low'],
    ['HTTP/1.1  200 OK'],
    ['HTTP/1.1 200OK'],
    ['HTTP/1.1\t200 OK'],
    [' HTTP/1.1 200 OK'],
    ['HTTP/1.1 200 OK\nX: y'],
    [''],
  ])('rejects the status line %j', (line) => {
    expectRejected([`${line}\r\nContent-Length: 0\r\n\r\n`], 'bad status line');
  });

  it('accepts a status line without a reason phrase, with or without the space', () => {
    expect(parse(['HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n']).events).toEqual([head(200, ['Content-Length', '0']), end(true)]);
    expect(parse(['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n']).events).toEqual([head(200, ['Content-Length', '0']), end(true)]);
  });

  it.each([
    ['obs-fold with a space', 'X-A: one\r\n two', 'header line without a name'],
    ['obs-fold with a tab', 'X-A: one\r\n\ttwo', 'header line without a name'],
    ['obs-fold holding a colon', 'X-A: one\r\n x: two', 'bad header name'],
    ['a space before the colon', 'Content-Length : 5', 'bad header name'],
    ['a tab before the colon', 'X-A\t: 5', 'bad header name'],
    ['a space inside the name', 'X A: 5', 'bad header name'],
    ['a non-token character in the name', 'X(A): 5', 'bad header name'],
    ['no colon', 'X-A value', 'header line without a name'],
    ['an empty name', ': value', 'header line without a name'],
    ['conflicting Content-Length values', 'Content-Length: 5\r\nContent-Length: 6', 'conflicting Content-Length'],
    ['a non-numeric Content-Length', 'Content-Length: abc', 'bad Content-Length'],
    ['a negative Content-Length', 'Content-Length: -1', 'bad Content-Length'],
    ['a signed Content-Length', 'Content-Length: +5', 'bad Content-Length'],
    ['a fractional Content-Length', 'Content-Length: 1.5', 'bad Content-Length'],
    ['an empty Content-Length', 'Content-Length: ', 'bad Content-Length'],
    ['a Content-Length list of differing values', 'Content-Length: 5, 6', 'conflicting Content-Length'],
    ['a Content-Length list with an empty element', 'Content-Length: 5,,5', 'bad Content-Length'],
    ['a Content-Length list ending in a comma', 'Content-Length: 5, ', 'bad Content-Length'],
    ['a Content-Length list holding a non-number', 'Content-Length: 5, x', 'bad Content-Length'],
    ['a Content-Length list beside a differing header', 'Content-Length: 5, 5\r\nContent-Length: 6', 'conflicting Content-Length'],
    ['a Content-Length of 16 digits', 'Content-Length: 1000000000000000', 'bad Content-Length'],
    ['a NUL in a value', 'X-A: a\x00b', 'bad character in header X-A'],
    ['a control character in a value', 'X-A: a\x01b', 'bad character in header X-A'],
    ['DEL in a value', 'X-A: a\x7fb', 'bad character in header X-A'],
    ['a bare CR in a value', 'X-A: a\rb', 'bad character in header X-A'],
    ['a bare LF in a value', 'X-A: a\nb', 'bad character in header X-A'],
    ['ESC in a value', 'X-A: \x1b[31m', 'bad character in header X-A'],
  ])('rejects a head with %s, whole and byte by byte', (_what, lines, detail) => {
    const raw = `HTTP/1.1 200 OK\r\n${lines}\r\n\r\nhello`;
    expectRejected([raw], detail);
    expectRejected(raw.split(''), detail);
  });

  it('rejects an empty header line before the end of the head', () => {
    // A lone CRLF would end the head; "\r\n\r\n\r\n" cannot reach the header loop, but a line of only
    // whitespace is a line without a name.
    expectRejected(['HTTP/1.1 200 OK\r\n \r\nContent-Length: 0\r\n\r\n'], 'header line without a name');
  });

  it('collapses identical duplicate Content-Length headers, leading zeros included, into the first (RFC 9110 section 8.6)', () => {
    // Relayed twice, node's and undici's clients refuse the answer; the length is the same, so one is kept.
    const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\ncontent-length: 005\r\n\r\nhello';
    expectSplitInvariant(raw, [head(200, ['Content-Length', '5', 'X-A', 'b']), body('hello'), end(true)]);
  });

  it('collapses a Content-Length list of one value repeated into that value', () => {
    expectSplitInvariant('HTTP/1.1 200 OK\r\nContent-Length: 5, 5,005\r\n\r\nhello', [head(200, ['Content-Length', '5']), body('hello'), end(true)]);
    const withHeader = 'HTTP/1.1 200 OK\r\nContent-Length: 2 , 2\r\nContent-Length: 2\r\n\r\nok';
    expectSplitInvariant(withHeader, [head(200, ['Content-Length', '2']), body('ok'), end(true)]);
  });

  it('rejects conflicting Content-Length values in a 1xx, a 204 and a HEAD response too', () => {
    const cl = 'Content-Length: 5\r\nContent-Length: 6\r\n\r\n';
    expectRejected([`HTTP/1.1 103 Early Hints\r\n${cl}`], 'conflicting Content-Length');
    expectRejected([`HTTP/1.1 204 No Content\r\n${cl}`], 'conflicting Content-Length');
    expectRejected([`HTTP/1.1 200 OK\r\n${cl}`], 'conflicting Content-Length', true);
  });

  it('exports MAX_HEAD_BYTES as 16 KiB', () => {
    expect(MAX_HEAD_BYTES).toBe(16 * 1024);
  });

  it('rejects a head larger than MAX_HEAD_BYTES, complete in one read', () => {
    const raw = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\nContent-Length: 0\r\n\r\n`;
    expectRejected([raw], 'response head too large');
  });

  it('rejects a head larger than MAX_HEAD_BYTES as soon as it passes the limit, without waiting for its end', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nX-Big: '));
    const piece = bytes('a'.repeat(1024));
    let fed = 'HTTP/1.1 200 OK\r\nX-Big: '.length;
    const err = parseError(() => {
      for (;;) {
        r.parser.execute(piece);
        fed += piece.length;
      }
    });
    expect(err.message).toContain('response head too large');
    expect(fed).toBeLessThanOrEqual(MAX_HEAD_BYTES);
    expect(fed + piece.length).toBeGreaterThan(MAX_HEAD_BYTES);
    expect(r.events).toEqual([]);
  });

  it('accepts a head just under MAX_HEAD_BYTES', () => {
    const prefix = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: ';
    const value = 'a'.repeat(MAX_HEAD_BYTES - 100 - prefix.length);
    const raw = `${prefix}${value}\r\n\r\n`;
    const expected = [head(200, ['Content-Length', '0', 'X-Big', value]), end(true)];
    expect(parse([raw]).events).toEqual(expected);
    expect(parse(cut(raw, [1000, 9000, raw.length - 1])).events).toEqual(expected);
  });
});

describe('size limits do not depend on how the reads split the bytes', () => {
  /** 'ok' with the events, or 'rejected' (messages may differ), for `raw` cut at `at`. */
  function outcome(raw: string, at: number[]): string {
    const { parser, events } = recorder();
    parser.start(false);
    try {
      for (const p of cut(raw, at)) parser.execute(bytes(p));
    } catch (err) {
      expect(err).toBeInstanceOf(ResponseParseError);
      return 'rejected';
    }
    return `ok ${JSON.stringify(merged(events))}`;
  }

  /** Each split point near the end of `raw` whose outcome differs from feeding `raw` whole. */
  function disagreements(raw: string, from: number): { at: number; whole: string; split: string }[] {
    const whole = outcome(raw, []);
    const out: { at: number; whole: string; split: string }[] = [];
    for (let i = from; i <= raw.length; i++) {
      const split = outcome(raw, [i]);
      if (split !== whole) out.push({ at: i, whole: whole.slice(0, 2), split });
    }
    return out;
  }

  it('response heads around MAX_HEAD_BYTES', () => {
    // A head whose lines before the blank line take exactly MAX_HEAD_BYTES is accepted in one read;
    // delivered in two reads with the cut inside its final CRLFCRLF it must not be rejected instead,
    // or whether a worker's response gets a 502 depends on TCP segmentation.
    const prefix = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: ';
    const found: { size: number; at: number; whole: string; split: string }[] = [];
    for (let size = MAX_HEAD_BYTES - 2; size <= MAX_HEAD_BYTES + 2; size++) {
      const raw = `${prefix}${'a'.repeat(size - prefix.length)}\r\n\r\n`;
      for (const d of disagreements(raw, raw.length - 8)) found.push({ size, ...d });
    }
    expect(found).toEqual([]);
  });

  it('chunk size lines around their length limit', () => {
    const te = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const found: { size: number; at: number; whole: string; split: string }[] = [];
    for (let size = 1020; size <= 1028; size++) {
      const line = `1;${'e'.repeat(size - 2)}`;
      const raw = `${te}${line}\r\nx\r\n0\r\n\r\n`;
      for (const d of disagreements(raw, te.length + line.length - 4)) found.push({ size, ...d });
    }
    expect(found).toEqual([]);
  });

  it('trailer lines longer than MAX_HEAD_BYTES', () => {
    // Trailers are limited only while a line is incomplete: one read holding the whole line passes.
    const prefix = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n';
    const trailer = `X-Trailer: ${'t'.repeat(MAX_HEAD_BYTES + 10)}`;
    const raw = `${prefix}${trailer}\r\n\r\n`;
    expect(disagreements(raw, raw.length - 8)).toEqual([]);
  });
});

describe('header reporting', () => {
  it('reports names in their original case and order, duplicates kept, values trimmed of spaces and tabs', () => {
    const raw =
      'HTTP/1.1 404 Not Found\r\n' +
      'X-First:   padded  \r\n' +
      'content-TYPE:\ttext/plain\t\r\n' +
      'Set-Cookie: a=1\r\n' +
      'X-Empty:\r\n' +
      'X-Blank: \t \r\n' +
      'set-cookie: b=2\r\n' +
      'X-Inner: a  \t b\r\n' +
      'X-Latin: caf\xe9\r\n' +
      'Content-Length: 0\r\n\r\n';
    expectSplitInvariant(raw, [
      head(404, [
        'X-First',
        'padded',
        'content-TYPE',
        'text/plain',
        'Set-Cookie',
        'a=1',
        'X-Empty',
        '',
        'X-Blank',
        '',
        'set-cookie',
        'b=2',
        'X-Inner',
        'a  \t b',
        'X-Latin',
        'caf\xe9',
        'Content-Length',
        '0',
      ]),
      end(true),
    ]);
  });

  it('leaves out hop-by-hop headers and keeps end-to-end ones, in order and original case', () => {
    const raw =
      'HTTP/1.1 200 OK\r\n' +
      'Content-Type: text/plain\r\n' +
      'Connection: keep-alive\r\n' +
      'Keep-Alive: timeout=5\r\n' +
      'Proxy-Authenticate: Basic\r\n' +
      'Proxy-Connection: keep-alive\r\n' +
      'Trailer: x-checksum\r\n' +
      'Upgrade: h2c\r\n' +
      'TE: trailers\r\n' +
      'X-Request-Id: abc\r\n' +
      'X-Trace-Id: same length as Connection\r\n' +
      'Content-Length: 5\r\n\r\nhello';
    expectSplitInvariant(raw, [
      head(200, ['Content-Type', 'text/plain', 'X-Request-Id', 'abc', 'X-Trace-Id', 'same length as Connection', 'Content-Length', '5']),
      body('hello'),
      end(true),
    ]);
  });

  it('leaves out the headers a Connection header names, whatever their case there, across several Connection headers', () => {
    const raw =
      'HTTP/1.1 200 OK\r\n' +
      'connection: keep-alive, X-Upstream-Private\r\n' +
      'x-upstream-private: secret\r\n' +
      'Connection: x-b\r\n' +
      'X-B: 2\r\n' +
      'x-public: ok\r\n' +
      'Content-Length: 0\r\n\r\n';
    expectSplitInvariant(raw, [head(200, ['x-public', 'ok', 'Content-Length', '0']), end(true)]);
  });

  it('never lets a Connection header remove Content-Length', () => {
    const raw = 'HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nok';
    expectSplitInvariant(raw, [head(200, ['Content-Length', '2']), body('ok'), end(true)]);
  });

  it('reports a head with no header fields as an empty list', () => {
    expect(parse(['HTTP/1.1 204 No Content\r\n\r\n']).events).toEqual([head(204, []), end(true)]);
  });

  it('passes any three-digit status through', () => {
    for (const status of [200, 201, 299, 302, 404, 418, 500, 503, 599]) {
      expect(parse([`HTTP/1.1 ${status} Whatever Reason\r\nContent-Length: 0\r\n\r\n`]).events).toEqual([head(status, ['Content-Length', '0']), end(true)]);
    }
  });
});

describe('reuse', () => {
  it('parses another response after start() again, with its own framing and keep-alive decision', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=4\r\nContent-Length: 3\r\n\r\nabc'));
    expect(r.parser.busy).toBe(false);
    expect(r.parser.keepAliveHintMs).toBe(4000);

    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n'));
    r.parser.start(true);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'));
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nf'));
    expect(r.events).toEqual([
      head(200, ['Content-Length', '3']),
      body('abc'),
      end(true),
      head(201, []),
      body('de'),
      end(true),
      head(200, ['Content-Length', '50']),
      end(false), // a HEAD answer: never reused
      head(200, ['Content-Length', '1']),
      body('f'),
      end(false),
    ]);
    expect(r.parser.keepAliveHintMs).toBe(0);
  });

  it('forgets a HEAD request once the next start() says otherwise', () => {
    const r = recorder();
    r.parser.start(true);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n'));
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    expect(r.events).toEqual([head(200, ['Content-Length', '2']), end(false), head(200, ['Content-Length', '2']), body('ok'), end(true)]);
  });

  it('forgets an HTTP/1.0 or Connection: close decision at the next start()', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(r.events.filter((e) => e.type === 'end')).toEqual([end(false), end(true)]);
  });

  it('drops a partial head when start() is called again', () => {
    const r = recorder();
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 500 Internal'));
    r.parser.start(false);
    r.parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(r.events).toEqual([head(200, ['Content-Length', '0']), end(true)]);
  });
});

describe('randomized differential', () => {
  const STATUSES = [200, 201, 404, 500];
  const NAMES = ['X-Request-Id', 'Content-Type', 'cache-control', 'ETag', 'Vary', 'X-A', 'set-cookie', 'Server', 'x-trace', 'X-Trace-Id', 'X-Upgrade'];
  /** Read and left out of the headers handed over; none of them changes the framing or keep-alive. */
  const HOP_BY_HOP_NAMES = ['Keep-Alive', 'Proxy-Connection', 'Trailer', 'te'];
  const VALUE_CHARS = 'abcXYZ0189 -_./;=,"()\t\x80\xe9\xff';

  /** A response with random status, headers, body and framing, and what the parser must report for it. */
  function generate(random: () => number) {
    const int = (n: number) => Math.floor(random() * n);
    const status = STATUSES[int(STATUSES.length)];
    const headers: string[] = [];
    const wire: string[] = [];
    for (let i = int(6); i > 0; i--) {
      const name = NAMES[int(NAMES.length)];
      let value = '';
      for (let k = int(20); k > 0; k--) value += VALUE_CHARS[int(VALUE_CHARS.length)];
      const ows = () => [' ', '', '\t', '  '][int(4)];
      wire.push(`${name}:${ows()}${value}${ows()}`);
      headers.push(name, value.replace(/^[ \t]+|[ \t]+$/g, ''));
    }
    let payload = '';
    for (let k = int(3001); k > 0; k--) payload += String.fromCharCode(int(256));

    let bodyWire = '';
    const framingAt = int(wire.length + 1);
    if (random() < 0.5) {
      const line = `Content-Length: ${payload.length}`;
      wire.splice(framingAt, 0, line);
      headers.splice(framingAt * 2, 0, 'Content-Length', String(payload.length));
      bodyWire = payload;
    } else {
      // Hop-by-hop: it frames the body and is not among the headers handed over.
      wire.splice(framingAt, 0, 'Transfer-Encoding: chunked');
      for (let from = 0; from < payload.length;) {
        const size = Math.min(payload.length - from, 1 + int(random() < 0.3 ? 16 : 1200));
        const hex = random() < 0.5 ? size.toString(16) : size.toString(16).toUpperCase();
        const ext = random() < 0.2 ? ';foo=bar' : '';
        bodyWire += `${hex}${ext}\r\n${payload.slice(from, from + size)}\r\n`;
        from += size;
      }
      bodyWire += random() < 0.3 ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n';
    }
    // Hop-by-hop lines anywhere, after the framing line went in where `headers` expects it.
    for (let i = int(3); i > 0; i--) wire.splice(int(wire.length + 1), 0, `${HOP_BY_HOP_NAMES[int(HOP_BY_HOP_NAMES.length)]}: x`);
    const raw = `HTTP/1.1 ${status} Reason\r\n${wire.map((l) => `${l}\r\n`).join('')}\r\n${bodyWire}`;
    return { raw, status, headers, payload };
  }

  /** Cut points for `length` bytes: none, every byte, or a random handful. */
  function splits(random: () => number, length: number): number[] {
    const kind = random();
    if (kind < 0.1) return [];
    if (kind < 0.15) return Array.from({ length: length - 1 }, (_, i) => i + 1);
    const at = new Set<number>();
    for (let n = Math.floor(random() * 30); n > 0; n--) at.add(Math.floor(random() * (length + 1)));
    return [...at].sort((a, b) => a - b);
  }

  it('reports exactly the generated status, headers and body for 200 random responses in random splits', () => {
    const random = mulberry32(20240611);
    for (let n = 0; n < 200; n++) {
      const { raw, status, headers, payload } = generate(random);
      const at = splits(random, raw.length);
      const expected = payload === '' ? [head(status, headers), end(true)] : [head(status, headers), body(payload), end(true)];
      const { events, parser } = parse(cut(raw, at));
      expect({ n, at, events }).toEqual({ n, at, events: expected });
      expect(parser.busy).toBe(false);
    }
  });
});
