import type { NetworkInterfaceInfo } from 'node:os';
import { advertisedUrl, firstNonInternalIPv4 } from '../../../utils/network';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:42:ac:11:00:02', internal, cidr: `${address}/24` };
}

function v6(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:42:ac:11:00:02', internal, cidr: `${address}/64`, scopeid: 0 };
}

const loopbackOnly: Interfaces = { lo: [v4('127.0.0.1', true), v6('::1', true)] };
const container: Interfaces = {
  lo: [v4('127.0.0.1', true), v6('::1', true)],
  eth0: [v6('fe80::42:acff:fe11:2'), v6('2001:db8::2'), v4('198.51.100.2')],
  eth1: [v4('10.0.0.9')],
};

describe('advertisedUrl', () => {
  it('uses WORKER_URL when given, reduced to its origin', () => {
    expect(advertisedUrl({ workerUrl: 'http://192.0.2.5:8080', host: '0.0.0.0', port: 9000, interfaces: container })).toBe('http://192.0.2.5:8080');
    expect(advertisedUrl({ workerUrl: 'https://Worker.Example:8443/some/path?q=1#f', host: '127.0.0.1', port: 9000 })).toBe('https://worker.example:8443');
  });

  it('drops the default port from WORKER_URL', () => {
    expect(advertisedUrl({ workerUrl: 'http://worker1:80/', host: '0.0.0.0', port: 9000, interfaces: container })).toBe('http://worker1');
  });

  it('advertises a concrete HOST as it is, with PORT', () => {
    expect(advertisedUrl({ host: '127.0.0.1', port: 8081, interfaces: container })).toBe('http://127.0.0.1:8081');
    expect(advertisedUrl({ host: 'worker1', port: 8080, interfaces: container })).toBe('http://worker1:8080');
  });

  it('brackets an IPv6 HOST', () => {
    expect(advertisedUrl({ host: '::1', port: 9000, interfaces: container })).toBe('http://[::1]:9000');
    expect(advertisedUrl({ host: 'fd00::5', port: 9000, interfaces: container })).toBe('http://[fd00::5]:9000');
  });

  it('advertises the first non-internal IPv4 when bound to every interface', () => {
    expect(advertisedUrl({ host: '0.0.0.0', port: 8080, interfaces: container })).toBe('http://198.51.100.2:8080');
    expect(advertisedUrl({ host: '::', port: 8080, interfaces: container })).toBe('http://198.51.100.2:8080');
    expect(advertisedUrl({ host: '', port: 8080, interfaces: container })).toBe('http://198.51.100.2:8080');
  });

  it('falls back to 127.0.0.1 when only loopback is up', () => {
    expect(advertisedUrl({ host: '0.0.0.0', port: 8080, interfaces: loopbackOnly })).toBe('http://127.0.0.1:8080');
    expect(advertisedUrl({ host: '0.0.0.0', port: 8080, interfaces: {} })).toBe('http://127.0.0.1:8080');
  });
});

describe('firstNonInternalIPv4', () => {
  it('skips internal and IPv6 addresses', () => {
    expect(firstNonInternalIPv4(container)).toBe('198.51.100.2');
    expect(firstNonInternalIPv4({ eth0: [v6('2001:db8::2'), v6('fe80::1')], eth1: [v4('192.168.1.4')] })).toBe('192.168.1.4');
  });

  it('is undefined with loopback only, or an interface without addresses', () => {
    expect(firstNonInternalIPv4(loopbackOnly)).toBeUndefined();
    expect(firstNonInternalIPv4({ eth0: undefined })).toBeUndefined();
  });
});
