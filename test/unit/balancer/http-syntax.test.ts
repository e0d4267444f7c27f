import { BAD_LINE_CHAR, FIELD_LINES, hasToken, lineEnd, TOKEN, trimOws } from '../../../balancer/http-syntax';

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
  it('trims the part of a line from start to end, as a field value is cut from its head', () => {
    const line = 'X-A:  a b \t\r\nY: c';
    expect(trimOws(line, 4, line.indexOf('\r'))).toBe('a b');
    expect(trimOws(line, 4, 4)).toBe('');
    expect(trimOws(line, line.indexOf('Y') + 2)).toBe('c');
  });
});

describe('FIELD_LINES', () => {
  const fieldLines = new RegExp(`^${FIELD_LINES}$`);

  /** The line-by-line verdict the parsers fall back on: every line a token, a colon, no bad character. */
  function eachLineWellFormed(text: string): boolean {
    if (text === '') return true;
    if (!text.startsWith('\r\n')) return false;
    return text
      .slice(2)
      .split('\r\n')
      .every((line) => {
        const colon = line.indexOf(':');
        return !BAD_LINE_CHAR.test(line) && colon > 0 && TOKEN.test(line.slice(0, colon));
      });
  }

  it.each([
    ['', true],
    ['\r\nHost: a', true],
    ['\r\nHost: a\r\nX-Empty:', true],
    ['\r\nX: caf\xe9\t ok', true],
    ['\r\nHost: a\r\n', false],
    ['\r\nHost: a\rb', false],
    ['\r\nHost: a\nb', false],
    ['\r\nHost : a', false],
    ['\r\n: a', false],
    ['\r\nHost a', false],
    ['\r\n X: folded', false],
    ['\r\nX: \x7f', false],
    ['\r\nX: \x00', false],
  ])('%j is well formed: %s', (text, expected) => {
    expect(fieldLines.test(text)).toBe(expected);
    expect(eachLineWellFormed(text)).toBe(expected);
  });

  it('agrees with the line-by-line checks on 20,000 random heads built from the characters that matter', () => {
    const names = ['Host', 'x-a', 'X_1', '', 'a b', 'a(', ' a', 'caf\xe9'];
    const separators = [':', ':', ':', '', ' :'];
    const valueChars = ['a', ' ', '\t', ':', '\xe9', '\xff', '\r', '\n', '\x7f', '\x00', '\u0100', 'Z'];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed >>> 8) % n;
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let lines = 1 + random(3); lines > 0; lines--) {
        text += `\r\n${names[random(names.length)]}${separators[random(separators.length)]}`;
        for (let n = random(6); n > 0; n--) text += valueChars[random(valueChars.length)];
      }
      const expected = eachLineWellFormed(text);
      if (fieldLines.test(text) !== expected) throw new Error(`disagree on ${JSON.stringify(text)}: line by line says ${expected}`);
      if (expected) accepted++;
    }
    // Both verdicts occur often enough for the agreement to mean something.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(19_500);
  });
});
