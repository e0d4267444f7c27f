import { z } from 'zod';
import { workerWeight } from '../registration';
import type { WorkerRegistry } from '../registry';
import type { Override } from '../worker-overrides';

/**
 * STATE_DIR/registry.json: what a restarted balancer needs to serve the same fleet at once. Times are
 * ISO 8601, so an operator can read the file. lastSeenAt is coarse: a heartbeat alone rewrites the file
 * at most once per lastSeenResolutionMs (snapshot-writer.ts); a clean shutdown writes it exactly.
 * Health verdicts, ejections and counters are not kept: a restarted balancer probes afresh.
 */
export const SNAPSHOT_VERSION = 1;

const time = z.iso.datetime();

const snapshotSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  writtenAt: time,
  workers: z.array(z.object({ url: z.string(), name: z.string().min(1).max(128), registeredWeight: workerWeight, lastSeenAt: time })),
  overrides: z.array(
    z.object({
      url: z.string(),
      // Only an operator's drain is an override; a worker's own leaving is not kept.
      drain: z.object({ since: time, by: z.literal('admin') }).nullable(),
      weight: workerWeight.nullable(),
      absentSince: time.nullable(),
    }),
  ),
});

export type SnapshotFile = z.infer<typeof snapshotSchema>;

/** A snapshot as the registry takes it back: times in ms epoch. */
export interface Snapshot {
  writtenAt: number;
  workers: { url: string; name: string; registeredWeight: number; lastSeenAt: number }[];
  overrides: { url: string; override: Override }[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (text: string) => Date.parse(text);

/** The registry as the snapshot file holds it, in registration order (so round robin restarts in the same order). */
export function snapshotOf(registry: WorkerRegistry, now: number): SnapshotFile {
  const workers = [...registry.records()].map((w) => ({ url: w.url, name: w.name, registeredWeight: w.registeredWeight, lastSeenAt: iso(w.lastSeenAt) }));
  const overrides = [...registry.overrides.entries()].map(([url, o]) => ({
    url,
    drain: o.drain === undefined ? null : { since: iso(o.drain.since), by: 'admin' as const },
    weight: o.weight ?? null,
    absentSince: o.absentSince === undefined ? null : iso(o.absentSince),
  }));
  return { version: SNAPSHOT_VERSION, writtenAt: iso(now), workers, overrides };
}

/** Reads the file's text back, or says in one sentence why it cannot be used. */
export function parseSnapshot(text: string): { snapshot: Snapshot } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'it is not valid JSON' };
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${issue.path.join('.') || 'the file'}: ${issue.message}` };
  }
  const file = parsed.data;
  return {
    snapshot: {
      writtenAt: ms(file.writtenAt),
      workers: file.workers.map((w) => ({ ...w, lastSeenAt: ms(w.lastSeenAt) })),
      overrides: file.overrides.map((o) => ({
        url: o.url,
        override: {
          drain: o.drain === null ? undefined : { since: ms(o.drain.since), by: 'admin' },
          weight: o.weight ?? undefined,
          absentSince: o.absentSince === null ? undefined : ms(o.absentSince),
        },
      })),
    },
  };
}
