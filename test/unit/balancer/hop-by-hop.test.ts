import { connectionTokens, dropNamed, HOP_BY_HOP } from '../../../balancer/hop-by-hop';

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

describe('dropNamed', () => {
  it('drops names case-insensitively and returns the same list when there is nothing to drop', () => {
    const list = ['X-A', '1', 'x-b', '2'];
    expect(dropNamed(list, ['x-a'])).toEqual(['x-b', '2']);
    expect(dropNamed(list, [])).toBe(list);
  });
});

describe('dropNamed with entries to keep', () => {
  it('keeps the first `keep` entries even when a name among them is to be dropped', () => {
    const list = ['via', 'ours', 'Via', 'theirs', 'X-A', '1'];
    expect(dropNamed(list, ['via', 'x-a'], 2)).toEqual(['via', 'ours']);
  });
});
