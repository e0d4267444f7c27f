import { parseRequestHead, type RequestHead } from '../../../../balancer/listener/request-head';

/** A request head as the connection hands it to the parser: the lines before the blank line, CRLF-joined. */
const head = (...lines: string[]) => lines.join('\r\n');

/** Parses `text` and fails the test with the reason when the parser hands it over instead. */
function accepted(text: string): RequestHead {
  const result = parseRequestHead(text);
  if (typeof result === 'string') throw new Error(`handed over (${result}): ${JSON.stringify(text)}`);
  return result;
}

describe('parseRequestHead: heads the listener serves itself', () => {
  it('reads method, url, raw headers, no body and keep-alive from a plain GET', () => {
    expect(parseRequestHead(head('GET /items/3?force=1&q=a%20b HTTP/1.1', 'Host: shop.example'))).toEqual({
      method: 'GET',
      url: '/items/3?force=1&q=a%20b',
      rawHeaders: ['Host', 'shop.example'],
      contentLength: 0,
      keepAlive: true,
    });
  });

  it('keeps header names in their original case and order, repeats included, with values trimmed of spaces and tabs', () => {
    const parsed = accepted(
      head(
        'GET / HTTP/1.1',
        'X-Request-ID:\tabc-123\t',
        'host:   shop.example:8080   ',
        'accept:text/html',
        'Cookie: a=1',
        'X-Empty:',
        'X-Inner:  a \t b  ',
        'Cookie: b=2',
        'X-MiXeD-CaSe: Kept As Sent',
      ),
    );
    expect(parsed.rawHeaders).toEqual([
      'X-Request-ID',
      'abc-123',
      'host',
      'shop.example:8080',
      'accept',
      'text/html',
      'Cookie',
      'a=1',
      'X-Empty',
      '',
      'X-Inner',
      'a \t b',
      'Cookie',
      'b=2',
      'X-MiXeD-CaSe',
      'Kept As Sent',
    ]);
  });

  it('accepts obs-text (bytes 0x80-0xff, read as latin1) inside a value', () => {
    expect(accepted(head('GET / HTTP/1.1', 'Host: a', 'X-Name: caf\u00e9')).rawHeaders).toEqual(['Host', 'a', 'X-Name', 'caf\u00e9']);
  });

  it.each([
    ['GET', '/'],
    ['HEAD', '/head'],
    ['POST', '/upload'],
    ['PUT', '/items/3'],
    ['DELETE', '/items/3'],
    ['PATCH', '/items/3'],
    ['OPTIONS', '/cors'],
    ['PROPFIND', '/dav/'],
  ])('accepts the method %s with an origin-form target', (method, url) => {
    const parsed = accepted(head(`${method} ${url} HTTP/1.1`, 'Host: a'));
    expect(parsed.method).toBe(method);
    expect(parsed.url).toBe(url);
  });

  it.each([
    ['42', 42],
    ['0', 0],
    ['  17 ', 17],
    ['007', 7],
    ['999999999999999', 999_999_999_999_999],
  ])('reads Content-Length %p as %p', (value, length) => {
    expect(accepted(head('POST /upload HTTP/1.1', 'Host: a', `Content-Length: ${value}`)).contentLength).toBe(length);
  });

  it('reads Content-Length whatever the case of its name', () => {
    expect(accepted(head('PUT /x HTTP/1.1', 'content-LENGTH: 5', 'Host: a')).contentLength).toBe(5);
  });

  it.each([
    ['Connection: close'],
    ['connection: CLOSE'],
    ['CONNECTION: Close'],
    ['Connection: keep-alive, close'],
    ['Connection: close, X-Private'],
    ['Connection: x-a,close'],
    ['Connection: x-a ,\tclose\t'],
    ['Connection: te,close,x-b'],
  ])('is not keep-alive with %p', (line) => {
    const parsed = accepted(head('GET / HTTP/1.1', 'Host: a', line));
    expect(parsed.keepAlive).toBe(false);
    expect(parsed.rawHeaders).toContain(line.slice(0, line.indexOf(':')));
  });

  it('is not keep-alive when close is in a second Connection line', () => {
    expect(accepted(head('GET / HTTP/1.1', 'Connection: keep-alive', 'Host: a', 'Connection: close')).keepAlive).toBe(false);
  });

  it.each([
    ['no Connection header', []],
    ['Connection: keep-alive', ['Connection: keep-alive']],
    ['Connection naming another header', ['Connection: X-Private', 'X-Private: 1']],
    ['a token that only contains "close"', ['Connection: closed, x-close, close-later']],
  ])('is keep-alive with %s', (_what, lines) => {
    expect(accepted(head('GET / HTTP/1.1', 'Host: a', ...lines)).keepAlive).toBe(true);
  });
});

