import { ConsistentHash, MAGLEV_TABLE_SIZE, hash32 } from '../../../strategies/consistent-hash';
import { ctx, fakeWorkers, join, type FakeWorker } from './fixtures';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

function chash(workers: FakeWorker[], hashKey = 'ip'): ConsistentHash<FakeWorker> {
  const s = new ConsistentHash<FakeWorker>({ hashKey });
  join(s, workers);
  return s;
}

/** The worker each client address lands on. */
function route(s: ConsistentHash<FakeWorker>, avoid?: ReadonlySet<FakeWorker>): (FakeWorker | undefined)[] {
  return KEYS.map((ip) => s.pick(ctx(ip), avoid));
}

function countBy(routes: (FakeWorker | undefined)[]): Map<FakeWorker | undefined, number> {
  const counts = new Map<FakeWorker | undefined, number>();
  for (const w of routes) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

describe('consistent-hash (Maglev)', () => {
  it('sends the same key to the same worker every time, and spreads 10,000 keys evenly over 5 workers', () => {
    const workers = fakeWorkers(5);
    const s = chash(workers);
    const first = route(s);
    expect(route(s)).toEqual(first);
    const counts = countBy(first);
    expect(counts.size).toBe(5);
    for (const w of workers) expect(Math.abs(counts.get(w)! - 2_000)).toBeLessThan(150);
  });

  it('moves only about 1/N of keys when one of 5 workers leaves: all of its own, and almost none of the others', () => {
    const workers = fakeWorkers(5);
    const s = chash(workers);
    const before = route(s);
    const gone = workers[2];
    s.onWorkerDown(gone);
    const after = route(s);
    const moved = KEYS.filter((_, i) => before[i] !== after[i]).length;
    const movedFromOthers = KEYS.filter((_, i) => before[i] !== gone && before[i] !== after[i]).length;
    expect(after).not.toContain(gone);
    expect(moved / KEYS.length).toBeGreaterThan(0.15);
    expect(moved / KEYS.length).toBeLessThan(0.25);
    // Maglev trades perfect stability for an O(1), evenly filled table: the rebuild can shift a
    // handful of slots between survivors (its "minimal disruption", paper section 3.4). Here 3 keys of 10,000.
    expect(movedFromOthers / KEYS.length).toBeLessThan(0.005);
  });

  it('moves about 1/(N+1) of keys, nearly all to the newcomer, when a sixth worker joins', () => {
    const workers = fakeWorkers(6);
    const s = chash(workers.slice(0, 5));
    const before = route(s);
    s.onWorkerUp(workers[5]);
    const after = route(s);
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    const movedElsewhere = KEYS.filter((_, i) => before[i] !== after[i] && after[i] !== workers[5]);
    expect(moved.length / KEYS.length).toBeGreaterThan(0.13);
    expect(moved.length / KEYS.length).toBeLessThan(0.2);
    // As on leaving, a few keys shift between the old workers too: here 11 of 10,000.
    expect(movedElsewhere.length / KEYS.length).toBeLessThan(0.005);
  });

  it('gives a worker that leaves and comes back exactly its old keys, and ignores a second onWorkerUp', () => {
    const workers = fakeWorkers(5);
    const s = chash(workers);
    const before = route(s);
    s.onWorkerDown(workers[0]);
    s.onWorkerUp(workers[0]);
    s.onWorkerUp(workers[0]);
    expect(route(s)).toEqual(before);
  });

  it('builds the same table whatever order the workers joined in, so balancers agree', () => {
    const workers = fakeWorkers(5);
    expect(route(chash([...workers].reverse()))).toEqual(route(chash(workers)));
  });

  it('on retry falls to the next slot: deterministic, never an avoided worker, spread over the others', () => {
    const workers = fakeWorkers(5);
    const s = chash(workers);
    const failed = workers[1];
    const avoid = new Set([failed]);
    const before = route(s);
    const retried = route(s, avoid);
    expect(route(s, avoid)).toEqual(retried);
    expect(retried).not.toContain(failed);
    KEYS.forEach((_, i) => {
      if (before[i] !== failed) expect(retried[i]).toBe(before[i]);
    });
    const takers = countBy(KEYS.map((_, i) => (before[i] === failed ? retried[i] : undefined)).filter(Boolean));
    expect(takers.size).toBe(4);
  });

  it('returns undefined when every worker is avoided, or there are none', () => {
    const workers = fakeWorkers(3);
    const s = chash(workers);
    expect(s.pick(ctx(), new Set(workers))).toBeUndefined();
    const one = s.pick(ctx('10.9.9.9'))!;
    expect(s.pick(ctx('10.9.9.9'), new Set(workers.filter((w) => w !== one)))).toBe(one);
    expect(chash([]).pick(ctx())).toBeUndefined();
    for (const w of workers) s.onWorkerDown(w);
    expect(s.pick(ctx())).toBeUndefined();
  });

  it('gives table slots, and so keys, in proportion to weight, and follows a weight change', () => {
    const workers = fakeWorkers(['a', 'b', 'c'], [2, 1, 1]);
    const s = chash(workers);
    let counts = countBy(route(s));
    expect(Math.abs(counts.get(workers[0])! - 5_000)).toBeLessThan(200);
    expect(Math.abs(counts.get(workers[1])! - 2_500)).toBeLessThan(200);
    workers[0].weight = 1;
    s.onWeightChange(workers[0]);
    counts = countBy(route(s));
    for (const w of workers) expect(Math.abs(counts.get(w)! - 3_333)).toBeLessThan(200);
  });

  it('hashes by header when configured, falling back to the client address without it', () => {
    const workers = fakeWorkers(5);
    const s = chash(workers, 'header:X-User');
    const byUser = new Set(KEYS.slice(0, 200).map((ip) => s.pick(ctx(ip, { 'x-user': 'alice' }))));
    expect(byUser.size).toBe(1);
    const byIp = chash(workers, 'ip');
    for (const ip of KEYS.slice(0, 200)) expect(s.pick(ctx(ip))).toBe(byIp.pick(ctx(ip)));
  });

  it('hashes by cookie when configured', () => {
    const s = chash(fakeWorkers(5), 'cookie:sid');
    const picks = new Set(KEYS.slice(0, 200).map((ip) => s.pick(ctx(ip, { cookie: `theme=dark; sid=abc123` }))));
    expect(picks.size).toBe(1);
  });

  it('refuses an unknown hash key form when created, naming the accepted ones', () => {
    expect(() => new ConsistentHash({ hashKey: 'url' })).toThrow('invalid hash key "url"; accepted: ip, header:<name>, cookie:<name>');
  });
});

describe('hash32', () => {
  it('is FNV-1a 32 with an fmix32 finaliser: fixed values, all bits used', () => {
    // fmix32 of the published FNV-1a vectors (FNV-1a("a") = 0xe40c292c); pinned, since every
    // balancer must map a key to the same slot.
    expect(hash32('a')).toBe(444641715);
    expect(hash32('foobar')).toBe(202221276);
    expect(hash32('')).toBe(2872998923);
    expect(hash32('a')).not.toBe(hash32('b'));
    expect(hash32('a', 1)).not.toBe(hash32('a', 2));
    // Low bits matter for the modulo: consecutive keys land all over the table.
    const slots = new Set(Array.from({ length: 1_000 }, (_, i) => hash32(`key${i}`) % MAGLEV_TABLE_SIZE));
    expect(slots.size).toBeGreaterThan(990);
    for (const h of [hash32('x'), hash32('a long key with unicode ✓')]) {
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});
