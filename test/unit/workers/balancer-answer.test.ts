import { judgeDeregistration, judgeRegistration } from '../../../workers/balancer-answer';

const ME = 'http://127.0.0.1:8081';

describe('judgeRegistration', () => {
  it("takes the balancer's 201 created and 200 refreshed for this worker's url", () => {
    expect(judgeRegistration(201, { url: ME, status: 'created' }, ME)).toEqual({ verdict: 'registered' });
    expect(judgeRegistration(200, { url: ME, status: 'refreshed' }, ME)).toEqual({ verdict: 'registered' });
  });

  it.each([
    ['a worker page', 200, 'Server: worker-2, Request count: 7'],
    ['JSON of another shape', 200, { status: 'ok', name: 'w2' }],
    ['another url', 201, { url: 'http://127.0.0.1:9999', status: 'created' }],
    ['a 204', 204, ''],
  ])('stops on a success that is not the balancer answer: %s', (_what, status, body) => {
    const judged = judgeRegistration(status, body, ME);
    expect(judged.verdict).toBe('stop');
    expect((judged as { reason: string }).reason).toContain('not the balancer');
  });

  it.each([
    [400, 'invalid_url'],
    [400, 'invalid_field'],
    [400, 'malformed_json'],
    [403, 'control_forbidden'],
    [403, 'worker_not_allowed'],
    [413, 'body_too_large'],
  ])('stops on %i %s, which no retry can fix, with the balancer message', (status, error) => {
    expect(judgeRegistration(status, { error, message: `because ${error}` }, ME)).toEqual({
      verdict: 'stop',
      reason: `the balancer refused this worker (${status} ${error}): because ${error}`,
    });
  });

  it('stops on a wrong signature, saying the secrets differ', () => {
    const judged = judgeRegistration(401, { error: 'bad_signature', message: 'missing or wrong x-signature header' }, ME);
    expect(judged).toEqual({ verdict: 'stop', reason: expect.stringContaining("REGISTRATION_SECRET is not the balancer's") });
  });

  it.each([
    [401, { error: 'stale_timestamp', message: 'm' }],
    [401, { error: 'signed_before_start', message: 'm' }],
    [401, { error: 'replayed_nonce', message: 'm' }],
    [500, { error: 'internal_error', message: 'm' }],
    [502, 'bad gateway'],
    [503, { error: 'resolver_unavailable', message: 'm' }],
    [408, ''],
    [429, ''],
  ])('retries on %i %j, which a fresh attempt can get past', (status, body) => {
    expect(judgeRegistration(status, body, ME).verdict).toBe('retry');
  });

  it("stops on a 4xx that is not the balancer's refusal (a worker's 404, say)", () => {
    expect(judgeRegistration(404, { error: 'not_found', path: '/register-worker' }, ME)).toEqual({
      verdict: 'stop',
      reason: expect.stringContaining('not the balancer'),
    });
  });
});

describe('judgeDeregistration', () => {
  it("takes the balancer's draining answer and its unknown_worker 404", () => {
    expect(judgeDeregistration(200, { url: ME, status: 'draining' }, ME)).toBeUndefined();
    expect(judgeDeregistration(404, { error: 'unknown_worker', message: 'm' }, ME)).toBeUndefined();
  });

  it('names anything else as the problem', () => {
    expect(judgeDeregistration(200, 'Server: worker-2', ME)).toContain('not the balancer');
    expect(judgeDeregistration(401, { error: 'bad_signature', message: 'm' }, ME)).toContain('bad_signature');
  });
});
