import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Addresses no worker may be reached at, whatever WORKER_ALLOW says: they cannot be one real peer
 * (unspecified, multicast, reserved), or they are a cloud's instance metadata or host service, which
 * answers with credentials to anyone who can make the balancer send it a request (SSRF).
 */
const FORBIDDEN: ReadonlyArray<readonly [cidr: string, why: string]> = [
  ['0.0.0.0/8', 'unspecified ("this network", RFC 791)'],
  ['169.254.0.0/16', 'link-local (cloud metadata at 169.254.169.254)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved or broadcast (RFC 1112)'],
  ['100.100.100.200/32', 'the Alibaba Cloud metadata service'],
  ['168.63.129.16/32', 'the Azure host service (WireServer)'],
  ['192.0.0.192/32', 'the Oracle Cloud metadata service'],
  ['::/128', 'unspecified'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
  ['fd00:ec2::254/128', 'the AWS metadata service (IPv6)'],
];

const lists = FORBIDDEN.map(([cidr, why]) => {
  const [address, prefix] = cidr.split('/');
  const type = isIPv4(address) ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(address, Number(prefix), type);
  return { list, type, why };
});

/**
 * Why `address` (an IP literal) must not be connected to, or undefined. An IPv6 address that carries an
 * IPv4 one (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) is
 * also judged by that IPv4 address, since packets to it can end up there.
 * Called at registration and on each connection to a worker by name, never per request.
 */
export function forbiddenReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = lists.find((entry) => entry.type === type && entry.list.check(address, type));
  if (hit) return hit.why;
  if (family === 6) {
    for (const embedded of embeddedIPv4(address)) {
      const why = forbiddenReason(embedded);
      if (why !== undefined) return `${why}, embedded as ${embedded}`;
    }
  }
  return undefined;
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for (::ffff:a.b.c.d), for allow lists; else the address. */
export function unmapped(address: string): string {
  if (isIP(address) !== 6) return address;
  const w = ipv6Words(address);
  return w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff ? dotted(w[6], w[7]) : address;
}

/** Every IPv4 address an IPv6 address embeds by one of the standard transition schemes. */
export function embeddedIPv4(address: string): string[] {
  const w = ipv6Words(address);
  const found: string[] = [];
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && w[5] === 0xffff) found.push(dotted(w[6], w[7])); // ::ffff:0:0/96, RFC 4291 §2.5.5.2
  if (zero(0, 6) && w[6] >= 0x0100) found.push(dotted(w[6], w[7])); // ::/96 IPv4-compatible, RFC 4291 §2.5.5.1 (not ::1)
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) found.push(dotted(w[6], w[7])); // NAT64, RFC 6052 §2.1
  if (w[0] === 0x2002) found.push(dotted(w[1], w[2])); // 6to4, RFC 3056 §2
  if (w[0] === 0x2001 && w[1] === 0) found.push(dotted(w[2], w[3]), dotted(~w[6] & 0xffff, ~w[7] & 0xffff)); // Teredo server, client (RFC 4380 §4)
  return found;
}

function dotted(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The eight 16-bit words of a valid IPv6 literal (checked by isIP first), with a dotted tail or a zone. */
function ipv6Words(address: string): number[] {
  let text = address.split('%', 1)[0];
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, text.length - tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const words = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  if (rest === undefined) return words(head);
  const before = words(head);
  const after = words(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}
