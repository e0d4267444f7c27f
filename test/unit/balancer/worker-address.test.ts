import { TrustPolicy } from '../../../balancer/proxy/forwarding';
import { WorkerAddressPolicy, type Resolver } from '../../../balancer/worker-address';

/** A resolver from a table (this machine has no DNS); unknown names fail as getaddrinfo does. */
function resolver(table: Record<string, string[] | string>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (name: string) => {
    calls.push(name);
    const entry = table[name];
    if (typeof entry === 'string') return Promise.reject(Object.assign(new Error(`getaddrinfo ${entry} ${name}`), { code: entry }));
    if (entry === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(entry);
  };
  return Object.assign(resolve, { calls });
}

const names = resolver({
  '169.254.169.254.nip.io': ['169.254.169.254'],
  'metadata.google.internal': ['169.254.169.254'],
  'mixed.test': ['10.0.0.5', 'fd00:ec2::254'],
  'nat64.test': ['64:ff9b::a9fe:a9fe'],
  'worker.test': ['10.0.0.5', '10.0.0.6'],
  'flaky.test': 'EAI_AGAIN',
});

describe('WorkerAddressPolicy.check', () => {
  const open = new WorkerAddressPolicy(new TrustPolicy(''), names);

  it.each(['169.254.169.254.nip.io', 'metadata.google.internal', 'nat64.test'])('refuses %s, a name for the metadata service, with 400', async (name) => {
    expect(await open.check(name)).toEqual({
      status: 400,
      error: 'invalid_url',
      message: expect.stringContaining(`url host ${name} resolves to`),
      outcome: 'forbidden_address',
    });
  });

  it('refuses a name when any one of its addresses is forbidden', async () => {
    expect(await open.check('mixed.test')).toMatchObject({ status: 400, message: expect.stringContaining('fd00:ec2::254') });
  });

  it('refuses a name that does not resolve with 400 saying so', async () => {
    expect(await open.check('nowhere.test')).toEqual({
      status: 400,
      error: 'invalid_url',
      message: 'url host nowhere.test does not resolve (ENOTFOUND)',
      outcome: 'unresolvable_host',
    });
  });

  it('answers a resolver that failed for now with 503, so the worker retries', async () => {
    expect(await open.check('flaky.test')).toMatchObject({ status: 503, error: 'resolver_unavailable' });
  });

  it('accepts a name whose addresses are all ordinary', async () => {
    expect(await open.check('worker.test')).toBeUndefined();
  });

  it('judges an IP literal without resolving it', async () => {
    const calls = names.calls.length;
    expect(await open.check('fd00:ec2::254')).toMatchObject({ status: 400, message: 'url host fd00:ec2::254 is the AWS metadata service (IPv6)' });
    expect(await open.check('127.0.0.1')).toBeUndefined();
    expect(names.calls.length).toBe(calls);
  });

  it('with WORKER_ALLOW, refuses with 403 an address outside it and accepts one inside', async () => {
    const pinned = new WorkerAddressPolicy(new TrustPolicy('10.0.0.0/24'), names);
    expect(await pinned.check('worker.test')).toBeUndefined();
    expect(await pinned.check('::ffff:10.0.0.9')).toBeUndefined();
    expect(await pinned.check('127.0.0.1')).toEqual({
      status: 403,
      error: 'worker_not_allowed',
      message: 'url host 127.0.0.1, outside WORKER_ALLOW',
      outcome: 'worker_not_allowed',
    });
  });

  it('with WORKER_ALLOW, still refuses a forbidden address inside it', async () => {
    const careless = new WorkerAddressPolicy(new TrustPolicy('169.254.0.0/16'), names);
    expect(await careless.check('169.254.169.254')).toMatchObject({ status: 400, error: 'invalid_url' });
  });

  it('resolves localhost with the real resolver', async () => {
    expect(await new WorkerAddressPolicy().check('localhost')).toBeUndefined();
    expect(await new WorkerAddressPolicy(new TrustPolicy('10.0.0.0/8')).check('localhost')).toMatchObject({
      status: 403,
      message: expect.stringContaining('localhost resolves to 127.0.0.1, outside WORKER_ALLOW'),
    });
  });
});

describe('WorkerAddressPolicy.lookup', () => {
  const lookup = (policy: WorkerAddressPolicy, name: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => {
      policy.lookup(name, { all }, (err, address, family) => resolve({ err, result: all ? address : { address, family } }));
    });
  const policy = new WorkerAddressPolicy(new TrustPolicy(''), names);

  it('hands Node the checked addresses, all of them or the first', async () => {
    expect(await lookup(policy, 'worker.test', true)).toEqual({
      err: null,
      result: [
        { address: '10.0.0.5', family: 4 },
        { address: '10.0.0.6', family: 4 },
      ],
    });
    expect(await lookup(policy, 'worker.test', false)).toEqual({ err: null, result: { address: '10.0.0.5', family: 4 } });
  });

  it('fails the connect when a name now resolves to a forbidden address', async () => {
    const { err } = await lookup(policy, 'metadata.google.internal', true);
    expect(err).toMatchObject({ code: 'WORKER_ADDRESS_REFUSED', message: expect.stringContaining('169.254.169.254') });
  });
});
