import { PassThrough } from 'node:stream';
import type { ProxyRequest } from '../../../../balancer/proxy/client-types';
import { TrustPolicy } from '../../../../balancer/proxy/forwarding';
import { RequestIds } from '../../../../balancer/proxy/request-id';
import { buildUpstreamRequest, type UpstreamRequest } from '../../../../balancer/proxy/upstream-request';
import { serializeRequestHead } from '../../../../balancer/upstream/request-head';

function fakeRequest(rawHeaders: string[], opts: { method?: string; url?: string; remoteAddress?: string; encrypted?: boolean } = {}): ProxyRequest {
  return {
    rawHeaders,
    method: opts.method ?? 'GET',
    url: opts.url ?? '/path?q=1',
    headers: {},
    socket: { remoteAddress: opts.remoteAddress ?? '203.0.113.7', encrypted: opts.encrypted },
    // As node's IncomingMessage: a stream whether or not the headers declare a body.
    bodyStream: new PassThrough(),
  };
}

/** The flat header list as [name, value] pairs, for readable assertions. */
function pairs(headers: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < headers.length; i += 2) out.push([headers[i], headers[i + 1]]);
  return out;
}

/** Every value sent under `name`, compared case-insensitively. */
function valuesOf(headers: string[], name: string): string[] {
  return pairs(headers)
    .filter(([n]) => n.toLowerCase() === name)
    .map(([, v]) => v);
}

/** The X-Request-Id lines of the head the worker is sent. */
function idLines(up: UpstreamRequest): string[] {
  return serializeRequestHead(up, 'worker')
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith('x-request-id:'));
}

const nobody = new TrustPolicy('');
const CLIENT = '203.0.113.7';

describe('buildUpstreamRequest: request line', () => {
  it('keeps the method and the full request target', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'shop.example'], { method: 'DELETE', url: '/items/3?force=1' }), CLIENT, nobody);
    expect(up.method).toBe('DELETE');
    expect(up.path).toBe('/items/3?force=1');
  });
});

describe('buildUpstreamRequest: end-to-end and hop-by-hop headers', () => {
  it("keeps end-to-end headers in their original case and order, Host unchanged, after the balancer's own", () => {
    const up = buildUpstreamRequest(
      fakeRequest(['Host', 'shop.example:8080', 'X-Custom', 'abc', 'accept', 'text/html', 'Cookie', 'a=1', 'Cookie', 'b=2']),
      CLIENT,
      nobody,
    );
    expect(pairs(up.headers).slice(3, 8)).toEqual([
      ['Host', 'shop.example:8080'],
      ['X-Custom', 'abc'],
      ['accept', 'text/html'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ]);
  });

  it('drops every hop-by-hop header', () => {
    const up = buildUpstreamRequest(
      fakeRequest(
        [
          'Host',
          'shop.example',
          'Connection',
          'keep-alive',
          'Keep-Alive',
          'timeout=5',
          'Proxy-Connection',
          'keep-alive',
          'Proxy-Authorization',
          'Basic Zm9vOmJhcg==',
          'TE',
          'trailers',
          'Trailer',
          'X-Checksum',
          'Upgrade',
          'h2c',
          'Transfer-Encoding',
          'chunked',
          'X-Kept',
          'yes',
        ],
        { method: 'POST' },
      ),
      CLIENT,
      nobody,
    );
    const names = pairs(up.headers).map(([n]) => n.toLowerCase());
    for (const hop of ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'transfer-encoding']) {
      expect(names).not.toContain(hop);
    }
    expect(valuesOf(up.headers, 'x-kept')).toEqual(['yes']);
  });

  it('drops headers the Connection header names', () => {
    const up = buildUpstreamRequest(
      fakeRequest(['Host', 'shop.example', 'Connection', 'keep-alive, X-Hop-Secret', 'X-Hop-Secret', 'internal', 'X-Kept', 'yes']),
      CLIENT,
      nobody,
    );
    expect(valuesOf(up.headers, 'x-hop-secret')).toEqual([]);
    expect(valuesOf(up.headers, 'x-kept')).toEqual(['yes']);
  });

  it('drops headers named by any line of a repeated Connection header', () => {
    const up = buildUpstreamRequest(
      fakeRequest(['Host', 'shop.example', 'Connection', 'X-Hop-A', 'Connection', 'keep-alive', 'X-Hop-A', '1', 'X-Kept', 'yes']),
      CLIENT,
      nobody,
    );
    expect(valuesOf(up.headers, 'x-hop-a')).toEqual([]);
    expect(valuesOf(up.headers, 'x-kept')).toEqual(['yes']);
  });

  it("does not let the client's Connection header remove the X-Forwarded-* headers the balancer sets", () => {
    // "Connection: X-Forwarded-For" is a known trick to make a proxy strip its own forwarding headers.
    const up = buildUpstreamRequest(
      fakeRequest(['Host', 'shop.example', 'Connection', 'close, X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto']),
      CLIENT,
      nobody,
    );
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual([CLIENT]);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['http']);
  });
});

