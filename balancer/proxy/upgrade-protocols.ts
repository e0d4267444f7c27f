import type { IncomingMessage } from 'node:http';
import { TOKEN } from '../http-syntax';

/**
 * Which protocols a client may switch to through the balancer (UPGRADE_PROTOCOLS, read once at start).
 * Anything else is refused: after a worker's 101 the connection is a raw tunnel the balancer no longer
 * reads, so a protocol that carries HTTP requests (h2c) would let every later request on it skip the
 * balancer's routing and forwarding headers (h2c smuggling). nginx and HAProxy likewise upgrade only
 * what they are configured to pass on.
 */
export type UpgradeProtocols = ReadonlySet<string>;

/** `none`, or a comma-separated list of protocol names, each a token with an optional /version (RFC 9110 section 7.8). */
export function parseUpgradeProtocols(spec: string): UpgradeProtocols {
  const allowed = new Set<string>();
  if (spec.trim().toLowerCase() === 'none') return allowed;
  for (const item of spec.split(',')) {
    const protocol = item.trim().toLowerCase();
    if (!isProtocol(protocol)) throw new Error(`not a protocol name: ${JSON.stringify(item.trim())}`);
    allowed.add(protocol);
  }
  return allowed;
}

/** Whether `spec` is a valid UPGRADE_PROTOCOLS value. */
export function isValidUpgradeSpec(spec: string): boolean {
  try {
    parseUpgradeProtocols(spec);
    return true;
  } catch {
    return false;
  }
}

function isProtocol(protocol: string): boolean {
  const slash = protocol.indexOf('/');
  if (slash < 0) return TOKEN.test(protocol);
  return TOKEN.test(protocol.slice(0, slash)) && TOKEN.test(protocol.slice(slash + 1));
}

/** Whether `protocol` (name or name/version, any case) is allowed: listed as it is, or by its name alone. */
function allows(allowed: UpgradeProtocols, protocol: string): boolean {
  const lower = protocol.toLowerCase();
  if (allowed.has(lower)) return true;
  const slash = lower.indexOf('/');
  return slash > 0 && allowed.has(lower.slice(0, slash));
}

/** The items of one or more comma-separated header values, trimmed, empty ones dropped. */
function listItems(values: readonly string[]): string[] {
  const items: string[] = [];
  for (const value of values) for (const item of value.split(',')) if (item.trim() !== '') items.push(item.trim());
  return items;
}

/** Every value of header `lower` in a flat [name, value, ...] list. */
function valuesOf(rawHeaders: readonly string[], lower: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === lower) values.push(rawHeaders[i + 1]);
  return values;
}

/**
 * What of the client's Upgrade offer is forwarded to the worker: the allowed protocols in the client's
 * order of preference, as one Upgrade value; '' when none is allowed (the request is then served as a
 * plain one).
 */
export function grantedUpgrade(rawHeaders: readonly string[], allowed: UpgradeProtocols): string {
  return listItems(valuesOf(rawHeaders, 'upgrade'))
    .filter((protocol) => allows(allowed, protocol))
    .join(', ');
}

/**
 * Whether a worker's 101 switches only to protocols that were forwarded (`granted`): RFC 9110 section
 * 7.8 lets it name only protocols the request offered. A 101 with no Upgrade header switches to nothing
 * the balancer can vouch for and is refused too.
 */
export function switchAllowed(responseRawHeaders: readonly string[], granted: string): boolean {
  const chosen = listItems(valuesOf(responseRawHeaders, 'upgrade'));
  if (chosen.length === 0) return false;
  const offered = new Set(listItems([granted]).map((p) => p.toLowerCase()));
  return chosen.every((protocol) => offered.has(protocol.toLowerCase()));
}

/**
 * The request head of an upgrade request the balancer will not upgrade, as node parsed it, without the
 * Upgrade header and without the `upgrade` token in Connection: handed back to node:http, it is read
 * as the plain request it now is, its body framed by the same Content-Length or Transfer-Encoding.
 */
export function plainRequestHead(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'upgrade') continue;
    let value = raw[i + 1];
    if (lower === 'connection') {
      value = listItems([value])
        .filter((token) => token.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    head += `${raw[i]}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
