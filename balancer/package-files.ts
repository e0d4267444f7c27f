import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The nearest folder, from this file upward, that holds `relative`. This file lies at a different depth
 * in the sources (balancer/) than in the build (dist/balancer/), and the Docker image keeps only dist/
 * beside package.json, so files are found by walking up, not by a fixed path. Called once at start.
 */
export function findUp(relative: string, from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** package.json's version, for /status; 'unknown' if it cannot be read. */
export function packageVersion(): string {
  try {
    const { version } = JSON.parse(readFileSync(join(findUp('package.json') ?? '.', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The dashboard's folder: dashboard/ at the repository's root in development (served as written), or
 * dist/dashboard/ in the Docker image, where the build stage puts it.
 */
export function dashboardDir(): string | undefined {
  const root = findUp(join('dashboard', 'index.html'));
  return root === undefined ? undefined : join(root, 'dashboard');
}