describe('buildUpstreamRequest: X-Forwarded-* from an untrusted client', () => {
  it('sets X-Forwarded-For, -Host and -Proto from the connection', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'shop.example']), CLIENT, nobody);
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual([CLIENT]);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['http']);
  });

  it('says https when the client connection is TLS', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'shop.example'], { encrypted: true }), CLIENT, nobody);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['https']);
  });

  it('replaces spoofed X-Forwarded-* values and drops Forwarded', () => {
    const up = buildUpstreamRequest(
      fakeRequest([
        'Host',
        'shop.example',
        'X-Forwarded-For',
        '1.2.3.4',
        'X-Forwarded-Host',
        'evil.example',
        'X-Forwarded-Proto',
        'https',
        'Forwarded',
        'for=1.2.3.4;proto=https',
      ]),
      CLIENT,
      new TrustPolicy('10.0.0.0/8'),
    );
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual([CLIENT]);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['http']);
    expect(valuesOf(up.headers, 'forwarded')).toEqual([]);
  });

  it('sends no X-Forwarded-Host when the request has no Host', () => {
    const up = buildUpstreamRequest(fakeRequest([]), CLIENT, nobody);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual([]);
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual([CLIENT]);
  });
});

describe('buildUpstreamRequest: X-Forwarded-* from a trusted proxy', () => {
  const incoming = [
    'Host',
    'internal-lb:8080',
    'X-Forwarded-For',
    '198.51.100.1',
    'X-Forwarded-For',
    '10.0.0.3',
    'X-Forwarded-Host',
    'shop.example',
    'X-Forwarded-Proto',
    'https',
    'Forwarded',
    'for=198.51.100.1',
  ];

  it('appends the peer to X-Forwarded-For and keeps the original host, proto and Forwarded (CIDR)', () => {
    const up = buildUpstreamRequest(fakeRequest(incoming), '10.0.0.2', new TrustPolicy('10.0.0.0/8'));
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual(['198.51.100.1, 10.0.0.3, 10.0.0.2']);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['https']);
    expect(valuesOf(up.headers, 'forwarded')).toEqual(['for=198.51.100.1']);
    expect(valuesOf(up.headers, 'host')).toEqual(['internal-lb:8080']);
  });

  it('trusts a single listed address the same way, and not its neighbour', () => {
    const trust = new TrustPolicy('127.0.0.1');
    const trusted = buildUpstreamRequest(fakeRequest(incoming), '127.0.0.1', trust);
    expect(valuesOf(trusted.headers, 'x-forwarded-for')).toEqual(['198.51.100.1, 10.0.0.3, 127.0.0.1']);
    const untrusted = buildUpstreamRequest(fakeRequest(incoming), '127.0.0.2', trust);
    expect(valuesOf(untrusted.headers, 'x-forwarded-for')).toEqual(['127.0.0.2']);
    expect(valuesOf(untrusted.headers, 'x-forwarded-host')).toEqual(['internal-lb:8080']);
  });

  it('uses its own values where the trusted proxy sent none', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'shop.example']), '10.0.0.2', new TrustPolicy('10.0.0.0/8'));
    expect(valuesOf(up.headers, 'x-forwarded-for')).toEqual(['10.0.0.2']);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['http']);
  });
});

describe('buildUpstreamRequest: body', () => {
  it('is null for a GET without Content-Length or Transfer-Encoding', () => {
    const req = fakeRequest(['Host', 'shop.example']);
    expect(buildUpstreamRequest(req, CLIENT, nobody).body).toBeNull();
  });

  it('is null when Content-Length is 0', () => {
    const req = fakeRequest(['Host', 'shop.example', 'Content-Length', '0'], { method: 'POST' });
    const up = buildUpstreamRequest(req, CLIENT, nobody);
    expect(up.body).toBeNull();
    expect(valuesOf(up.headers, 'content-length')).toEqual(['0']);
  });

  it('is the request stream when Content-Length is positive', () => {
    const req = fakeRequest(['Host', 'shop.example', 'Content-Length', '12'], { method: 'POST' });
    const up = buildUpstreamRequest(req, CLIENT, nobody);
    expect(up.body).toBe(req.bodyStream);
    expect(valuesOf(up.headers, 'content-length')).toEqual(['12']);
  });

  it('is the request stream for a chunked body, without forwarding Transfer-Encoding', () => {
    const req = fakeRequest(['Host', 'shop.example', 'Transfer-Encoding', 'chunked'], { method: 'PUT' });
    const up = buildUpstreamRequest(req, CLIENT, nobody);
    expect(up.body).toBe(req.bodyStream);
    expect(valuesOf(up.headers, 'transfer-encoding')).toEqual([]);
  });
});

