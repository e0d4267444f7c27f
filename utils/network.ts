import { networkInterfaces } from 'node:os';

/** Hosts that mean "every interface": a worker bound to one cannot advertise it as its address. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The first IPv4 address of a non-internal interface, as a container's eth0 has: the address other
 * containers on the same network reach this one by. Undefined on a machine with loopback only.
 */
export function firstNonInternalIPv4(interfaces = networkInterfaces()): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}

/**
 * The URL a worker registers with. An explicit WORKER_URL wins; else a concrete HOST is reachable
 * as it is; else (bound to all interfaces, the container case) the first non-internal IPv4.
 */
export function advertisedUrl(opts: { workerUrl?: string; host: string; port: number; interfaces?: ReturnType<typeof networkInterfaces> }): string {
  if (opts.workerUrl) return new URL(opts.workerUrl).origin;
  const host = WILDCARD_HOSTS.has(opts.host) ? (firstNonInternalIPv4(opts.interfaces) ?? '127.0.0.1') : opts.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}:${opts.port}`;
}

/**
 * Why a server could not listen, in words an operator acts on; called by both entrypoints when
 * listen() fails at start. A busy port is named as such (it used to read as a vague start failure).
 * The settings named are PORT and HOST unless the failed listen tagged its own (see tagListenError).
 */
export function listenProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number } & Partial<ListenSettings>;
  const port = e.portSetting ?? 'PORT';
  const host = e.hostSetting ?? 'HOST';
  if (e.code === 'EADDRINUSE') return `port ${e.port} on ${e.address} is busy (EADDRINUSE): another process listens there; set ${port} to a free port`;
  if (e.code === 'EACCES') return `no permission to listen on port ${e.port} on ${e.address} (EACCES); use a port above 1023 or set ${port}`;
  if (e.code === 'EADDRNOTAVAIL') return `${e.address} is not an address of this machine (EADDRNOTAVAIL); check ${host}`;
  return err instanceof Error ? err.message : String(err);
}

/** The settings that chose a listener's address, for listenProblem's advice. */
export interface ListenSettings {
  readonly portSetting: string;
  readonly hostSetting: string;
}

/** Marks a listen error with the settings to change; called by a listener other than the gateway's (the admin one). */
export function tagListenError(err: Error, settings: ListenSettings): Error {
  return Object.assign(err, settings);
}
