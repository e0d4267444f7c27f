/** Why an exchange with a worker failed, as stable codes the retry policy and the 502/504 mapping read. */
export type UpstreamErrorCode = 'UPSTREAM_CONNECT_TIMEOUT' | 'UPSTREAM_HEADERS_TIMEOUT' | 'UPSTREAM_BODY_TIMEOUT' | 'UPSTREAM_CLOSED' | 'UPSTREAM_POOL_CLOSED';

const MESSAGES: Record<UpstreamErrorCode, string> = {
  UPSTREAM_CONNECT_TIMEOUT: 'connecting to the worker timed out',
  UPSTREAM_HEADERS_TIMEOUT: 'the worker did not start its response in time',
  UPSTREAM_BODY_TIMEOUT: 'the worker went silent in the middle of its response',
  UPSTREAM_CLOSED: 'the worker closed the connection before the response ended',
  UPSTREAM_POOL_CLOSED: 'the worker left the pool before this request could be sent',
};

export class UpstreamError extends Error {
  constructor(readonly code: UpstreamErrorCode) {
    super(MESSAGES[code]);
  }
}