/**
 * Every head outside the strict subset comes back as a reason string: the connection then goes to
 * node:http. The reason's wording is checked loosely, to show which rule refused the head.
 */
describe('parseRequestHead: heads handed over to node:http', () => {
  it.each<[string, string, RegExp]>([
    // Request line.
    ['HTTP/1.0', head('GET / HTTP/1.0', 'Host: a'), /request line/],
    ['HTTP/1.0 without Host', head('GET / HTTP/1.0'), /request line/],
    ['another minor version', head('GET / HTTP/1.2', 'Host: a'), /request line/],
    ['HTTP/2.0', head('GET / HTTP/2.0', 'Host: a'), /request line/],
    ['a lower-case version', head('GET / http/1.1', 'Host: a'), /request line/],
    ['absolute-form target', head('GET http://shop.example/ HTTP/1.1', 'Host: shop.example'), /request line/],
    ['asterisk-form OPTIONS *', head('OPTIONS * HTTP/1.1', 'Host: a'), /request line/],
    ['CONNECT authority-form', head('CONNECT shop.example:443 HTTP/1.1', 'Host: shop.example:443'), /request line/],
    ['a lower-case method', head('get / HTTP/1.1', 'Host: a'), /request line/],
    ['a mixed-case method', head('Get / HTTP/1.1', 'Host: a'), /request line/],
    ['a method with a non-letter', head('M-SEARCH / HTTP/1.1', 'Host: a'), /request line/],
    ['two spaces after the method', head('GET  / HTTP/1.1', 'Host: a'), /request line/],
    ['a space inside the target', head('GET /a b HTTP/1.1', 'Host: a'), /request line/],
    ['a trailing space after the version', head('GET / HTTP/1.1 ', 'Host: a'), /request line/],
    ['no version (HTTP/0.9)', head('GET /', 'Host: a'), /request line/],
    ['an empty line before the request line', head('', 'GET / HTTP/1.1', 'Host: a'), /request line/],
    ['an empty head', '', /request line/],
    // Framing and protocol switches node:http handles.
    ['Transfer-Encoding: chunked', head('POST /upload HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'), /Transfer-Encoding/],
    ['transfer-encoding in lower case', head('POST /upload HTTP/1.1', 'Host: a', 'transfer-encoding: identity'), /Transfer-Encoding/],
    ['Transfer-Encoding with Content-Length', head('POST /upload HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked'), /Transfer-Encoding/],
    ['Upgrade', head('GET /ws HTTP/1.1', 'Host: a', 'Upgrade: websocket'), /Upgrade/],
    ['Connection: upgrade', head('GET /ws HTTP/1.1', 'Host: a', 'Connection: Upgrade'), /upgrade/i],
    ['Connection: keep-alive, Upgrade', head('GET /ws HTTP/1.1', 'Host: a', 'connection: keep-alive, UPGRADE'), /upgrade/i],
    ['Expect: 100-continue', head('PUT /x HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Expect: 100-continue'), /Expect/],
    ['Expect in lower case', head('PUT /x HTTP/1.1', 'Host: a', 'expect: 100-continue'), /Expect/],
    // Host.
    ['a missing Host', head('GET / HTTP/1.1', 'Accept: */*'), /Host/],
    ['no headers at all', head('GET / HTTP/1.1'), /Host/],
    ['two Host headers', head('GET / HTTP/1.1', 'Host: a', 'Host: b'), /Host/],
    ['two equal Host headers', head('GET / HTTP/1.1', 'Host: a', 'host: a'), /Host/],
    // Content-Length.
    ['two Content-Length headers', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6'), /Content-Length/],
    ['two equal Content-Length headers', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'content-length: 5'), /Content-Length/],
    ['a Content-Length list', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5, 5'), /Content-Length/],
    ['a non-numeric Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: abc'), /Content-Length/],
    ['digits then letters', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5a'), /Content-Length/],
    ['a hex Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0x10'), /Content-Length/],
    ['an exponent', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1e3'), /Content-Length/],
    ['a decimal point', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5.0'), /Content-Length/],
    ['a plus sign', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: +5'), /Content-Length/],
    ['a minus sign', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: -1'), /Content-Length/],
    ['an empty Content-Length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length:'), /Content-Length/],
    ['a space inside the digits', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1 0'), /Content-Length/],
    ['16 digits (beyond what a JS number holds exactly)', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 9007199254740993'), /Content-Length/],
    // Header syntax.
    ['a space before the colon', head('GET / HTTP/1.1', 'Host : a'), /name/],
    ['a tab before the colon', head('GET / HTTP/1.1', 'Host: a', 'X-A\t: b'), /name/],
    ['a space before a Content-Length colon', head('POST / HTTP/1.1', 'Host: a', 'Content-Length : 5'), /name/],
    ['a space inside a name', head('GET / HTTP/1.1', 'Host: a', 'X A: b'), /name/],
    ['a separator inside a name', head('GET / HTTP/1.1', 'Host: a', 'X(a): b'), /name/],
    ['a non-ASCII name', head('GET / HTTP/1.1', 'Host: a', 'X-\u00e9: b'), /name/],
    ['an obs-fold line (space)', head('GET / HTTP/1.1', 'Host: a', 'X-Long: first', ' second'), /name/],
    ['an obs-fold line (tab)', head('GET / HTTP/1.1', 'Host: a', 'X-Long: first', '\tsecond: part'), /name/],
    ['an empty header name', head('GET / HTTP/1.1', 'Host: a', ': value'), /name/],
    ['a line without a colon', head('GET / HTTP/1.1', 'Host: a', 'NoColonHere'), /name/],
    ['an empty line inside the head', head('GET / HTTP/1.1', 'Host: a', '', 'X-A: b'), /name/],
    // Characters.
    ['a NUL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\u0000c'), /control/],
    ['a control character in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\u0001c'), /control/],
    ['DEL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: b\u007fc'), /control/],
    ['an escape in a name', head('GET / HTTP/1.1', 'Host: a', 'X-\u001bA: b'), /control/],
    ['a control character in the target', head('GET /a\u0007 HTTP/1.1', 'Host: a'), /control/],
    ['a bare LF between header lines', head('GET / HTTP/1.1', 'Host: a\nX-Smuggled: 1'), /control/],
    ['a bare LF after the request line', 'GET / HTTP/1.1\nHost: a', /control/],
    ['a bare LF at the end', head('GET / HTTP/1.1', 'Host: a\n'), /control/],
    ['a bare CR inside a value', head('GET / HTTP/1.1', 'Host: a\rX-Smuggled: 1'), /control/],
    ['a bare CR at the end', head('GET / HTTP/1.1', 'Host: a\r'), /control/],
  ])('hands over %s', (_what, text, reason) => {
    const result = parseRequestHead(text);
    expect(typeof result).toBe('string');
    expect(result).toMatch(reason);
  });
});
