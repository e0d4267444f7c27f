import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { RegistryChange } from '../registry-changes';
import { problemOf } from './redis-client';
import { redisKeys, type RedisKeys } from './redis-keys';
import type { ChangeMessage, SharedOverride, SharedSnapshot, SharedWorker, StoreResult } from './types';

// Each write is one script, so the record, the index, the revision and the message are one atomic step
// and messages leave in revision order. The message body is the JSON after its opening brace.
const PUT_WORKER = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[5], '{"rev":' .. rev .. ',' .. ARGV[6])
return rev`;

const REMOVE_WORKER = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], '{"rev":' .. rev .. ',' .. ARGV[3])
return rev`;

const PUT_OVERRIDE = `
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
end
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[3], '{"rev":' .. rev .. ',' .. ARGV[4])
return rev`;

const ENSURE_EPOCH = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])`;

/**
 * The shared registry in Redis (issue 13, REDIS_URL): each worker a key with a PX expiry its heartbeats
 * refresh, an index sorted set, a revision counter, a pub/sub channel of changes, replay nonces and the
 * operator's overrides. Called by a replica's view (redis-view.ts) on registrations, heartbeats and
 * operator actions, never per request. Every method returns a StoreResult: Redis being unreachable is
 * expected, and the caller keeps its local view meanwhile.
 */
export class RedisRegistryStore {
  readonly keys: RedisKeys;
  /** Names this store in the messages it publishes, so a view can tell its own changes. */
  readonly origin = randomBytes(8).toString('hex');

  constructor(
    private readonly redis: Redis,
    prefix = 'lb:',
  ) {
    this.keys = redisKeys(prefix);
  }

  /** A registration or heartbeat: writes the record with `ttlMs` left to live, and publishes `change`. */
  putWorker(worker: SharedWorker, ttlMs: number, change: RegistryChange): Promise<StoreResult<number>> {
    const k = this.keys;
    const px = String(Math.max(1, Math.round(ttlMs)));
    const body = this.body({ change, worker });
    return this.run(() =>
      this.redis.eval(PUT_WORKER, 3, k.worker(worker.url), k.index, k.rev, JSON.stringify(worker), px, String(worker.lastSeenAt), worker.url, k.changes, body),
    );
  }

  /** A deregistration or an operator's delete: the record and its index entry go, and `change` is published. */
  removeWorker(url: string, change: RegistryChange): Promise<StoreResult<number>> {
    const k = this.keys;
    return this.run(() => this.redis.eval(REMOVE_WORKER, 3, k.worker(url), k.index, k.rev, url, k.changes, this.body({ change })));
  }

  /** An operator's drain or weight for `url`; undefined (or neither set) forgets the override. */
  putOverride(url: string, override: SharedOverride | undefined, change: RegistryChange): Promise<StoreResult<number>> {
    const k = this.keys;
    const kept = override !== undefined && (override.drain !== undefined || override.weight !== undefined) ? override : null;
    const json = kept === null ? '' : JSON.stringify({ drain: kept.drain ?? null, weight: kept.weight ?? null });
    return this.run(() => this.redis.eval(PUT_OVERRIDE, 3, k.override(url), k.overrides, k.rev, json, url, k.changes, this.body({ change, override: kept })));
  }

  /**
   * A registration's nonce, claimed for `windowMs` across every replica: true when it was fresh, false
   * when some replica (this one included) saw it already, so a replayed registration is refused everywhere.
   */
  async claimNonce(nonce: string, windowMs: number): Promise<StoreResult<boolean>> {
    try {
      const reply = await this.redis.set(this.keys.nonce(nonce), '1', 'PX', Math.max(1, Math.round(windowMs)), 'NX');
      return { ok: true, value: reply === 'OK' };
    } catch (err) {
      return { ok: false, problem: problemOf(err) };
    }
  }

  /** Sets the epoch to `candidate` unless one is set; returns the epoch in force. */
  async ensureEpoch(candidate: string): Promise<StoreResult<string>> {
    try {
      const epoch = await this.redis.eval(ENSURE_EPOCH, 1, this.keys.epoch, candidate);
      return { ok: true, value: String(epoch) };
    } catch (err) {
      return { ok: false, problem: problemOf(err) };
    }
  }

  /**
   * Everything, for a resynchronisation: the index, then the records (MGET) and the overrides. Index
   * entries whose record has expired are dropped from the index here (expiry has no message). A change
   * made between the two reads may be in the snapshot and also arrive as a message: applying both is
   * harmless, as messages carry whole records.
   */
  async snapshot(): Promise<StoreResult<SharedSnapshot>> {
    const k = this.keys;
    try {
      const first = await this.redis.multi().zrange(k.index, 0, '-1').smembers(k.overrides).get(k.rev).get(k.epoch).exec();
      const [urls, overrideUrls, rev, epoch] = replies(first) as [string[], string[], string | null, string | null];
      const workerJson = urls.length === 0 ? [] : await this.redis.mget(urls.map((u) => k.worker(u)));
      const overrideJson = overrideUrls.length === 0 ? [] : await this.redis.mget(overrideUrls.map((u) => k.override(u)));
      const workers: SharedWorker[] = [];
      const expired: string[] = [];
      urls.forEach((url, i) => {
        const json = workerJson[i];
        if (json === null) expired.push(url);
        else workers.push(JSON.parse(json) as SharedWorker);
      });
      if (expired.length > 0) await this.redis.zrem(k.index, ...expired);
      const overrides = new Map<string, SharedOverride>();
      overrideUrls.forEach((url, i) => {
        const json = overrideJson[i];
        if (json !== null) overrides.set(url, parseOverride(json));
      });
      return { ok: true, value: { epoch: epoch ?? undefined, rev: Number(rev ?? 0), workers, overrides } };
    } catch (err) {
      return { ok: false, problem: problemOf(err) };
    }
  }

  private body(rest: Omit<ChangeMessage, 'rev' | 'origin'>): string {
    return JSON.stringify({ origin: this.origin, ...rest }).slice(1);
  }

  private async run(write: () => Promise<unknown>): Promise<StoreResult<number>> {
    try {
      return { ok: true, value: Number(await write()) };
    } catch (err) {
      return { ok: false, problem: problemOf(err) };
    }
  }
}

/** A stored override's JSON (nulls for "not set") as a SharedOverride. */
export function parseOverride(json: string): SharedOverride {
  const o = JSON.parse(json) as { drain: { since: number } | null; weight: number | null };
  return { drain: o.drain ?? undefined, weight: o.weight ?? undefined };
}

/** A MULTI's replies, or the first error in it thrown (snapshot() turns it into a StoreResult). */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('the transaction was aborted');
  return results.map(([err, value]) => {
    if (err !== null) throw err;
    return value;
  });
}
