import { generateNonce, sign } from '../../utils/auth';
import { startBalancer, TEST_SECRET, type RunningProcess } from '../helpers/processes';
import { postRaw, signedPost } from '../helpers/registration';

/** Forged, stale, replayed and malformed registrations are refused by a real balancer and change nothing. */
describe('registration refusals', () => {
  let balancer: RunningProcess;
  const accepted = 'http://127.0.0.1:65001';

  const workers = async () => (await (await fetch(`${balancer.url}/workers`)).json()) as string[];
  const body = (fields: Record<string, unknown>) =>
    JSON.stringify({ url: 'http://127.0.0.1:65002', name: 'intruder', timestamp: Date.now(), nonce: generateNonce(), ...fields });

  beforeAll(async () => {
    balancer = await startBalancer();
    expect((await signedPost(balancer.url, 'register-worker', { url: accepted, name: 'good' })).status).toBe(201);
  });
  afterAll(() => balancer?.stop());
  afterEach(async () => expect(await workers()).toEqual([accepted]));

  it('refreshes a known worker with 200', async () => {
    const res = await signedPost(balancer.url, 'register-worker', { url: accepted, name: 'good' });
    expect(res).toEqual({ status: 200, body: { url: accepted, status: 'refreshed' } });
  });

  it('refuses a registration without a signature', async () => {
    expect((await postRaw(balancer.url, 'register-worker', body({}))).status).toBe(401);
  });

  it('refuses a registration signed with another secret', async () => {
    const b = body({});
    const res = await postRaw(balancer.url, 'register-worker', b, sign(b, 'not-the-balancer-secret-at-all'));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('bad_signature');
  });

  it('refuses a body altered after signing', async () => {
    const b = body({});
    const res = await postRaw(balancer.url, 'register-worker', b.replace('intruder', 'intruded'), sign(b, TEST_SECRET));
    expect(res.status).toBe(401);
  });

  it('refuses a stale timestamp', async () => {
    const b = body({ timestamp: Date.now() - 60_000 });
    const res = await postRaw(balancer.url, 'register-worker', b, sign(b, TEST_SECRET));
    expect(res).toMatchObject({ status: 401, body: { error: 'stale_timestamp' } });
  });

  it('refuses a replay of a registration it already accepted', async () => {
    const b = body({ url: 'http://127.0.0.1:65003' });
    const first = await postRaw(balancer.url, 'register-worker', b, sign(b, TEST_SECRET));
    expect(first.status).toBe(201);
    const deregistered = await signedPost(balancer.url, 'deregister-worker', { url: 'http://127.0.0.1:65003' });
    expect(deregistered.status).toBe(200);
    const replay = await postRaw(balancer.url, 'register-worker', b, sign(b, TEST_SECRET));
    expect(replay).toMatchObject({ status: 401, body: { error: 'replayed_nonce' } });
  });

  // Bodies are built when each case runs: one timestamped before the balancer started is refused as such.
  it.each([
    ['malformed JSON', () => '{"url": ', 'malformed_json'],
    ['a number for a name', () => body({ name: 42 }), 'invalid_field'],
    ['a short nonce', () => body({ nonce: 'abc' }), 'invalid_field'],
    ['a url with a path', () => body({ url: 'http://127.0.0.1:65002/admin' }), 'invalid_url'],
    ['a url with credentials', () => body({ url: 'http://user:pw@127.0.0.1:65002' }), 'invalid_url'],
    ['a non-http scheme', () => body({ url: 'file:///etc/passwd' }), 'invalid_url'],
    ['a link-local address', () => body({ url: 'http://169.254.169.254:80' }), 'invalid_url'],
    ['the unspecified address', () => body({ url: 'http://0.0.0.0:8080' }), 'invalid_url'],
    ['a multicast address', () => body({ url: 'http://224.0.0.1:8080' }), 'invalid_url'],
  ])('refuses %s with 400 and a named error', async (_what, make, error) => {
    const b = make();
    const res = await postRaw(balancer.url, 'register-worker', b, sign(b, TEST_SECRET));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
    expect(typeof res.body.message).toBe('string');
  });

  it('refuses a body over 64 kB with 413', async () => {
    const b = body({ name: 'x'.repeat(70_000) });
    expect((await postRaw(balancer.url, 'register-worker', b, sign(b, TEST_SECRET))).status).toBe(413);
  });

  it('keeps serving after all of that', () => {
    expect(balancer.child.exitCode).toBeNull();
    expect(balancer.output()).not.toMatch(/\n\s+at /); // refusals are log lines, never stack traces
  });
});
