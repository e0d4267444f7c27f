import { embeddedIPv4, forbiddenReason, unmapped } from '../../../balancer/forbidden-addresses';

describe('forbiddenReason', () => {
  it.each([
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['100.100.100.200', 'Alibaba'],
    ['168.63.129.16', 'Azure'],
    ['192.0.0.192', 'Oracle'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'AWS'],
  ])('forbids %s (%s)', (address, why) => {
    expect(forbiddenReason(address)).toContain(why);
  });

  it.each([
    ['::ffff:169.254.169.254', 'IPv4-mapped, dotted'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped, as the URL parser writes it'],
    ['::a9fe:a9fe', 'IPv4-compatible'],
    ['64:ff9b::a9fe:a9fe', 'NAT64'],
    ['64:ff9b::169.254.169.254', 'NAT64, dotted'],
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2001:0:a9fe:a9fe::1', 'Teredo server'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'Teredo client (obfuscated 169.254.169.254)'],
    ['::ffff:100.100.100.200', 'mapped Alibaba'],
  ])('forbids %s, an embedding of a forbidden IPv4 (%s)', (address) => {
    expect(forbiddenReason(address)).toMatch(/embedded as \d+\.\d+\.\d+\.\d+$/);
  });

  it.each([
    '127.0.0.1',
    '10.0.0.5',
    '192.168.1.10',
    '192.0.2.5',
    '100.64.0.1',
    '::1',
    '::ffff:192.0.2.5',
    'fd00::5',
    '2001:db8::1',
    '64:ff9b::c000:205',
    '2002:c000:205::1',
  ])('allows the ordinary address %s', (address) => {
    expect(forbiddenReason(address)).toBeUndefined();
  });

  it('says a host name is not an address (names are resolved first, by WorkerAddressPolicy)', () => {
    expect(forbiddenReason('metadata.google.internal')).toBe('not an IP address');
  });
});

describe('embeddedIPv4 and unmapped', () => {
  it('finds the IPv4 address of each transition scheme', () => {
    expect(embeddedIPv4('::ffff:c000:205')).toEqual(['192.0.2.5']);
    expect(embeddedIPv4('64:ff9b::c000:205')).toEqual(['192.0.2.5']);
    expect(embeddedIPv4('2002:c000:205::')).toEqual(['192.0.2.5']);
    expect(embeddedIPv4('2001:db8::1')).toEqual([]);
    expect(embeddedIPv4('::1')).toEqual([]);
  });

  it('unwraps only IPv4-mapped addresses, for allow lists', () => {
    expect(unmapped('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(unmapped('::ffff:a00:5')).toBe('10.0.0.5');
    expect(unmapped('64:ff9b::a00:5')).toBe('64:ff9b::a00:5');
    expect(unmapped('10.0.0.5')).toBe('10.0.0.5');
  });
});
