import { BAD_LINE_CHAR, hasToken, lineEnd, trimOws } from '../../../balancer/http-syntax';

describe('hasToken', () => {
  it.each([
    ['close', 'close', true],
    ['Close', 'close', true],
    ['  close\t', 'close', true],
    ['keep-alive', 'close', false],
    ['closed', 'close', false],
    ['clos', 'close', false],
    ['', 'close', false],
    ['keep-alive, Upgrade', 'upgrade', true],
    ['keep-alive,close', 'close', true],
    ['x-close, closed', 'close', false],
    [',close,', 'close', true],
  ])('%j holds %j: %s', (list, token, expected) => {
    expect(hasToken(list, token)).toBe(expected);
  });
});

describe('lineEnd', () => {
  const head = 'GET / HTTP/1.1\r\nHost: a\r\nX: b';
  it('finds the CRLF that ends each line, and the end of the text for the last one', () => {
    expect(lineEnd(head, 0)).toBe(14);
    expect(lineEnd(head, 16)).toBe(23);
    expect(lineEnd(head, 25)).toBe(head.length);
  });
  it('does not end a line at a bare CR or LF', () => {
    expect(lineEnd('a\rb\nc\r\nd', 0)).toBe(5);
  });
});

describe('BAD_LINE_CHAR', () => {
  it.each(['\x00', '\x01', '\x1b', '\x7f', '\r', '\n'])('refuses %j inside a line', (c) => {
    expect(BAD_LINE_CHAR.test(`X-A: a${c}b`)).toBe(true);
  });
  it('accepts tabs, printable ASCII and obs-text', () => {
    expect(BAD_LINE_CHAR.test('X-A: a\tb ~ \x80\xff')).toBe(false);
  });
});

describe('trimOws', () => {
  it('removes spaces and tabs at both ends only', () => {
    expect(trimOws(' \t a b \t ')).toBe('a b');
    expect(trimOws('ab')).toBe('ab');
    expect(trimOws(' \t ')).toBe('');
  });
});
