import { isIP } from 'node:net';

/**
 * The DNS-rebinding guard of the admin listener. A page on any site can make a browser resolve its own
 * name to 127.0.0.1 and read a loopback listener's answers as same-origin: the read-only routes need no
 * token and show every worker's address. Such a request always names the attacker's domain in Host, so
 * a listener bound to loopback answers only a Host that is an IP literal or `localhost`, which no one
 * can rebind. Bound elsewhere (the Docker image's 0.0.0.0, scraped as `balancer:8404`), every Host is
 * accepted: the network, not the name, decides who reaches it there.
 * Built once at start; returns whether a request's Host header may be answered.
 */
export function createHostCheck(bindHost: string): (host: string | undefined) => boolean {
  if (!isLoopback(bindHost)) return () => true;
  return (host) => host === undefined || isRebindProof(hostnameOf(host));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** The name part of a Host value: `[::1]:8404` -> `::1`, `127.0.0.1:8404` -> `127.0.0.1`, `a.b` -> `a.b`. */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

function isRebindProof(name: string): boolean {
  return name === 'localhost' || isIP(name) !== 0;
}
