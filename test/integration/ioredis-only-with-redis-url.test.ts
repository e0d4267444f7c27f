import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST } from '../helpers/processes';

/**
 * ioredis loaded at start made every proxied request cost about a third more instructions, though
 * none of it runs per request (docs/performance.md, "Loading ioredis"): the balancer's module graph
 * must not load it unless REDIS_URL asks for the shared registry. Checked in a fresh node process
 * on the compiled entry modules (requiring them starts nothing).
 */
function ioredisModulesAfter(modules: string[]): number {
  const script = `${modules.map((m) => `require(${JSON.stringify(join(DIST, m))});`).join('')}
    process.stdout.write(String(Object.keys(require.cache).filter((k) => k.includes('/node_modules/ioredis/')).length));`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

test('the balancer, the primary and a serving process load no ioredis module without REDIS_URL', () => {
  expect(ioredisModulesAfter(['balancer/index.js', 'balancer/cluster/primary.js', 'balancer/cluster/serving.js'])).toBe(0);
});

test('the Redis backend does load it (the check above can fail)', () => {
  expect(ioredisModulesAfter(['balancer/shared-registry/redis-backend.js'])).toBeGreaterThan(0);
});
