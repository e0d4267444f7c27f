import { startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * Which addresses a real balancer lets a worker register at. Health checks are off, so a refused
 * registration can only be seen to have connected by the registry holding it; it never does.
 * Names other than localhost are unit-tested with an injected resolver (no DNS on this machine).
 */
describe('registration addresses', () => {
  let balancer: RunningProcess;
  const workers = async () => (await (await fetch(`${balancer.url}/workers`)).json()) as string[];

  beforeAll(async () => {
    balancer = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' });
  });
  afterAll(() => balancer?.stop());
  afterEach(async () => expect(await workers()).toEqual([]));

  it.each([
    ['AWS metadata over IPv6', 'http://[fd00:ec2::254]:80'],
    ['NAT64 of 169.254.169.254', 'http://[64:ff9b::a9fe:a9fe]:80'],
    ['IPv4-mapped 169.254.169.254', 'http://[::ffff:169.254.169.254]:80'],
    ['IPv4-compatible 169.254.169.254', 'http://[::169.254.169.254]:80'],
    ['6to4 of 169.254.169.254', 'http://[2002:a9fe:a9fe::1]:80'],
    ['Alibaba metadata', 'http://100.100.100.200:80'],
    ['Azure WireServer', 'http://168.63.129.16:80'],
    ['Oracle metadata', 'http://192.0.0.192:80'],
    ['169.254.169.254 as one number', 'http://2852039166:80'],
    ['the broadcast address', 'http://255.255.255.255:80'],
  ])('refuses %s with 400 invalid_url', async (_what, url) => {
    const res = await signedPost(balancer.url, 'register-worker', { url, name: 'intruder' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_url');
  });

  it('refuses an https worker with 400 saying why, not 500', async () => {
    const res = await signedPost(balancer.url, 'register-worker', { url: 'https://127.0.0.1:8443', name: 'tls' });
    expect(res).toEqual({ status: 400, body: { error: 'invalid_url', message: 'https:// workers are not supported yet; register an http:// url' } });
  });

  it('resolves a name: localhost registers as itself', async () => {
    const res = await signedPost(balancer.url, 'register-worker', { url: 'http://localhost:65010', name: 'by-name' });
    expect(res).toEqual({ status: 201, body: { url: 'http://localhost:65010', status: 'created' } });
    expect((await signedPost(balancer.url, 'deregister-worker', { url: 'http://localhost:65010' })).status).toBe(200);
  });
});

describe('WORKER_ALLOW', () => {
  let balancer: RunningProcess;

  beforeAll(async () => {
    balancer = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0', WORKER_ALLOW: '127.0.0.2/32' });
  });
  afterAll(() => balancer?.stop());

  it('refuses with 403 a worker outside it, by address and by name, and registers one inside', async () => {
    const outside = await signedPost(balancer.url, 'register-worker', { url: 'http://127.0.0.1:65011', name: 'outside' });
    expect(outside).toEqual({ status: 403, body: { error: 'worker_not_allowed', message: 'url host 127.0.0.1, outside WORKER_ALLOW' } });
    const byName = await signedPost(balancer.url, 'register-worker', { url: 'http://localhost:65011', name: 'outside' });
    expect(byName.status).toBe(403);
    expect(await (await fetch(`${balancer.url}/workers`)).json()).toEqual([]);
    const inside = await signedPost(balancer.url, 'register-worker', { url: 'http://127.0.0.2:65012', name: 'inside' });
    expect(inside.status).toBe(201);
    expect(await (await fetch(`${balancer.url}/workers`)).json()).toEqual(['http://127.0.0.2:65012']);
  });
});
