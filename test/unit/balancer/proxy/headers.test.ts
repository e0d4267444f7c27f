import { connectionTokens, HOP_BY_HOP, stripResponseHeaders } from '../../../../balancer/proxy/headers';

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

describe('stripResponseHeaders', () => {
  it('removes hop-by-hop headers and keeps end-to-end ones', () => {
    const headers = stripResponseHeaders({
      'content-type': 'text/plain',
      'content-length': '5',
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      trailer: 'x-checksum',
      upgrade: 'h2c',
      te: 'trailers',
      'x-request-id': 'abc',
    });
    expect(headers).toEqual({ 'content-type': 'text/plain', 'content-length': '5', 'x-request-id': 'abc' });
  });

  it('removes headers the Connection header names, whatever their case there', () => {
    const headers = stripResponseHeaders({
      connection: 'keep-alive, X-Upstream-Private',
      'x-upstream-private': 'secret',
      'x-public': 'ok',
    });
    expect(headers).toEqual({ 'x-public': 'ok' });
  });

  it('removes headers named by a repeated Connection header', () => {
    const headers = stripResponseHeaders({ connection: ['x-a', 'x-b'] as unknown as string, 'x-a': '1', 'x-b': '2', 'x-c': '3' });
    expect(headers).toEqual({ 'x-c': '3' });
  });

  it('edits the object in place and returns it', () => {
    const input = { connection: 'close', 'x-keep': 'yes' };
    expect(stripResponseHeaders(input)).toBe(input);
    expect(input).toEqual({ 'x-keep': 'yes' });
  });
});
