import { reconnectDelay } from '../../../../balancer/shared-registry/redis-client';

test('reconnection backoff doubles from 100 ms and stops at its cap', () => {
  expect([1, 2, 3, 4, 5, 6, 50].map((attempt) => reconnectDelay(attempt, 2_000))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
});
