import { knownName } from '../../../balancer/header-names';
import { HOP_BY_HOP } from '../../../balancer/hop-by-hop';
import { sameName } from '../../../balancer/http-syntax';

const KNOWN = [...HOP_BY_HOP, 'content-length', 'host', 'via', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'idempotency-key'];

describe('sameName', () => {
  it.each([
    ['Content-Length', 'content-length', true],
    ['CONTENT-LENGTH', 'content-length', true],
    ['content-length', 'content-length', true],
    ['Content-Lengths', 'content-length', false],
    ['Content_Length', 'content-length', false],
    ['Content\rLength', 'content-length', false],
    ['Content\x0dLength', 'content-length', false],
    ['', '', true],
    ['Host', 'host', true],
    ['Hosz', 'host', false],
    // The upper-case twin of a non-letter is not the same character: '[' is 0x20 below '{'.
    ['[', '{', false],
    ['\r', '-', false],
  ])('%j is %j: %s', (name, lower, expected) => {
    expect(sameName(name, lower)).toBe(expected);
  });
});

describe('knownName', () => {
  it('returns the lower-case constant of every known name, in any letter case', () => {
    for (const name of KNOWN) {
      expect(knownName(name)).toBe(name);
      expect(knownName(name.toUpperCase())).toBe(name);
      expect(knownName(name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase()))).toBe(name);
    }
  });

  it('returns an empty string for other names', () => {
    for (const name of ['', 'Accept', 'User-Agent', 'Content-Type', 'X-Forwarded', 'Hostname', 'Connectio', 'Keep_Alive', 'TE ', 'a'.repeat(100)]) {
      expect(knownName(name)).toBe('');
    }
  });

  it('agrees with lower-casing on 20,000 random names near the known ones', () => {
    // Names built from the known ones' letters in both cases, and characters that differ by 0x20
    // from a letter or a dash: whatever lower-casing makes of them, knownName must say the same.
    const chars = [...new Set(KNOWN.join(''))].flatMap((c) => [c, c.toUpperCase(), String.fromCharCode(c.charCodeAt(0) ^ 0x20)]);
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed >>> 8) % n;
    };
    let known = 0;
    for (let i = 0; i < 20_000; i++) {
      let name: string;
      const kind = random(4);
      if (kind === 0) {
        // A known name with each letter in a random case.
        name = KNOWN[random(KNOWN.length)]
          .split('')
          .map((c) => (random(2) === 0 ? c.toUpperCase() : c))
          .join('');
      } else if (kind === 1) {
        // A known name with one character 0x20 away: a re-cased letter, or a dash turned into a CR.
        const known2 = KNOWN[random(KNOWN.length)];
        const at = random(known2.length);
        name = known2.slice(0, at) + String.fromCharCode(known2.charCodeAt(at) ^ 0x20) + known2.slice(at + 1);
      } else if (kind === 2) {
        // A known name with one or two characters changed or re-cased.
        const chars2 = KNOWN[random(KNOWN.length)].split('');
        for (let n = 1 + random(2); n > 0; n--) chars2[random(chars2.length)] = chars[random(chars.length)];
        name = chars2.join('');
      } else {
        name = '';
        for (let n = 1 + random(19); n > 0; n--) name += chars[random(chars.length)];
      }
      const lower = name.toLowerCase();
      const expected = KNOWN.includes(lower) ? lower : '';
      if (expected !== '') known++;
      expect(knownName(name)).toBe(expected);
    }
    // The generator must reach known names often enough for the comparison to mean something.
    expect(known).toBeGreaterThan(6000);
  });
});
