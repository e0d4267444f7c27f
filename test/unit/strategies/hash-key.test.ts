import { compileHashKey, cookieValue } from '../../../strategies/hash-key';
import { ctx } from './fixtures';

describe('compileHashKey', () => {
  it('"ip" reads the client address', () => {
    expect(compileHashKey('ip')(ctx('192.0.2.7'))).toBe('192.0.2.7');
  });

  it('"header:<name>" reads that header whatever the case of the setting, joining a repeated one', () => {
    const read = compileHashKey('header:X-Tenant');
    expect(read(ctx('192.0.2.7', { 'x-tenant': 'acme' }))).toBe('acme');
    expect(read(ctx('192.0.2.7', { 'x-tenant': ['a', 'b'] as unknown as string }))).toBe('a, b');
  });

  it('falls back to the client address when the header is missing or empty', () => {
    const read = compileHashKey('header:x-tenant');
    expect(read(ctx('192.0.2.7'))).toBe('192.0.2.7');
    expect(read(ctx('192.0.2.7', { 'x-tenant': '' }))).toBe('192.0.2.7');
  });

  it('"cookie:<name>" reads that cookie, and falls back to the client address without it', () => {
    const read = compileHashKey('cookie:sid');
    expect(read(ctx('192.0.2.7', { cookie: 'theme=dark; sid=abc123; lang=en' }))).toBe('abc123');
    expect(read(ctx('192.0.2.7', { cookie: 'theme=dark' }))).toBe('192.0.2.7');
    expect(read(ctx('192.0.2.7'))).toBe('192.0.2.7');
  });

  it('refuses anything else, listing the accepted forms', () => {
    for (const spec of ['', 'url', 'header:', 'cookie:', ':x', 'query:id']) {
      expect(() => compileHashKey(spec)).toThrow(`invalid hash key "${spec}"; accepted: ip, header:<name>, cookie:<name>`);
    }
  });
});

describe('cookieValue', () => {
  it('finds the cookie at the start, in the middle and at the end', () => {
    expect(cookieValue('sid=1; a=2', 'sid=')).toBe('1');
    expect(cookieValue('a=2; sid=1; b=3', 'sid=')).toBe('1');
    expect(cookieValue('a=2;sid=1', 'sid=')).toBe('1');
  });

  it('does not match a cookie whose name ends with the wanted one, nor the name inside a value', () => {
    expect(cookieValue('xsid=1; a=sid=2; sid=3', 'sid=')).toBe('3');
    expect(cookieValue('xsid=1', 'sid=')).toBeUndefined();
  });

  it('strips the optional quotes of RFC 6265, and returns "" for an empty value', () => {
    expect(cookieValue('sid="abc"', 'sid=')).toBe('abc');
    expect(cookieValue('sid=; a=1', 'sid=')).toBe('');
  });

  it('returns undefined without a header', () => {
    expect(cookieValue(undefined, 'sid=')).toBeUndefined();
  });
});
