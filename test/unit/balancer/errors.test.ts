import { classifyUpstreamError, errorBody, noWorker } from '../../../balancer/errors';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('classifyUpstreamError', () => {
  it.each(['UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_HEADERS_TIMEOUT', 'UPSTREAM_BODY_TIMEOUT', 'ETIMEDOUT'])('maps %s to 504 worker_timeout', (code) => {
    expect(classifyUpstreamError(withCode(code))).toMatchObject({ status: 504, code: 'worker_timeout' });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'UPSTREAM_CLOSED', 'EPIPE', 'SOMETHING_NEW'])('maps %s to 502 worker_unreachable', (code) => {
    expect(classifyUpstreamError(withCode(code))).toMatchObject({ status: 502, code: 'worker_unreachable' });
  });

  it('maps errors without a code, and non-errors, to 502', () => {
    expect(classifyUpstreamError(new Error('x')).status).toBe(502);
    expect(classifyUpstreamError(null).status).toBe(502);
    expect(classifyUpstreamError(undefined).status).toBe(502);
    expect(classifyUpstreamError('boom').status).toBe(502);
  });
});

describe('errorBody', () => {
  it('is JSON with the stable code as error and the message', () => {
    expect(JSON.parse(errorBody(classifyUpstreamError(withCode('UPSTREAM_HEADERS_TIMEOUT'))))).toEqual({
      error: 'worker_timeout',
      message: 'the worker did not answer in time',
    });
    expect(JSON.parse(errorBody(noWorker))).toEqual({ error: 'no_worker', message: 'no healthy worker is registered; retry shortly' });
  });

  it('leaves out retryAfter, which travels as a header', () => {
    expect(Object.keys(JSON.parse(errorBody(noWorker)) as object)).toEqual(['error', 'message']);
    expect(noWorker).toMatchObject({ status: 503, retryAfter: 1 });
  });
});
