// The work queue every controller runs on, with client-go's semantics:
// - a key is queued at most once however often it is added (dedupe);
// - a key being processed is never handed to a second worker; if it is added
//   meanwhile it is marked dirty and queued again when the first finishes;
// - failures back off exponentially per key until forget() on success.
import type { Clock, Timer } from '../util/clock.ts';
import type { WorkQueueMetrics } from '../util/metrics.ts';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 30_000 };

/** Where queued keys wait their turn: first in, first out unless a controller orders them (the scheduler: by pod priority). */
export interface KeyOrder {
  push(key: string): void;
  shift(): string | undefined;
  clear(): void;
  readonly length: number;
}

class FifoKeys implements KeyOrder {
  private readonly keys: string[] = [];
  push(key: string): void { this.keys.push(key); }
  shift(): string | undefined { return this.keys.shift(); }
  clear(): void { this.keys.length = 0; }
  get length(): number { return this.keys.length; }
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;
  private readonly queue: KeyOrder;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private stopped = false;
  private wakeScheduled = false;
  private readonly metrics?: Pick<WorkQueueMetrics, 'added'>;

  constructor(clock: Clock, backoff: BackoffOptions = DEFAULT_BACKOFF, metrics?: Pick<WorkQueueMetrics, 'added'>, order: KeyOrder = new FifoKeys()) {
    this.clock = clock;
    this.queue = order;
    this.backoff = backoff;
    this.metrics = metrics;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    // Counted as client-go counts adds: once per key queued, not per duplicate.
    this.metrics?.added();
    this.queued.add(key);
    this.queue.push(key);
    // Waiting workers are woken on a microtask, not here: adds made in the
    // same synchronous burst still find the key queued and are deduplicated.
    if (this.waiters.length && !this.wakeScheduled) {
      this.wakeScheduled = true;
      queueMicrotask(() => this.wake());
    }
  }

  private wake(): void {
    this.wakeScheduled = false;
    while (this.waiters.length && this.queue.length) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.waiters.shift()!(key);
    }
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now().getTime() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a failed key after its next backoff: base * 2^failures, capped. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** n);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure count (after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue is shut down (what is still queued is dropped, not worked off). */
  get(): Promise<string | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key finished; if it was added while processing, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /**
   * Stops handing out keys: each worker finishes the key it holds and gets
   * no other. (Working off the rest first made a loaded kcs take minutes to
   * stop, reconciling thousands of nodes it was about to leave.)
   */
  shutdown(): void {
    this.stopped = true;
    this.queue.clear();
    this.queued.clear();
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  get length(): number {
    return this.queue.length;
  }
}
