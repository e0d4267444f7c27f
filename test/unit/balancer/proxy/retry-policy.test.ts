import { isReplayableRequest, isRetryableError, RetryBudget } from '../../../../balancer/proxy/retry-policy';

/** The two facts the retry step reads from a request: its method and whether it carries an Idempotency-Key. */
const req = (method: string, headers: Record<string, string> = {}): [string, boolean] => [method, 'idempotency-key' in headers];

describe('isReplayableRequest', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('treats %s as safe to repeat', (m) => {
    expect(isReplayableRequest(...req(m))).toBe(true);
  });
  it('does not repeat POST or PATCH unless they carry an Idempotency-Key', () => {
    expect(isReplayableRequest(...req('POST'))).toBe(false);
    expect(isReplayableRequest(...req('PATCH'))).toBe(false);
    expect(isReplayableRequest(...req('POST', { 'idempotency-key': 'abc' }))).toBe(true);
  });
});

describe('isRetryableError', () => {
  it('retries connection failures that happened before any response', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UPSTREAM_CLOSED', 'UPSTREAM_CONNECT_TIMEOUT']) expect(isRetryableError({ code })).toBe(true);
  });
  it('does not retry a worker that was slow to answer or an unknown error', () => {
    expect(isRetryableError({ code: 'UPSTREAM_HEADERS_TIMEOUT' })).toBe(false);
    expect(isRetryableError(new Error('boom'))).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
  });
});

describe('RetryBudget', () => {
  it('allows the per-second minimum, then about ratio x requests', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 2, () => now);
    expect([budget.tryWithdraw(), budget.tryWithdraw(), budget.tryWithdraw()]).toEqual([true, true, false]);
    for (let i = 0; i < 100; i++) budget.deposit();
    let allowed = 0;
    while (budget.tryWithdraw()) allowed++;
    expect(allowed).toBe(20);
    now += 1000; // a new second restores the minimum
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('with a zero ratio and minimum never allows a retry', () => {
    const budget = new RetryBudget(0, 0);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
  });
});
