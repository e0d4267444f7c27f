import { isAcceptableRequestId, MAX_REQUEST_ID_LENGTH, RequestIds, withoutRequestId, withRequestId } from '../../../../balancer/proxy/request-id';

describe('isAcceptableRequestId', () => {
  it('keeps UUIDs, ULIDs, W3C trace ids, base64 and host:pid:n forms', () => {
    for (const id of [
      'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      '4bf92f3577b34da6a3ce929d0e0e4736',
      'aGVsbG8gd29ybGQ=',
      'aGVsbG8_d29ybGQ-',
      'web-1.example:4242:17',
      'a+b/c@d',
      'x',
      'a'.repeat(MAX_REQUEST_ID_LENGTH),
    ])
      expect(isAcceptableRequestId(id)).toBe(true);
  });

  it('refuses an empty or over-long id, and any character that needs quoting in a header, a log or a shell', () => {
    for (const id of ['', 'a'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'a b', 'a\tb', 'a"b', "a'b", 'a\\b', 'a,b', 'a;b', 'a<b', '\u00e9', 'a\u0000b', '\u2028'])
      expect(isAcceptableRequestId(id)).toBe(false);
  });
});

describe('RequestIds', () => {
  it('makes <12 hex>-<counter> by default, different for every request', () => {
    const ids = new RequestIds();
    const made = Array.from({ length: 1000 }, () => ids.choose(undefined));
    for (const id of made) expect(id).toMatch(/^[0-9a-f]{12}-\d+$/);
    expect(new Set(made).size).toBe(1000);
    expect(new Set(made.map((id) => id.slice(0, 12))).size).toBe(1);
  });

  it('counts in decimal from 1000, one up per id, across every thousand', () => {
    const ids = new RequestIds('p-');
    const made = Array.from({ length: 3001 }, () => Number(ids.choose(undefined).slice(2)));
    expect(made).toEqual(Array.from({ length: 3001 }, (_, i) => 1000 + i));
  });

  it('gives the header line of each id, made or given', () => {
    const ids = new RequestIds('p-');
    for (let i = 0; i < 1500; i++) {
      const made = ids.choose(undefined);
      expect(ids.line(made)).toBe(`X-Request-Id: ${made}\r\n`);
    }
    expect(ids.line(ids.choose('given-1'))).toBe('X-Request-Id: given-1\r\n');
  });

  it("returns the client's id when acceptable, without counting", () => {
    const ids = new RequestIds('p-');
    expect(ids.choose('given-1')).toBe('given-1');
    expect(ids.choose('bad id')).toBe('p-1000');
  });

  it('gives two instances (two processes) different prefixes', () => {
    expect(new RequestIds().choose(undefined).slice(0, 12)).not.toBe(new RequestIds().choose(undefined).slice(0, 12));
  });
});

describe('withRequestId', () => {
  it('puts the id first in a response without one', () => {
    expect(withRequestId(['Content-Type', 'text/plain'], 'r-1')).toEqual(['X-Request-Id', 'r-1', 'Content-Type', 'text/plain']);
  });

  it("drops the worker's own ids, in any spelling, for the request's", () => {
    expect(withRequestId(['x-request-id', 'theirs', 'A', 'b', 'X-REQUEST-ID', 'again'], 'r-1')).toEqual(['X-Request-Id', 'r-1', 'A', 'b']);
  });
});

describe('withoutRequestId', () => {
  it('drops every X-Request-Id the worker set, in any spelling, and leaves the rest', () => {
    expect(withoutRequestId(['x-request-id', 'theirs', 'Content-Type', 'text/plain', 'X-REQUEST-ID', 'again'])).toEqual(['Content-Type', 'text/plain']);
    expect(withoutRequestId(['Content-Type', 'text/plain'])).toEqual(['Content-Type', 'text/plain']);
  });
});
