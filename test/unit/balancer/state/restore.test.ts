import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TrustPolicy } from '../../../../balancer/proxy/forwarding';
import { WorkerRegistry, type WorkerRecord } from '../../../../balancer/registry';
import { restoreRegistry } from '../../../../balancer/state/restore';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import { WorkerAddressPolicy } from '../../../../balancer/worker-address';
import type { Strategy } from '../../../../strategies';

/** Restoring a real snapshot file into a real registry: what comes back, what is dropped, and what one warn line says. */
const TTL_MS = 15_000;
const NOW = Date.parse('2026-01-01T00:01:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
// TEST-NET-1 (RFC 5737): outside WORKER_ALLOW; the pools here are fakes, so nothing connects to it.
const OUTSIDE = 'http://192.0.2.9:8080';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'restore-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function restore(content: string | undefined) {
  const path = join(dir, 'registry.json');
  if (content !== undefined) writeFileSync(path, content);
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const up: string[] = [];
  const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: (w) => void up.push(w.url), onWorkerDown: () => undefined };
  const createPool = (): WorkerPool => ({ close: () => Promise.resolve() }) as unknown as WorkerPool;
  const registry = new WorkerRegistry(strategy, createPool, pino({ level: 'silent' }), () => NOW, { panicThresholdPercent: 0, registrationTtlMs: TTL_MS });
  const addresses = new WorkerAddressPolicy(new TrustPolicy('127.0.0.0/8'));
  await restoreRegistry(path, { registry, addresses, registrationTtlMs: TTL_MS, now: () => NOW, log });
  await registry.close();
  return { registry, lines, up, warnings: lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

const snapshot = (workers: unknown[], overrides: unknown[] = []) => JSON.stringify({ version: 1, writtenAt: iso(NOW - 1_000), workers, overrides });

describe('restoreRegistry', () => {
  it('puts the workers back in rotation as last seen, in order, with their overrides, and drops the expired and the no longer allowed', async () => {
    const { up, lines, warnings } = await restore(
      snapshot(
        [
          { url: B, name: 'b', registeredWeight: 2, lastSeenAt: iso(NOW - 5_000) },
          { url: A, name: 'a', registeredWeight: 1, lastSeenAt: iso(NOW - 1_000) },
          { url: 'http://127.0.0.1:8083', name: 'expired', registeredWeight: 1, lastSeenAt: iso(NOW - TTL_MS - 1) },
          { url: OUTSIDE, name: 'outside', registeredWeight: 1, lastSeenAt: iso(NOW - 1_000) },
        ],
        [{ url: A, drain: { since: iso(NOW - 2_000), by: 'admin' }, weight: 5, absentSince: null }],
      ),
    );
    // A is restored drained: never handed to the strategy.
    expect(up).toEqual([B]);
    expect(warnings).toEqual(['worker in the registry snapshot not restored']);
    expect(lines.find((l) => l.msg === 'registry restored from the snapshot')).toMatchObject({ restored: 2, expired: 1, refused: 1 });
  });

  it('restores the fields it keeps', async () => {
    const path = join(dir, 'registry.json');
    writeFileSync(
      path,
      snapshot([{ url: A, name: 'a', registeredWeight: 3, lastSeenAt: iso(NOW - 4_000) }], [{ url: A, drain: null, weight: 9, absentSince: null }]),
    );
    const registry = new WorkerRegistry(
      { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined },
      () => ({ close: () => Promise.resolve() }) as unknown as WorkerPool,
      pino({ level: 'silent' }),
      () => NOW,
      { panicThresholdPercent: 0, registrationTtlMs: TTL_MS },
    );
    await restoreRegistry(path, { registry, addresses: new WorkerAddressPolicy(), registrationTtlMs: TTL_MS, now: () => NOW, log: pino({ level: 'silent' }) });
    expect(registry.stateOf(registry.get(A)!)).toMatchObject({
      name: 'a',
      weight: 9,
      registeredWeight: 3,
      weightOverride: 9,
      lastSeenMsAgo: 4_000,
      inRotation: true,
    });
    await registry.close();
  });

  it('is silent without a file, and one warn line with an empty registry for a corrupt one', async () => {
    expect((await restore(undefined)).lines).toEqual([]);
    for (const corrupt of ['{"version": 1, "workers": [', '\0\0\0', snapshot([{ url: A, name: 'a', registeredWeight: 1 }])]) {
      const { registry, warnings, up } = await restore(corrupt);
      expect(warnings).toEqual(['the registry snapshot is not usable; starting with an empty registry']);
      expect([registry.size, up]).toEqual([0, []]);
    }
  });
});
