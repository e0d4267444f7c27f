import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Addresses a worker may not advertise: they either cannot be a real peer (unspecified), are not one
 * host (multicast), or reach things a balancer must never be pointed at (link-local: cloud metadata
 * services live at 169.254.169.254).
 */
const forbidden = new BlockList();
forbidden.addSubnet('169.254.0.0', 16, 'ipv4');
forbidden.addSubnet('224.0.0.0', 4, 'ipv4');
forbidden.addAddress('0.0.0.0', 'ipv4');
forbidden.addSubnet('fe80::', 10, 'ipv6');
forbidden.addSubnet('ff00::', 8, 'ipv6');
forbidden.addAddress('::', 'ipv6');

/** Why a url was refused, or undefined if it is a plain http(s)://host:port origin. Returns the normalised origin otherwise. */
export function checkWorkerUrl(raw: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'url is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'url must use http or https' };
  if (url.username || url.password) return { problem: 'url must not carry credentials' };
  if (url.search || url.hash || !/^[a-z]+:\/\/[^/]+\/?$/i.test(raw)) return { problem: 'url must be scheme://host:port with no path, query or fragment' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family !== 0) {
    const mapped = family === 6 ? ipv4MappedAddress(host) : undefined;
    const blocked = mapped ? forbidden.check(mapped, 'ipv4') : forbidden.check(host, family === 4 ? 'ipv4' : 'ipv6');
    if (blocked) return { problem: `url host ${host} is link-local, unspecified or multicast` };
  }
  return { origin: url.origin };
}

/** "::ffff:169.254.1.1" reaches the IPv4 host, so it is checked as that host. */
function ipv4MappedAddress(host: string): string | undefined {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return match?.[1];
}

const signedFields = {
  timestamp: z.number().int().nonnegative(),
  nonce: z.string().regex(/^[0-9a-fA-F]{16,128}$/, 'nonce must be 16-128 hex characters'),
};

export const registrationSchema = z.object({
  url: z.string().max(2048),
  name: z.string().min(1).max(128),
  weight: z.number().int().min(1).max(1000).default(1),
  ...signedFields,
});

export const deregistrationSchema = z.object({
  url: z.string().max(2048),
  name: z.string().max(128).optional(),
  ...signedFields,
});

/** The first problem zod found, as one sentence naming the field. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.join('.') || 'body';
  return `${field}: ${issue.message}`;
}
