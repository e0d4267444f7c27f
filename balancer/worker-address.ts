import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { checkWorkerUrl } from './registration';
import { isIP, type LookupFunction } from 'node:net';
import { TrustPolicy } from './proxy/forwarding';
import { forbiddenReason, unmapped } from './forbidden-addresses';

/** The addresses a host name stands for, as dns.lookup({ all: true }) gives them; injected by unit tests (no DNS here). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((a) => a.address))));
  });

/** Why a worker's host was refused: 400 for an address nobody may use, 403 for one outside WORKER_ALLOW, 503 when DNS failed for now. */
export interface AddressRefusal {
  status: 400 | 403 | 503;
  error: 'invalid_url' | 'worker_not_allowed' | 'resolver_unavailable';
  message: string;
  /** Finer than `error` (whose values are the documented JSON contract): the lb_registrations_total outcome. */
  outcome: 'unresolvable_host' | 'forbidden_address' | 'worker_not_allowed' | 'resolver_unavailable';
}

/** Answers that mean the name does not exist, as opposed to a resolver that could not answer this time. */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * Where the balancer may connect to a worker: not a forbidden address (forbidden-addresses.ts), and
 * inside WORKER_ALLOW when that is set. A name is judged by every address it resolves to, once at
 * registration (check) and again on each new connection (lookup), so a name re-pointed after
 * registration (DNS rebinding) is refused too. An IP literal is never resolved: Node's net skips the
 * lookup for it, so checking it at registration is enough.
 */
export class WorkerAddressPolicy {
  constructor(
    private readonly allow: TrustPolicy = new TrustPolicy(''),
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /** Called by the control plane for every registration, before the registry sees it. */
  async check(hostname: string): Promise<AddressRefusal | undefined> {
    let addresses: string[];
    try {
      addresses = isIP(hostname) ? [hostname] : await this.resolve(hostname);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (NO_SUCH_NAME.has(code))
        return { status: 400, error: 'invalid_url', message: `url host ${hostname} does not resolve (${code})`, outcome: 'unresolvable_host' };
      return {
        status: 503,
        error: 'resolver_unavailable',
        message: `url host ${hostname} could not be resolved now (${code}); retry`,
        outcome: 'resolver_unavailable',
      };
    }
    return this.judge(hostname, addresses);
  }

  /**
   * For a worker URL that did not come through this balancer's control plane (another replica's, read
   * from the shared registry): its syntax, and its host when that is an IP literal, which no connect
   * would judge again. A name is judged at each connect (lookup). Returns why it is refused.
   */
  judgeUrl(url: string): string | undefined {
    const checked = checkWorkerUrl(url);
    if ('problem' in checked) return checked.problem;
    return isIP(checked.hostname) ? this.judge(checked.hostname, [checked.hostname])?.message : undefined;
  }

  /** The first refusal among `addresses`: one bad address refuses the name, since a connection may go to any of them. */
  judge(hostname: string, addresses: readonly string[]): AddressRefusal | undefined {
    if (addresses.length === 0)
      return { status: 400, error: 'invalid_url', message: `url host ${hostname} resolves to no address`, outcome: 'unresolvable_host' };
    const named = isIP(hostname) ? `url host ${hostname}` : `url host ${hostname} resolves to`;
    for (const address of addresses) {
      const why = forbiddenReason(address);
      if (why !== undefined) {
        return {
          status: 400,
          error: 'invalid_url',
          message: `${named} ${isIP(hostname) ? 'is' : address + ', which is'} ${why}`,
          outcome: 'forbidden_address',
        };
      }
      if (!this.allow.isEmpty && !this.allow.trusts(unmapped(address))) {
        const message = `${named}${isIP(hostname) ? '' : ' ' + address}, outside WORKER_ALLOW`;
        return { status: 403, error: 'worker_not_allowed', message, outcome: 'worker_not_allowed' };
      }
    }
    return undefined;
  }

  /**
   * For net.connect({ lookup }) and the connects of health probes and upgrades: resolves, judges, and
   * hands Node exactly the addresses it judged, so nothing is resolved again between check and connect.
   * A refusal is a connect error (code WORKER_ADDRESS_REFUSED), which the proxy answers as a 502.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (addresses) => {
        const refusal = this.judge(hostname, addresses);
        if (refusal) return callback(Object.assign(new Error(refusal.message), { code: 'WORKER_ADDRESS_REFUSED' }), '', 0);
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => !family || a.family === family);
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}
