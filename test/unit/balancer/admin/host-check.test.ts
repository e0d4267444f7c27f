import { createHostCheck } from '../../../../balancer/admin/host-check';

describe("createHostCheck: the admin listener's DNS-rebinding guard", () => {
  it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('bound to loopback %s, takes only IP literals and localhost', (bind) => {
    const allowed = createHostCheck(bind);
    for (const host of ['127.0.0.1:8404', '[::1]:8404', 'localhost', 'LocalHost:1', '192.0.2.7:80', undefined]) expect(allowed(host)).toBe(true);
    for (const host of ['evil.example', 'evil.example:8404', '127.0.0.1.nip.io', 'localhost.evil.example', '[evil', '']) expect(allowed(host)).toBe(false);
  });

  it.each(['0.0.0.0', '::', '192.0.2.5'])('bound to %s, takes any Host: there the network decides who reaches it', (bind) => {
    const allowed = createHostCheck(bind);
    for (const host of ['balancer:8404', 'evil.example', '127.0.0.1']) expect(allowed(host)).toBe(true);
  });
});
