// Runs one controller: feeds its work queue from informer events and a
// periodic resync, hands keys to its reconcile with at most one worker per
// key, retries failures with exponential backoff, and honours requeueAfter.
// Controllers hold only their reconcile logic; all bookkeeping lives here.
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import type { Metrics, WorkQueueMetrics } from '../util/metrics.ts';
import { DEFAULT_BACKOFF, WorkQueue, type BackoffOptions, type KeyOrder } from './queue.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this many ms (e.g. to check progress). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  readonly name: string;
  /** Level-triggered: reads desired and observed state, makes one step toward desired. */
  reconcile(key: string): Promise<ReconcileResult | void>;
  /** The order its queued keys are handed out in, when not first in, first out. */
  queueOrder?(): KeyOrder;
}

/** An error that retrying cannot fix (an invalid spec): recorded, not retried. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

export interface RunnerOptions {
  clock?: Clock;
  workers?: number;
  /** Every key from resyncKeys() is queued this often; 0 turns resync off. */
  resyncMs?: number;
  resyncKeys?: () => string[] | Promise<string[]>;
  backoff?: BackoffOptions;
  /**
   * A reconcile still running after this long counts as failed and frees its
   * key (a hung Docker daemon must not hold a worker and a key forever).
   */
  reconcileTimeoutMs?: number;
  log?: (message: string) => void;
  /** Where the queue's depth, adds and reconcile times are reported, under the reconciler's name. */
  metrics?: Metrics;
}

export class ControllerRunner {
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly opts: RunnerOptions;
  private readonly clock: Clock;
  private resyncTimer?: Timer;
  private workers: Promise<void>[] = [];
  private running = false;
  private readonly queueMetrics?: WorkQueueMetrics;
  /** Reconciles completed, failed: for tests and metrics. */
  readonly stats = { reconciles: 0, failures: 0 };

  constructor(reconciler: Reconciler, opts: RunnerOptions = {}) {
    this.reconciler = reconciler;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.queueMetrics = opts.metrics?.workqueue(reconciler.name, () => this.queue.length);
    this.queue = new WorkQueue(this.clock, opts.backoff ?? DEFAULT_BACKOFF, this.queueMetrics, reconciler.queueOrder?.());
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < (this.opts.workers ?? 1); i++) this.workers.push(this.work());
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resyncTimer?.cancel();
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
    this.queueMetrics?.close();
  }

  private withDeadline<T>(key: string, work: Promise<T>): Promise<T> {
    const ms = this.opts.reconcileTimeoutMs ?? 60_000;
    let timer: Timer | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.clock.setTimer(() => reject(new Error(`reconcile of ${key} took longer than ${ms} ms`)), ms);
    });
    work.catch(() => { /* reported through the race, or too late to matter */ });
    return Promise.race([work, deadline]).finally(() => timer?.cancel());
  }

  private scheduleResync(): void {
    const every = this.opts.resyncMs ?? 0;
    if (!every || !this.opts.resyncKeys) return;
    this.resyncTimer = this.clock.setTimer(async () => {
      if (!this.running) return;
      try {
        for (const key of await this.opts.resyncKeys!()) this.queue.add(key);
      } catch (err) {
        this.opts.log?.(`${this.reconciler.name}: resync failed: ${(err as Error).message}`);
      }
      this.scheduleResync();
    }, every);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await this.withDeadline(key, this.reconciler.reconcile(key));
        this.stats.reconciles++;
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        this.stats.failures++;
        if (err instanceof TerminalError) {
          this.queue.forget(key);
          this.opts.log?.(`${this.reconciler.name}: ${key}: ${err.message} (not retried)`);
        } else {
          const delay = this.queue.addRateLimited(key);
          this.opts.log?.(`${this.reconciler.name}: ${key}: ${(err as Error).message}; retrying in ${delay} ms`);
        }
      } finally {
        this.queueMetrics?.worked((performance.now() - started) / 1000);
        this.queue.done(key);
      }
    }
  }
}