describe('buildUpstreamRequest: Via and loop detection', () => {
  const VIA = '1.1 lb-0011aabb';

  it('appends this balancer to Via, after any proxy before it', () => {
    expect(valuesOf(buildUpstreamRequest(fakeRequest([]), CLIENT, nobody, VIA).headers, 'via')).toEqual([VIA]);
    const up = buildUpstreamRequest(fakeRequest(['Via', '1.1 edge']), CLIENT, nobody, VIA);
    expect(valuesOf(up.headers, 'via')).toEqual([`1.1 edge, ${VIA}`]);
    expect(up.looped).toBe(false);
  });

  it('flags a request that already passed through this balancer', () => {
    expect(buildUpstreamRequest(fakeRequest(['Via', `1.1 edge, ${VIA}`]), CLIENT, nobody, VIA).looped).toBe(true);
    expect(buildUpstreamRequest(fakeRequest(['Via', '1.1 lb-ffffffff']), CLIENT, nobody, VIA).looped).toBe(false);
  });

  it('passes Via through untouched when no token is given', () => {
    const up = buildUpstreamRequest(fakeRequest(['Via', '1.1 edge']), CLIENT, nobody);
    expect(valuesOf(up.headers, 'via')).toEqual(['1.1 edge']);
    expect(up.looped).toBe(false);
  });
});

describe("buildUpstreamRequest: the balancer's own headers come first", () => {
  const VIA = '1.1 lb-0011aabb';

  it('puts X-Request-Id, X-Forwarded-For/-Proto/-Host and Via ahead of every client header, so filler cannot push them out', () => {
    const filler: string[] = [];
    for (let i = 0; i < 50; i++) filler.push(`X-Filler-${i}`, 'x');
    const up = buildUpstreamRequest(fakeRequest([...filler, 'Host', 'shop.example']), CLIENT, nobody, VIA, new RequestIds('p-'));
    expect(pairs(up.headers).slice(0, 4)).toEqual([
      ['x-forwarded-for', CLIENT],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'shop.example'],
      ['via', VIA],
    ]);
    expect(up.headers.length).toBe(8 + filler.length + 2);
    expect(serializeRequestHead(up, 'w').split('\r\n').slice(0, 3)).toEqual(['GET /path?q=1 HTTP/1.1', 'X-Request-Id: p-1000', `x-forwarded-for: ${CLIENT}`]);
  });

  it('leaves out X-Forwarded-Host without a Host, and Via without a token or a received Via', () => {
    const up = buildUpstreamRequest(fakeRequest(['X-Kept', 'yes']), CLIENT, nobody);
    expect(pairs(up.headers)).toEqual([
      ['x-forwarded-for', CLIENT],
      ['x-forwarded-proto', 'http'],
      ['X-Kept', 'yes'],
    ]);
  });

  it("keeps its own headers when the client's Connection names them", () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'h', 'Connection', 'via, x-forwarded-proto, x-request-id', 'X-Kept', 'yes']), CLIENT, nobody, VIA);
    expect(valuesOf(up.headers, 'via')).toEqual([VIA]);
    expect(idLines(up)).toEqual([`X-Request-Id: ${up.requestId}`]);
    expect(valuesOf(up.headers, 'x-forwarded-proto')).toEqual(['http']);
    expect(valuesOf(up.headers, 'x-kept')).toEqual(['yes']);
  });
});

