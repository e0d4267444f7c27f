import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createRequestCheck, type RequestFacts } from '../../../../balancer/proxy/check-request';
import { fromIncomingMessage } from '../../../../balancer/proxy/client-types';
import { TrustPolicy } from '../../../../balancer/proxy/forwarding';
import { buildUpstreamRequest } from '../../../../balancer/proxy/upstream-request';

const MAX = 100;
const check = createRequestCheck(MAX);

const plain: RequestFacts = {
  headerCount: 1,
  hostCount: 1,
  contentLengthCount: 0,
  transferEncodingCount: 0,
  transferEncoding: '',
  httpVersionMinor: 1,
  invalidTarget: false,
};

describe('checkRequest on its own', () => {
  it('lets a plain request, a Content-Length one and a lone chunked one through', () => {
    expect(check(plain)).toBeUndefined();
    expect(check({ ...plain, contentLengthCount: 1 })).toBeUndefined();
    expect(check({ ...plain, transferEncodingCount: 1, transferEncoding: 'chunked' })).toBeUndefined();
    expect(check({ ...plain, transferEncodingCount: 1, transferEncoding: 'Chunked' })).toBeUndefined();
  });

  it.each<[string, Partial<RequestFacts>, number, string]>([
    ['an empty Transfer-Encoding beside Content-Length', { transferEncodingCount: 1, transferEncoding: '', contentLengthCount: 1 }, 400, 'ambiguous_framing'],
    ['an empty Transfer-Encoding alone', { transferEncodingCount: 1, transferEncoding: ' ' }, 400, 'ambiguous_framing'],
    ['chunked beside Content-Length', { transferEncodingCount: 1, transferEncoding: 'chunked', contentLengthCount: 1 }, 400, 'ambiguous_framing'],
    ['two Transfer-Encoding lines', { transferEncodingCount: 2, transferEncoding: 'chunked' }, 400, 'ambiguous_framing'],
    ['two Content-Length lines', { contentLengthCount: 2 }, 400, 'ambiguous_framing'],
    ['chunked in HTTP/1.0', { transferEncodingCount: 1, transferEncoding: 'chunked', httpVersionMinor: 0 }, 400, 'ambiguous_framing'],
    ['gzip, chunked', { transferEncodingCount: 1, transferEncoding: 'gzip, chunked' }, 501, 'unsupported_transfer_coding'],
    ['identity', { transferEncodingCount: 1, transferEncoding: 'identity' }, 501, 'unsupported_transfer_coding'],
    ['two Hosts', { hostCount: 2 }, 400, 'invalid_host'],
    ['no Host in HTTP/1.1', { hostCount: 0 }, 400, 'invalid_host'],
    ['no Host from the listener (HTTP/1.1)', { hostCount: 0, httpVersionMinor: undefined }, 400, 'invalid_host'],
    ['an invalid absolute-form target', { invalidTarget: true }, 400, 'invalid_target'],
    ['one header field more than the cap', { headerCount: MAX + 1 }, 431, 'too_many_headers'],
  ])('refuses %s', (_what, facts, status, code) => {
    expect(check({ ...plain, ...facts })).toMatchObject({ status, code, closeConnection: true });
  });

  it('lets exactly the cap through, and an HTTP/1.0 request without Host', () => {
    expect(check({ ...plain, headerCount: MAX })).toBeUndefined();
    expect(check({ ...plain, hostCount: 0, httpVersionMinor: 0 })).toBeUndefined();
  });
});

/**
 * The same check on what node's own parser (llhttp) made of real bytes, through the path the
 * balancer's node:http fallback takes: the verdict is node's refusal, the check's, or "forwarded"
 * with the framing the worker would be sent.
 */
describe('checkRequest after llhttp', () => {
  let server: Server;
  let port: number;
  let seen: IncomingMessage | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen = req;
      req.resume();
      req.on('end', () => res.end());
    });
    server.maxHeadersCount = MAX + 1; // as balancer/index.ts sets it
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** What becomes of `head` (+ `body`): 'node refuses', the check's error code, or the framing sent upstream. */
  async function verdict(head: string, body = ''): Promise<string> {
    seen = undefined;
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\n${body}`, 'latin1'));
      socket.resume();
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    if (seen === undefined) return 'node refuses';
    const up = buildUpstreamRequest(fromIncomingMessage(seen), '127.0.0.1', new TrustPolicy(''));
    const refusal = check(up);
    if (refusal !== undefined) return refusal.code;
    const lengths = up.headers.filter((_, i) => i % 2 === 0 && up.headers[i].toLowerCase() === 'content-length').length;
    return up.chunked ? (lengths === 0 ? 'chunked' : 'chunked + content-length') : `content-length x${lengths}`;
  }

  const post = (lines: string) => `POST / HTTP/1.1\r\nHost: x\r\n${lines}`;

  it.each([
    ['empty Transfer-Encoding + Content-Length', post('Transfer-Encoding:\r\nContent-Length: 5\r\n'), 'hello', 'ambiguous_framing'],
    ['blank Transfer-Encoding + Content-Length', post('Transfer-Encoding:   \r\nContent-Length: 5\r\n'), 'hello', 'ambiguous_framing'],
    ['chunked + Content-Length', post('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'node refuses'],
    ['identity + Content-Length', post('Transfer-Encoding: identity\r\nContent-Length: 5\r\n'), 'hello', 'node refuses'],
    ['gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'unsupported_transfer_coding'],
    ['chunked, gzip', post('Transfer-Encoding: chunked, gzip\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'node refuses'],
    ['gzip and chunked on two lines', post('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'ambiguous_framing'],
    ['chunked and an empty line', post('Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'ambiguous_framing'],
    ['leading comma', post('Transfer-Encoding: ,chunked\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'unsupported_transfer_coding'],
    ['CHUNKED', post('Transfer-Encoding: CHUNKED\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'chunked'],
    ['tab before chunked', post('Transfer-Encoding:\tchunked\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'chunked'],
    ['chunked', post('Transfer-Encoding: chunked\r\n'), '5\r\nhello\r\n0\r\n\r\n', 'chunked'],
    ['HTTP/1.0 chunked', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n', 'ambiguous_framing'],
    ['Content-Length', post('Content-Length: 5\r\n'), 'hello', 'content-length x1'],
    ['two equal Content-Lengths', post('Content-Length: 5\r\nContent-Length: 5\r\n'), 'hello', 'node refuses'],
    ['two Hosts', post('Host: y\r\n'), '', 'invalid_host'],
    ['no Host', 'GET / HTTP/1.1\r\n', '', 'node refuses'],
    ['absolute-form with another Host', 'GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n', '', 'content-length x0'],
    ['absolute-form ftp', 'GET ftp://a.example/x HTTP/1.1\r\nHost: a.example\r\n', '', 'invalid_target'],
  ])('%s', async (_name, head, body, expected) => {
    expect(await verdict(head, body)).toBe(expected);
  });

  it('refuses a request over the header cap with 431, however far past it (node cuts its list at cap + 1)', async () => {
    for (const extra of [MAX, MAX + 31, 1_000]) {
      let lines = '';
      for (let i = 0; i < extra; i++) lines += `x-filler-${i}: 1\r\n`;
      expect(await verdict(`GET / HTTP/1.1\r\nHost: x\r\n${lines}`)).toBe('too_many_headers');
    }
    let lines = '';
    for (let i = 0; i < MAX - 1; i++) lines += `x-filler-${i}: 1\r\n`;
    expect(await verdict(`GET / HTTP/1.1\r\nHost: x\r\n${lines}`)).toBe('content-length x0');
  });
});
