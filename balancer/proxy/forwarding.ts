import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which peers may tell us who the original client was. X-Forwarded-* from a trusted peer (another proxy
 * of ours) is kept and appended to; from anyone else it is replaced, or a client could spoof its address.
 * Built once at start from TRUST_PROXY; throws on an entry that is not an address or CIDR.
 */
export class TrustPolicy {
  private readonly list = new BlockList();
  /** No entries: TRUST_PROXY then trusts no one, CONTROL_ALLOW lets everyone in. */
  readonly isEmpty: boolean;

  constructor(spec: string) {
    const entries = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.isEmpty = entries.length === 0;
    for (const entry of entries) {
      const [address, prefix, extra] = entry.split('/');
      if (extra !== undefined) throw new Error(`${entry} is not an address or CIDR`);
      const type = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (!isIP(address)) throw new Error(`${address} is not an IP address`);
      if (prefix === undefined) this.list.addAddress(address, type);
      else if (!/^\d+$/.test(prefix) || Number(prefix) > (type === 'ipv4' ? 32 : 128)) throw new Error(`/${prefix} is not a valid prefix for ${address}`);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  trusts(address: string): boolean {
    if (this.isEmpty) return false;
    return this.list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  }
}

/** The client's address as a plain IPv4 when it arrived as an IPv4-mapped IPv6 on a dual-stack socket. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && isIPv4(remote.slice(7)) ? remote.slice(7) : remote;
}
