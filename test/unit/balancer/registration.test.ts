import { UpstreamPool } from '../../../balancer/upstream/pool';
import { checkWorkerUrl, deregistrationSchema, describeSchemaError, registrationSchema } from '../../../balancer/registration';

const NONCE = '00112233445566778899aabbccddeeff';

describe('checkWorkerUrl', () => {
  it.each([
    ['http://127.0.0.1:8081', 'http://127.0.0.1:8081', '127.0.0.1'],
    ['http://[::1]:9000', 'http://[::1]:9000', '::1'],
    ['http://worker1:8080', 'http://worker1:8080', 'worker1'],
    ['http://192.0.2.5:8080', 'http://192.0.2.5:8080', '192.0.2.5'],
  ])('accepts %s as %s, host %s', (raw, origin, hostname) => {
    expect(checkWorkerUrl(raw)).toEqual({ origin, hostname });
  });

  it('normalises to the origin: trailing slash and default port dropped, host lower-cased', () => {
    expect(checkWorkerUrl('http://127.0.0.1:8081/')).toMatchObject({ origin: 'http://127.0.0.1:8081' });
    expect(checkWorkerUrl('http://worker1:80')).toMatchObject({ origin: 'http://worker1' });
    expect(checkWorkerUrl('HTTP://Worker1:8080')).toMatchObject({ origin: 'http://worker1:8080' });
  });

  it('gives the host the address check judges: an IPv6 literal unbracketed, other IPv4 spellings as dotted', () => {
    expect(checkWorkerUrl('http://[::ffff:169.254.169.254]:80')).toMatchObject({ hostname: '::ffff:a9fe:a9fe' });
    // 2852039166 is 169.254.169.254 as one decimal number; 0 is 0.0.0.0.
    expect(checkWorkerUrl('http://2852039166:80')).toMatchObject({ hostname: '169.254.169.254' });
    expect(checkWorkerUrl('http://0:8080')).toMatchObject({ hostname: '0.0.0.0' });
  });

  it('refuses https, which the pool cannot serve yet, as a value saying so', () => {
    expect(checkWorkerUrl('https://worker.internal:8443')).toEqual({ problem: 'https:// workers are not supported yet; register an http:// url' });
  });

  it('refuses what is not a URL', () => {
    expect(checkWorkerUrl('not a url')).toEqual({ problem: 'url is not a valid URL' });
    expect(checkWorkerUrl('http://')).toEqual({ problem: 'url is not a valid URL' });
  });

  it.each(['ftp://worker1:21', 'javascript:alert(1)', 'file:///etc/passwd', 'ws://worker1:8080'])('refuses the scheme of %s', (raw) => {
    expect(checkWorkerUrl(raw)).toEqual({ problem: 'url must use http' });
  });

  it('refuses credentials', () => {
    expect(checkWorkerUrl('http://user:pass@worker1:8080')).toEqual({ problem: 'url must not carry credentials' });
    expect(checkWorkerUrl('http://user@worker1:8080')).toEqual({ problem: 'url must not carry credentials' });
  });

  it.each([
    'http://worker1:8080/x',
    'http://worker1:8080/x/',
    'http://worker1:8080?a=1',
    'http://worker1:8080/?a=1',
    'http://worker1:8080#top',
    'http://worker1:8080//',
  ])('refuses a path, query or fragment: %s', (raw) => {
    expect(checkWorkerUrl(raw)).toEqual({ problem: 'url must be scheme://host:port with no path, query or fragment' });
  });

  it('accepts only urls the upstream pool can be built for', () => {
    for (const raw of ['http://127.0.0.1:8081', 'http://[::1]:9000', 'http://worker1', 'https://worker1:8443', 'http://0:8080']) {
      const checked = checkWorkerUrl(raw);
      if ('origin' in checked)
        expect(() => new UpstreamPool(checked.origin, { connectTimeoutMs: 1, responseTimeoutMs: 1, idleTimeoutMs: 1, maxConnections: 0 })).not.toThrow();
    }
  });
});

describe('registrationSchema', () => {
  const valid = { url: 'http://127.0.0.1:8081', name: 'w1', timestamp: 1_700_000_000_000, nonce: NONCE };

  it('defaults weight to 1', () => {
    expect(registrationSchema.parse(valid)).toEqual({ ...valid, weight: 1 });
  });

  it('keeps weights from 1 to 1000 and refuses 0, 1001 and fractions', () => {
    expect(registrationSchema.parse({ ...valid, weight: 1000 }).weight).toBe(1000);
    expect(registrationSchema.parse({ ...valid, weight: 1 }).weight).toBe(1);
    for (const weight of [0, -1, 1001, 1.5, '2']) expect(registrationSchema.safeParse({ ...valid, weight }).success).toBe(false);
  });

  it('takes nonces of 16 to 128 hex characters only', () => {
    expect(registrationSchema.safeParse({ ...valid, nonce: 'a'.repeat(16) }).success).toBe(true);
    expect(registrationSchema.safeParse({ ...valid, nonce: 'A'.repeat(128) }).success).toBe(true);
    for (const nonce of ['a'.repeat(15), 'a'.repeat(129), `${'a'.repeat(31)}g`, '', 1234567890123456]) {
      expect(registrationSchema.safeParse({ ...valid, nonce }).success).toBe(false);
    }
  });

  it('refuses a timestamp that is not a non-negative integer', () => {
    for (const timestamp of [-1, 1.5, '1700000000000', null]) expect(registrationSchema.safeParse({ ...valid, timestamp }).success).toBe(false);
  });

  it.each(['url', 'name', 'timestamp', 'nonce'])('refuses a body without %s and names it', (field) => {
    const body = Object.fromEntries(Object.entries(valid).filter(([key]) => key !== field));
    const result = registrationSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(describeSchemaError(result.error!)).toMatch(new RegExp(`^${field}: `));
  });

  it('refuses an empty name and a url over 2048 characters', () => {
    expect(describeSchemaError(registrationSchema.safeParse({ ...valid, name: '' }).error!)).toMatch(/^name: /);
    expect(describeSchemaError(registrationSchema.safeParse({ ...valid, url: `http://a${'b'.repeat(2048)}` }).error!)).toMatch(/^url: /);
  });
});

describe('describeSchemaError', () => {
  it('names the field and carries the schema message', () => {
    const result = registrationSchema.safeParse({ url: 'http://127.0.0.1:8081', name: 'w1', timestamp: 1, nonce: 'xyz' });
    expect(describeSchemaError(result.error!)).toBe('nonce: nonce must be 16-128 hex characters');
  });

  it('says "body" when the body itself is the wrong type', () => {
    const result = registrationSchema.safeParse([1, 2]);
    expect(describeSchemaError(result.error!)).toMatch(/^body: /);
  });
});

describe('deregistrationSchema', () => {
  it('needs only url, timestamp and nonce', () => {
    expect(deregistrationSchema.parse({ url: 'http://127.0.0.1:8081', timestamp: 5, nonce: NONCE })).toEqual({
      url: 'http://127.0.0.1:8081',
      timestamp: 5,
      nonce: NONCE,
    });
    expect(describeSchemaError(deregistrationSchema.safeParse({ timestamp: 5, nonce: NONCE }).error!)).toMatch(/^url: /);
  });
});
