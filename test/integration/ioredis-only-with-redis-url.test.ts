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

/**
 * Why ioredis cost so much (balancer/shared-registry/string-prototype.ts): its `class VerbatimString
 * extends String` leaves String.prototype a dictionary, so the request path's String method loads go
 * generic. Asked of V8 itself (%HasFastProperties) in a fresh node process.
 */
function stringPrototypeFastAfter(modules: string[]): boolean {
  const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}
    process.stdout.write(String(%HasFastProperties(String.prototype)));`;
  return JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8', cwd: DIST })) as boolean;
}

test('with REDIS_URL, loading ioredis leaves String.prototype fast, as it is without', () => {
  expect(stringPrototypeFastAfter([])).toBe(true);
  expect(stringPrototypeFastAfter([join(DIST, 'balancer/shared-registry/redis-backend.js')])).toBe(true);
});

test('ioredis alone still makes String.prototype slow (when this fails, string-prototype.ts can go)', () => {
  expect(stringPrototypeFastAfter([require.resolve('ioredis')])).toBe(false);
});
