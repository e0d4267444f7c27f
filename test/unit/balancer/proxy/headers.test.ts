import { connectionTokens, dropNamed, HOP_BY_HOP, relayableResponseHeaders } from '../../../../balancer/proxy/headers';

describe('HOP_BY_HOP', () => {
  it('holds the RFC 9110 hop-by-hop headers and their legacy spellings, lower-cased', () => {
    expect([...HOP_BY_HOP].sort()).toEqual(
      ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'].sort(),
    );
  });
});

describe('connectionTokens', () => {
  it('is empty without a Connection header', () => {
    expect(connectionTokens(undefined)).toEqual([]);
  });

  it('never names Content-Length or Host: removing the framing would smuggle the body as a request', () => {
    expect(connectionTokens('Content-Length, HOST, x-private')).toEqual(['x-private']);
  });

  it('lower-cases and trims the named headers, skipping ones already hop-by-hop', () => {
    expect(connectionTokens('Keep-Alive, X-Secret ,  x-other,upgrade')).toEqual(['x-secret', 'x-other']);
  });

  it('reads every line of a repeated Connection header', () => {
    expect(connectionTokens(['close', 'X-A, X-B'])).toEqual(['close', 'x-a', 'x-b']);
  });

  it('ignores empty tokens', () => {
    expect(connectionTokens(' , ,x-a,')).toEqual(['x-a']);
  });
});

/** The response parser hands the headers over as a flat [name, value, ...] list. */
const raw = (...pairs: string[]) => pairs;

describe('relayableResponseHeaders', () => {
  it('removes hop-by-hop headers and keeps end-to-end ones, in order and original case', () => {
    const headers = relayableResponseHeaders(
      raw(
        'Content-Type', 'text/plain',
        'Content-Length', '5',
        'Connection', 'keep-alive',
        'Keep-Alive', 'timeout=5',
        'Transfer-Encoding', 'chunked',
        'Proxy-Authenticate', 'Basic',
        'Trailer', 'x-checksum',
        'Upgrade', 'h2c',
        'TE', 'trailers',
        'X-Request-Id', 'abc',
      ),
    );
    expect(headers).toEqual(['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Request-Id', 'abc']);
  });

  it('removes headers the Connection header names, whatever their case there', () => {
    const headers = relayableResponseHeaders(raw('connection', 'keep-alive, X-Upstream-Private', 'x-upstream-private', 'secret', 'x-public', 'ok'));
    expect(headers).toEqual(['x-public', 'ok']);
  });

  it('removes headers named by any of several Connection headers', () => {
    const headers = relayableResponseHeaders(raw('Connection', 'x-a', 'x-a', '1', 'Connection', 'x-b', 'x-b', '2', 'x-c', '3'));
    expect(headers).toEqual(['x-c', '3']);
  });

  it('keeps repeated end-to-end headers such as Set-Cookie, each on its own', () => {
    expect(relayableResponseHeaders(raw('Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'))).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});

describe('dropNamed', () => {
  it('drops names case-insensitively and returns the same list when there is nothing to drop', () => {
    const list = ['X-A', '1', 'x-b', '2'];
    expect(dropNamed(list, ['x-a'])).toEqual(['x-b', '2']);
    expect(dropNamed(list, [])).toBe(list);
  });
});
