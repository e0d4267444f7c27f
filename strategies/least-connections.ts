import type { Candidate, PickContext, Strategy } from './strategy';

/**
 * Least connections: the worker with the fewest requests in flight; among equals, round robin (the
 * one picked goes to the back of its group, and a worker whose count changes joins its new group at
 * the back).
 * Structure: workers grouped in buckets by in-flight count, the buckets in a list sorted by count
 * (the O(1) LFU layout of Shah, Mitra and Matani). The proxy changes a count by exactly one, right
 * before onRequestStart/onRequestEnd, so a worker only ever moves to a neighbouring bucket.
 * Cost: O(1) per pick (O(|avoid|) on a retry: it walks past the avoided workers in order) and per
 * request start or end; O(b) per join, b the number of distinct counts (b <= n), to find its bucket.
 * References: HAProxy's leastconn (src/lb_fwlc.c), which does the same with a tree in O(log n);
 * Shah, Mitra, Matani, "An O(1) algorithm for implementing the LFU cache eviction scheme" (2010).
 */
export class LeastConnections<W extends Candidate> implements Strategy<W> {
  readonly name = 'least-connections';
  private readonly nodes = new Map<W, Node<W>>();
  /** The bucket with the lowest count; undefined when there are no workers. */
  private lowest: Bucket<W> | undefined;

  pick(_ctx: PickContext, avoid?: ReadonlySet<W>): W | undefined {
    for (let bucket = this.lowest; bucket; bucket = bucket.next) {
      for (let node = bucket.head; node; node = node.next) {
        if (avoid?.has(node.worker)) continue;
        // Round robin among equals: the next pick at this count starts with someone else.
        this.unlinkNode(node);
        this.append(bucket, node);
        return node.worker;
      }
    }
    return undefined;
  }

  /** Joins at the worker's current in-flight count: a worker coming back may still have requests running. */
  onWorkerUp(worker: W): void {
    if (this.nodes.has(worker)) return;
    const bucket = this.bucketFor(worker.inflight, this.lowest);
    const node: Node<W> = { worker, bucket, prev: undefined, next: undefined };
    this.nodes.set(worker, node);
    this.append(bucket, node);
  }

  onWorkerDown(worker: W): void {
    const node = this.nodes.get(worker);
    if (!node) return;
    this.nodes.delete(worker);
    this.detach(node);
  }

  /** Called by the proxy right after worker.inflight++; requests to workers no longer held are ignored. */
  onRequestStart(worker: W): void {
    this.sync(worker);
  }

  /** Called by the proxy right after worker.inflight--. */
  onRequestEnd(worker: W): void {
    this.sync(worker);
  }

  /**
   * Moves the worker to the bucket of its current count. The search starts at its old bucket, which
   * stays in the list until then even if empty, so a change of one costs one step.
   */
  private sync(worker: W): void {
    const node = this.nodes.get(worker);
    if (!node || node.bucket.count === worker.inflight) return;
    const from = node.bucket;
    this.unlinkNode(node);
    this.append(this.bucketFor(worker.inflight, from), node);
    if (!from.head) this.dropBucket(from);
  }

  /** The bucket for `count`, created in its place in the list if there is none; the search starts at `near`. */
  private bucketFor(count: number, near: Bucket<W> | undefined): Bucket<W> {
    // The last bucket whose count is <= count, or undefined if count is below all of them.
    let before = near;
    if (before && before.count <= count) {
      while (before.next && before.next.count <= count) before = before.next;
    } else {
      while (before && before.count > count) before = before.prev;
    }
    let bucket = before;
    if (!bucket || bucket.count !== count) {
      const next = before ? before.next : this.lowest;
      bucket = { count, head: undefined, tail: undefined, prev: before, next };
      if (next) next.prev = bucket;
      if (before) before.next = bucket;
      else this.lowest = bucket;
    }
    return bucket;
  }

  private detach(node: Node<W>): void {
    const bucket = node.bucket;
    this.unlinkNode(node);
    if (!bucket.head) this.dropBucket(bucket);
  }

  private append(bucket: Bucket<W>, node: Node<W>): void {
    node.bucket = bucket;
    node.prev = bucket.tail;
    node.next = undefined;
    if (bucket.tail) bucket.tail.next = node;
    else bucket.head = node;
    bucket.tail = node;
  }

  /** Takes the node out of its bucket's list; the bucket stays in place even when left empty. */
  private unlinkNode(node: Node<W>): void {
    const bucket = node.bucket;
    if (node.prev) node.prev.next = node.next;
    else bucket.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else bucket.tail = node.prev;
    node.prev = node.next = undefined;
  }

  private dropBucket(bucket: Bucket<W>): void {
    if (bucket.prev) bucket.prev.next = bucket.next;
    else this.lowest = bucket.next;
    if (bucket.next) bucket.next.prev = bucket.prev;
  }
}

interface Node<W> {
  readonly worker: W;
  bucket: Bucket<W>;
  prev: Node<W> | undefined;
  next: Node<W> | undefined;
}

/** The workers with `count` requests in flight, oldest arrival first; never empty while in the list. */
interface Bucket<W> {
  readonly count: number;
  head: Node<W> | undefined;
  tail: Node<W> | undefined;
  prev: Bucket<W> | undefined;
  next: Bucket<W> | undefined;
}
