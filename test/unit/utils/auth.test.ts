import { createHmac } from 'node:crypto';
import { ReplayGuard, sign, signedPayload, verifySignature } from '../../../utils/auth';

const SECRET = 'unit-secret-0123456789abcdef';
const BODY = '{"url":"http://127.0.0.1:8081","name":"w1","timestamp":1000,"nonce":"00112233445566778899aabbccddeeff"}';

describe('sign', () => {
  it('is sha256= followed by the hex HMAC-SHA256 of the body', () => {
    const expected = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect(sign(BODY, SECRET)).toBe(`sha256=${expected}`);
    expect(sign(BODY, SECRET)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('gives the same signature for a string and its UTF-8 bytes', () => {
    expect(sign(Buffer.from(BODY, 'utf8'), SECRET)).toBe(sign(BODY, SECRET));
  });
});

describe('verifySignature', () => {
  const good = sign(BODY, SECRET);

  it('accepts the right signature', () => {
    expect(verifySignature(BODY, good, SECRET)).toBe(true);
    expect(verifySignature(Buffer.from(BODY), good, SECRET)).toBe(true);
  });

  it('refuses a missing header', () => {
    expect(verifySignature(BODY, undefined, SECRET)).toBe(false);
    expect(verifySignature(BODY, '', SECRET)).toBe(false);
  });

  it('refuses the right hex without the sha256= prefix, or with another prefix', () => {
    const hex = good.slice('sha256='.length);
    expect(verifySignature(BODY, hex, SECRET)).toBe(false);
    expect(verifySignature(BODY, `sha1=${hex}`, SECRET)).toBe(false);
    expect(verifySignature(BODY, `SHA256=${hex}`, SECRET)).toBe(false);
  });

  it('refuses a wrong signature of the right length', () => {
    const last = good.at(-1) === '0' ? '1' : '0';
    expect(verifySignature(BODY, good.slice(0, -1) + last, SECRET)).toBe(false);
    expect(verifySignature(BODY, `sha256=${'0'.repeat(64)}`, SECRET)).toBe(false);
  });

  it('refuses signatures of the wrong length', () => {
    expect(verifySignature(BODY, good.slice(0, -2), SECRET)).toBe(false);
    expect(verifySignature(BODY, `${good}00`, SECRET)).toBe(false);
    expect(verifySignature(BODY, 'sha256=', SECRET)).toBe(false);
    expect(verifySignature(BODY, 'sha256=zz', SECRET)).toBe(false);
  });

  it('refuses a signature with anything after the 64 hex digits', () => {
    // Buffer.from(hex) stops at the first non-hex character and drops an odd last digit, so a lax
    // parse would accept these; a signature header should be exactly one canonical form.
    expect(verifySignature(BODY, `${good}z`, SECRET)).toBe(false);
    expect(verifySignature(BODY, `${good}0`, SECRET)).toBe(false);
  });

  it('refuses a tampered body', () => {
    const tampered = BODY.replace('8081', '8082');
    expect(tampered).not.toBe(BODY);
    expect(verifySignature(tampered, good, SECRET)).toBe(false);
    expect(verifySignature(`${BODY} `, good, SECRET)).toBe(false);
  });

  it('refuses a signature made with a different secret', () => {
    expect(verifySignature(BODY, sign(BODY, `${SECRET}x`), SECRET)).toBe(false);
  });
});

describe('ReplayGuard', () => {
  const WINDOW = 30_000;
  const T0 = 1_700_000_000_000;

  function guardAt(start = T0) {
    const clock = { now: start };
    const guard = new ReplayGuard(WINDOW, () => clock.now);
    return { clock, guard };
  }

  it('accepts a fresh timestamp with a new nonce', () => {
    const { guard } = guardAt();
    expect(guard.check(T0, 'aa'.repeat(16))).toBe('fresh');
    expect(guard.check(T0 - 1000, 'bb'.repeat(16))).toBe('fresh');
    expect(guard.check(T0 + 1000, 'cc'.repeat(16))).toBe('fresh');
  });

  it('calls a timestamp more than 30 s in the past or the future stale', () => {
    const { guard } = guardAt();
    expect(guard.check(T0 - WINDOW - 1, 'aa'.repeat(16))).toBe('stale');
    expect(guard.check(T0 + WINDOW + 1, 'bb'.repeat(16))).toBe('stale');
    expect(guard.check(0, 'cc'.repeat(16))).toBe('stale');
  });

  it('accepts a timestamp exactly 30 s away on either side', () => {
    const { guard } = guardAt();
    expect(guard.check(T0 - WINDOW, 'aa'.repeat(16))).toBe('fresh');
    expect(guard.check(T0 + WINDOW, 'bb'.repeat(16))).toBe('fresh');
  });

  it('does not remember a nonce whose request was stale', () => {
    const { guard } = guardAt();
    const nonce = 'aa'.repeat(16);
    expect(guard.check(T0 - WINDOW - 1, nonce)).toBe('stale');
    expect(guard.check(T0, nonce)).toBe('fresh');
  });

  it('calls a nonce seen again within the window replayed, even with another timestamp', () => {
    const { clock, guard } = guardAt();
    const nonce = 'aa'.repeat(16);
    expect(guard.check(T0, nonce)).toBe('fresh');
    expect(guard.check(T0, nonce)).toBe('replayed');
    clock.now = T0 + 10_000;
    expect(guard.check(T0, nonce)).toBe('replayed');
    expect(guard.check(T0 + 10_000, nonce)).toBe('replayed');
  });

  it('still calls the replay replayed at the last instant its timestamp is acceptable', () => {
    const { clock, guard } = guardAt();
    const nonce = 'aa'.repeat(16);
    expect(guard.check(T0, nonce)).toBe('fresh');
    clock.now = T0 + WINDOW;
    expect(guard.check(T0, nonce)).toBe('replayed');
  });

  it('refuses the exact same request after the window: its timestamp is stale by then', () => {
    const { clock, guard } = guardAt();
    const nonce = 'aa'.repeat(16);
    expect(guard.check(T0, nonce)).toBe('fresh');
    clock.now = T0 + WINDOW + 1;
    expect(guard.check(T0, nonce)).toBe('stale');
    clock.now = T0 + 10 * WINDOW;
    expect(guard.check(T0, nonce)).toBe('stale');
  });

  it('keeps a nonce with a future timestamp until that timestamp leaves the window', () => {
    const { clock, guard } = guardAt();
    const nonce = 'aa'.repeat(16);
    expect(guard.check(T0 + WINDOW, nonce)).toBe('fresh');
    // 59 s later the original timestamp is 29 s in the past: still acceptable, so still a replay.
    clock.now = T0 + 2 * WINDOW - 1000;
    expect(guard.check(T0 + WINDOW, nonce)).toBe('replayed');
  });

  it('keeps the map at the nonces of the last window when the clock advances', () => {
    const { clock, guard } = guardAt();
    for (let i = 0; i < 10_000; i++) {
      clock.now = T0 + i * 1000;
      expect(guard.check(clock.now, i.toString(16).padStart(32, '0'))).toBe('fresh');
    }
    // Timestamps from now-30 s to now are live: 31 entries, one per second.
    expect(guard['seen'].size).toBe(31);
  });

  it('stays bounded when clients are skewed to both ends of the window', () => {
    const { clock, guard } = guardAt();
    for (let i = 0; i < 10_000; i++) {
      clock.now = T0 + i * 1000;
      const skew = i % 2 === 0 ? 29_000 : -29_000;
      expect(guard.check(clock.now + skew, i.toString(16).padStart(32, '0'))).toBe('fresh');
    }
    // Nothing inserted more than two windows ago can survive a sweep.
    expect(guard['seen'].size).toBeLessThanOrEqual(2 * (WINDOW / 1000) + 1);
  });
});

describe('signedPayload', () => {
  it('produces a body that verifies with the secret and carries the fields, timestamp and a 32-hex nonce', () => {
    const { body, signature } = signedPayload({ url: 'http://127.0.0.1:8081', name: 'w1', weight: 2 }, SECRET, 12345);
    expect(verifySignature(body, signature, SECRET)).toBe(true);
    expect(verifySignature(body, signature, `${SECRET}x`)).toBe(false);
    const parsed = JSON.parse(body) as unknown;
    expect(parsed).toEqual({ url: 'http://127.0.0.1:8081', name: 'w1', weight: 2, timestamp: 12345, nonce: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('uses a new nonce every time', () => {
    const a = (JSON.parse(signedPayload({}, SECRET, 1).body) as { nonce: string }).nonce;
    const b = (JSON.parse(signedPayload({}, SECRET, 1).body) as { nonce: string }).nonce;
    expect(a).not.toBe(b);
  });

  it('does not let a caller field override the timestamp or nonce', () => {
    const parsed = JSON.parse(signedPayload({ timestamp: 1, nonce: 'x' }, SECRET, 999).body) as { timestamp: number; nonce: string };
    expect(parsed.timestamp).toBe(999);
    expect(parsed.nonce).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('ReplayGuard with a start time', () => {
  it('refuses a timestamp from before the start, even inside the window, and accepts one from after it', () => {
    const start = 1_700_000_000_000;
    const guard = new ReplayGuard(30_000, () => start + 1_000, start);
    expect(guard.check(start - 1, '00112233445566778899aabbccddeeff')).toBe('before_start');
    expect(guard.check(start, '00112233445566778899aabbccddeef0')).toBe('fresh');
  });
});
