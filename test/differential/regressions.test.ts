import { parseRequestHead } from '../../balancer/listener/request-head';
import { ResponseParseError } from '../../balancer/upstream/response-parser';
import { llhttpParse } from './llhttp';
import { createRequestCheck, DEFAULT_MAX_REQUEST_HEADERS } from '../../balancer/proxy/check-request';
import { TrustPolicy } from '../../balancer/proxy/forwarding';
import { buildUpstreamRequest } from '../../balancer/proxy/upstream-request';
import { nodePathRequest, responseReading } from './ours';
import { requestDivergences, responseDivergences } from './properties';

/**
 * Divergences from llhttp the differential suite found, one named case each: the input, what ours now
 * does with it, and that the property holds.
 */

const bytes = (s: string) => Buffer.from(s, 'latin1');
const head = (...lines: string[]) => lines.join('\r\n');
const answer = (text: string) => responseReading([bytes(text)], false);

describe('fast path: a request llhttp refuses is handed over, not served', () => {
  it.each([
    ['a method llhttp does not know (GGET)', 'GGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a method llhttp does not know after a served request', 'GET / HTTP/1.1\r\nHost: a\r\n\r\nPOT /b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a tab after the Content-Length digits', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\t\r\n\r\nhi'],
    ['a tab and a space after the Content-Length digits', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\t \r\n\r\nhi'],
  ])('%s', (_what, input) => {
    expect(llhttpParse('request', [bytes(input)]).error).toBeDefined();
    expect(requestDivergences(bytes(input), [])).toEqual([]);
  });

  it('still serves the methods llhttp knows, and Content-Length with spaces around it', () => {
    expect(parseRequestHead(head('PURGE /x HTTP/1.1', 'Host: a'))).toMatchObject({ method: 'PURGE' });
    expect(parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length:\t 2  '))).toMatchObject({ contentLength: 2 });
  });
});

describe('worker answers llhttp frames otherwise are refused (502)', () => {
  it.each([
    ['Transfer-Encoding: chunked followed by a tab (llhttp: not chunked)', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    [
      'Transfer-Encoding: NBSP chunked (JS trim() takes U+00A0 for space; llhttp does not)',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding:\u00a0chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    ],
    ['a tab after the Content-Length digits', 'HTTP/1.1 200 OK\r\nContent-Length: 2\t\r\n\r\nhi'],
    ['a space after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n'],
    ['a chunk extension without a name', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n'],
    ['a chunk extension with spaces', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3; a = b\r\nabc\r\n0\r\n\r\n'],
    ['an unbalanced quote in a chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b\r\nabc\r\n0\r\n\r\n'],
    ['a comma in a chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b,c\r\nabc\r\n0\r\n\r\n'],
    ['a trailer line that is not a field line', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\nX: 1\r\n\r\n'],
    [
      'an HTTP/1.0 interim answer, after which llhttp reads the rest as data after the close',
      'HTTP/1.0 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
    ],
    ['a trailer with a space before its colon', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX : 1\r\n\r\n'],
  ])('%s', (_what, input) => {
    expect(answer(input).error).toMatch(new ResponseParseError('').message);
    expect(responseDivergences(bytes(input), [], false)).toEqual([]);
  });

  it('still reads chunk extensions llhttp reads (token, token=token, token="quoted") and field-line trailers', () => {
    const r = answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a;b=c;d="e f\\"g"\r\nabc\r\n0\r\nX-T: 1\r\n\r\n');
    expect([r.error, r.body, r.end]).toEqual([undefined, 'abc', { keepAlive: true }]);
  });
});

describe('worker answers: headers relayed as llhttp reads them', () => {
  it('drops Content-Length beside Transfer-Encoding from an interim (1xx) answer too, as from a final one', () => {
    const input = 'HTTP/1.1 103 Early Hints\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n';
    expect(answer(input).heads[0]).toEqual({ status: 103, headers: ['Link', '</a>'] });
    expect(responseDivergences(bytes(input), [], false)).toEqual([]);
  });
});

describe('worker answers: connection reuse as llhttp decides it', () => {
  it('does not reuse an HTTP/1.0 connection whose keep-alive token has a tab after it, which llhttp does not read as keep-alive', () => {
    const input = 'HTTP/1.0 200 OK\r\nConnection: keep-alive\t\r\nContent-Length: 2\r\n\r\nhi';
    expect(answer(input).end).toEqual({ keepAlive: false });
    expect(responseDivergences(bytes(input), [], false)).toEqual([]);
  });

  it('does not reuse a connection after Proxy-Connection: close, which llhttp reads as Connection: close', () => {
    const input = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nProxy-Connection: close\r\n\r\nhi';
    expect(answer(input).end).toEqual({ keepAlive: false });
    expect(responseDivergences(bytes(input), [], false)).toEqual([]);
  });
});

/**
 * Issue 11 finding 1: node:http accepts an empty Transfer-Encoding beside Content-Length and frames by
 * Content-Length, and buildUpstreamRequest re-chunks the body while keeping Content-Length. The
 * proxy's check step (check-request.ts) refuses it, so the worker never gets both framings.
 */
describe('both framings for an empty Transfer-Encoding never go upstream', () => {
  it.each([
    ['empty', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello'],
    ['spaces only', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:   \r\nContent-Length: 5\r\n\r\nhello'],
  ])('Transfer-Encoding %s, Content-Length: 5: node:http reads it, the check step refuses it', (_what, input) => {
    const read = llhttpParse('request', [bytes(input)]).messages[0];
    expect(read?.complete).toBe(true);
    const built = buildUpstreamRequest(nodePathRequest(read), '203.0.113.7', new TrustPolicy(''));
    expect(createRequestCheck(DEFAULT_MAX_REQUEST_HEADERS)(built)).toMatchObject({ status: 400, code: 'ambiguous_framing' });
    expect(requestDivergences(bytes(input), [])).toEqual([]);
  });
});
