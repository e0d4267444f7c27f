import { clientAddress, TrustPolicy } from '../../../../balancer/proxy/forwarding';

describe('TrustPolicy', () => {
  it('trusts nobody when empty', () => {
    const trust = new TrustPolicy('');
    expect(trust.trusts('127.0.0.1')).toBe(false);
    expect(trust.trusts('10.0.0.1')).toBe(false);
    expect(trust.trusts('::1')).toBe(false);
    expect(new TrustPolicy(' , ').trusts('127.0.0.1')).toBe(false);
  });

  it('trusts every address inside a CIDR and none outside', () => {
    const trust = new TrustPolicy('10.0.0.0/8');
    expect(trust.trusts('10.0.0.1')).toBe(true);
    expect(trust.trusts('10.255.255.255')).toBe(true);
    expect(trust.trusts('11.0.0.1')).toBe(false);
    expect(trust.trusts('9.255.255.255')).toBe(false);
  });

  it('trusts a single address and only it', () => {
    const trust = new TrustPolicy('127.0.0.1');
    expect(trust.trusts('127.0.0.1')).toBe(true);
    expect(trust.trusts('127.0.0.2')).toBe(false);
  });

  it('combines a list with spaces, IPv4 and IPv6', () => {
    const trust = new TrustPolicy('192.168.1.0/24, 127.0.0.1 ,::1,fd00::/8');
    expect(trust.trusts('192.168.1.77')).toBe(true);
    expect(trust.trusts('192.168.2.1')).toBe(false);
    expect(trust.trusts('127.0.0.1')).toBe(true);
    expect(trust.trusts('::1')).toBe(true);
    expect(trust.trusts('fd12::3')).toBe(true);
    expect(trust.trusts('fe80::1')).toBe(false);
  });

  it('trusts an IPv4-mapped client once clientAddress has normalised it', () => {
    const trust = new TrustPolicy('10.0.0.0/8');
    expect(trust.trusts(clientAddress('::ffff:10.1.2.3'))).toBe(true);
    expect(trust.trusts(clientAddress('::ffff:11.1.2.3'))).toBe(false);
  });
});

describe('clientAddress', () => {
  it('turns an IPv4-mapped IPv6 address into plain IPv4', () => {
    expect(clientAddress('::ffff:10.0.0.2')).toBe('10.0.0.2');
    expect(clientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });

  it('leaves IPv4 and other IPv6 addresses alone', () => {
    expect(clientAddress('10.0.0.2')).toBe('10.0.0.2');
    expect(clientAddress('::1')).toBe('::1');
    expect(clientAddress('::ffff:abcd')).toBe('::ffff:abcd');
    expect(clientAddress('2001:db8::ffff:1')).toBe('2001:db8::ffff:1');
  });

  it('is empty when the socket has no address (already closed)', () => {
    expect(clientAddress(undefined)).toBe('');
    expect(clientAddress('')).toBe('');
  });
});
