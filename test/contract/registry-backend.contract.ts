import type { Registration } from '../../balancer/registry';

/**
 * The contract every registry backend keeps (balancer/registry-backend/types.ts), as a suite that
 * each implementation's test file runs with its own fleet: two handles on one backend. For the
 * memory backend both handles are the same process; for the cluster one, the primary and a serving
 * process; for Redis, two replicas. A handle is asynchronous so it may live in another process.
 */

/** One worker as a handle's local registry holds it. */
export interface ViewedWorker {
  url: string;
  name: string;
  weight: number;
  drained: boolean;
}

export type OperatorAction = { type: 'drain' | 'ready' | 'delete'; url: string } | { type: 'weight'; url: string; weight: number | undefined };

export interface ContractHandle {
  register(reg: Registration): Promise<'created' | 'refreshed'>;
  deregister(url: string): Promise<boolean>;
  claimNonce(nonce: string, ttlMs: number): Promise<boolean>;
  /** What an operator does through this handle's admin listener, applied to its local registry. */
  operator(action: OperatorAction): Promise<void>;
  /** The handle's local registry, sorted by URL. */
  view(): Promise<ViewedWorker[]>;
}

export interface ContractFleet {
  a: ContractHandle;
  b: ContractHandle;
  close(): Promise<void>;
}

/** How long a change may take to reach the other handle: the "within one second". */
export const PROPAGATION_MS = 1000;

async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + PROPAGATION_MS;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${PROPAGATION_MS} ms; last view ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const find = (view: ViewedWorker[], url: string) => view.find((w) => w.url === url);

let serial = 0;
/** A worker URL no other test uses (nothing listens there: health checks are off in contract fleets). */
const workerUrl = () => `http://127.0.0.1:${20_000 + (++serial % 10_000)}`;

/** Registers the contract's tests in the calling describe block; `open` builds a fresh fleet for each test. */
export function registryBackendContract(open: () => Promise<ContractFleet>): void {
  let fleet: ContractFleet;
  beforeEach(async () => {
    fleet = await open();
  });
  afterEach(async () => {
    await fleet.close();
  });

  /** A new worker registered through a, once b holds it too. */
  async function registeredOnBoth(): Promise<string> {
    const url = workerUrl();
    await fleet.a.register({ url, name: 'w1', weight: 1 });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url) !== undefined,
      'registration on b',
    );
    return url;
  }

  test('a registration is in force in its own handle at once and reaches the other within a second', async () => {
    const url = workerUrl();
    expect(await fleet.a.register({ url, name: 'w1', weight: 2 })).toBe('created');
    expect(find(await fleet.a.view(), url)).toEqual({ url, name: 'w1', weight: 2, drained: false });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.weight === 2,
      'registration on b',
    );
  });

  test('a heartbeat refreshes, and a new weight or name reaches the other handle', async () => {
    const url = workerUrl();
    await fleet.a.register({ url, name: 'w1', weight: 1 });
    expect(await fleet.a.register({ url, name: 'w1-renamed', weight: 3 })).toBe('refreshed');
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.weight === 3 && find(v, url)?.name === 'w1-renamed',
      'heartbeat on b',
    );
  });

  test('a deregistration through one handle removes the worker from the other', async () => {
    const url = await registeredOnBoth();
    expect(await fleet.b.deregister(url)).toBe(true);
    expect(find(await fleet.b.view(), url)).toBeUndefined();
    await eventually(
      () => fleet.a.view(),
      (v) => find(v, url) === undefined,
      'deregistration on a',
    );
    expect(await fleet.b.deregister(workerUrl())).toBe(false);
  });

  test("an operator's drain, ready and weight on one handle reach the other", async () => {
    const url = await registeredOnBoth();
    await fleet.a.operator({ type: 'drain', url });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.drained === true,
      'drain on b',
    );
    await fleet.a.operator({ type: 'weight', url, weight: 7 });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.weight === 7,
      'weight on b',
    );
    await fleet.a.operator({ type: 'ready', url });
    await fleet.a.operator({ type: 'weight', url, weight: undefined });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.drained === false && find(v, url)?.weight === 1,
      'ready and reset on b',
    );
  });

  test("an operator's weight outlives a heartbeat with another weight, through either handle", async () => {
    const url = await registeredOnBoth();
    await fleet.a.operator({ type: 'weight', url, weight: 5 });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url)?.weight === 5,
      'weight on b',
    );
    await fleet.b.register({ url, name: 'w1', weight: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(find(await fleet.a.view(), url)?.weight).toBe(5);
    expect(find(await fleet.b.view(), url)?.weight).toBe(5);
  });

  test("an operator's delete on one handle removes the worker from the other", async () => {
    const url = await registeredOnBoth();
    await fleet.a.operator({ type: 'delete', url });
    await eventually(
      () => fleet.b.view(),
      (v) => find(v, url) === undefined,
      'delete on b',
    );
  });

  test('a nonce is claimed once across the fleet', async () => {
    const nonce = `n-${process.pid}-${++serial}`;
    expect(await fleet.a.claimNonce(nonce, 30_000)).toBe(true);
    expect(await fleet.b.claimNonce(nonce, 30_000)).toBe(false);
    expect(await fleet.a.claimNonce(nonce, 30_000)).toBe(false);
    expect(await fleet.b.claimNonce(`${nonce}-other`, 30_000)).toBe(true);
  });
}