describe('buildUpstreamRequest: facts for the check step, from the same pass', () => {
  it('counts header lines, Host lines, Content-Length and Transfer-Encoding lines, and keeps the first coding', () => {
    const req = {
      ...fakeRequest(['Host', 'a', 'host', 'b', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked', 'Content-Length', '5', 'X', 'y']),
      httpVersionMinor: 1,
    };
    expect(buildUpstreamRequest(req, CLIENT, nobody)).toMatchObject({
      headerCount: 6,
      hostCount: 2,
      contentLengthCount: 1,
      transferEncodingCount: 2,
      transferEncoding: 'gzip',
      httpVersionMinor: 1,
      invalidTarget: false,
    });
  });

  it('frames as chunked whenever a Transfer-Encoding line is there: the check step lets only a lone chunked one through', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'a', 'Transfer-Encoding', '', 'Content-Length', '5'], { method: 'POST' }), CLIENT, nobody);
    expect(up).toMatchObject({ chunked: true, transferEncodingCount: 1, transferEncoding: '', contentLengthCount: 1 });
  });
});

describe('buildUpstreamRequest: absolute-form target (RFC 9112 section 3.2.2)', () => {
  it("sends the origin-form path and the target's authority as the one Host, replacing the client's", () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'other.example', 'X-Kept', 'yes'], { url: 'http://a.example:8080/x?q=1' }), CLIENT, nobody);
    expect(up.path).toBe('/x?q=1');
    expect(valuesOf(up.headers, 'host')).toEqual(['a.example:8080']);
    expect(valuesOf(up.headers, 'x-forwarded-host')).toEqual(['a.example:8080']);
    expect(up.hostCount).toBe(1);
    expect(up.invalidTarget).toBe(false);
  });

  it('sends / for an empty path, and keeps a query that follows the authority', () => {
    expect(buildUpstreamRequest(fakeRequest(['Host', 'a.example'], { url: 'HTTPS://a.example' }), CLIENT, nobody).path).toBe('/');
    expect(buildUpstreamRequest(fakeRequest(['Host', 'a.example'], { url: 'http://a.example?x=1' }), CLIENT, nobody).path).toBe('/?x=1');
  });

  it.each(['ftp://a.example/x', 'http://u:p@a.example/x', 'http:///x', 'http://a.example:8o/x', 'http:/a.example/x'])(
    'flags %s as an invalid target',
    (url) => {
      expect(buildUpstreamRequest(fakeRequest(['Host', 'a.example'], { url }), CLIENT, nobody).invalidTarget).toBe(true);
    },
  );

  it('forwards origin-form and asterisk-form targets as they are', () => {
    expect(buildUpstreamRequest(fakeRequest(['Host', 'a'], { url: '/x' }), CLIENT, nobody)).toMatchObject({ path: '/x', invalidTarget: false });
    expect(buildUpstreamRequest(fakeRequest(['Host', 'a'], { method: 'OPTIONS', url: '*' }), CLIENT, nobody)).toMatchObject({
      path: '*',
      invalidTarget: false,
    });
  });
});

describe('buildUpstreamRequest: X-Request-Id', () => {
  it("sends the client's own id when it is acceptable, once, under the balancer's spelling", () => {
    const up = buildUpstreamRequest(
      fakeRequest(['Host', 'h', 'x-request-id', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6']),
      CLIENT,
      nobody,
      undefined,
      new RequestIds('p-'),
    );
    expect(up.requestId).toBe('f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    expect(idLines(up)).toEqual(['X-Request-Id: f81d4fae-7dec-11d0-a765-00a0c91e6bf6']);
  });

  it('replaces an id that is too long, holds a character outside the set, or is empty', () => {
    const ids = new RequestIds('p-');
    for (const bad of ['a'.repeat(129), 'has space', 'quote"d', 'semi;colon', 'comma,list', '\u00e9t\u00e9', '']) {
      const up = buildUpstreamRequest(fakeRequest(['Host', 'h', 'X-Request-Id', bad]), CLIENT, nobody, undefined, ids);
      expect(idLines(up)).toEqual([`X-Request-Id: ${up.requestId}`]);
      expect(up.requestId).toMatch(/^p-\d+$/);
    }
  });

  it('replaces two ids sent by one client: neither is trusted over the other', () => {
    const up = buildUpstreamRequest(fakeRequest(['Host', 'h', 'X-Request-Id', 'one', 'X-Request-Id', 'two']), CLIENT, nobody, undefined, new RequestIds('p-'));
    expect(idLines(up)).toEqual(['X-Request-Id: p-1000']);
  });

  it('makes a new one, prefix and counter, when the client sent none', () => {
    const ids = new RequestIds('p-');
    const made = [1, 2, 3].map(() => buildUpstreamRequest(fakeRequest(['Host', 'h']), CLIENT, nobody, undefined, ids).requestId);
    expect(made).toEqual(['p-1000', 'p-1001', 'p-1002']);
  });
});
