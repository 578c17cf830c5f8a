// In-process watch fan-out shared by backends that see every write themselves
// (SQLite). Each watcher gets its own queue, drained on a microtask, so a
// handler that writes back to the store never re-enters the write that fed it.
import type { StoreEvent, WatchCallbacks, WatchHandle } from './store.ts';

class Watcher implements WatchHandle {
  readonly prefix: string;
  private queue: StoreEvent[] = [];
  private scheduled = false;
  private stopped = false;
  private readonly callbacks: WatchCallbacks;
  private readonly onStop: (w: Watcher) => void;
  /** Events at or below this revision were asked not to be delivered. */
  private readonly afterRevision: number;

  constructor(prefix: string, afterRevision: number, callbacks: WatchCallbacks, onStop: (w: Watcher) => void) {
    this.prefix = prefix;
    this.afterRevision = afterRevision;
    this.callbacks = callbacks;
    this.onStop = onStop;
  }

  push(event: StoreEvent): void {
    if (this.stopped || event.revision <= this.afterRevision) return;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) {
      if (this.stopped) return;
      try {
        this.callbacks.onEvent(event);
      } catch (err) {
        // A watcher whose handler fails cannot be trusted to have seen the
        // event: end it, so the owner re-lists instead of silently missing one.
        this.fail(err as Error);
        return;
      }
    }
  }

  fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.callbacks.onError?.(err);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.onStop(this);
  }
}

export class WatcherSet {
  private readonly watchers = new Set<Watcher>();

  add(prefix: string, afterRevision: number, callbacks: WatchCallbacks): Watcher {
    const w = new Watcher(prefix, afterRevision, callbacks, (x) => this.watchers.delete(x));
    this.watchers.add(w);
    return w;
  }

  publish(event: StoreEvent): void {
    for (const w of this.watchers) {
      if (event.key.startsWith(w.prefix)) w.push(event);
    }
  }

  failAll(err: Error): void {
    for (const w of [...this.watchers]) w.fail(err);
  }

  get size(): number {
    return this.watchers.size;
  }
}
