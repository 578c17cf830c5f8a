// An informer keeps a local cache of one kind by list+watch, and tells its
// handlers what changed. When a watch ends it watches again from the last
// revision it saw whole (bookmarks keep that recent while nothing changes),
// as Kubernetes' reflector does, and skips the events it already has; only
// when the server cannot resume it (410 Expired, any ERROR) does it list
// again and report the difference.
// So a restart of the server costs each informer a watch, not a list.
import { errorCode, type KcsClient, type Selectors } from './interface.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, WatchEvent } from '../objects/types.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(prev: T, obj: T): void;
  delete?(obj: T): void;
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

export interface InformerOptions extends Selectors {
  namespace?: string;
  clock?: Clock;
  /** Wait before listing again after a watch ends; doubles on repeated failures. */
  relistDelayMs?: number;
  log?: (message: string) => void;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: KindInfo;
  private readonly client: KcsClient;
  private readonly opts: InformerOptions;
  private readonly clock: Clock;
  private readonly cache = new Map<string, T>();
  /** Named indexes: index -> value -> key -> object (Kubernetes' indexers). */
  private readonly indexes = new Map<string, { valueOf: (obj: T) => string | undefined; byValue: Map<string, Map<string, T>> }>();
  private readonly handlers: Array<InformerHandlers<T>> = [];
  private watch?: { stop(): void };
  private relistTimer?: Timer;
  private failures = 0;
  private stopped = false;
  private synced = false;

  constructor(client: KcsClient, kind: KindInfo, opts: InformerOptions = {}) {
    this.client = client;
    this.kind = kind;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  /**
   * Keeps the objects by valueOf(obj) (undefined: not indexed), so byIndex
   * answers "the pods on node X" without looking at every pod. Add indexes
   * before start().
   */
  addIndex(name: string, valueOf: (obj: T) => string | undefined): void {
    const byValue = new Map<string, Map<string, T>>();
    for (const [key, obj] of this.cache) place(byValue, valueOf(obj), key, obj);
    this.indexes.set(name, { valueOf, byValue });
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /** The cached objects whose indexed value is value (shared: copy before changing one). */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`${this.kind.plural} informer has no index ${name}`);
    return [...(index.byValue.get(value)?.values() ?? [])];
  }

  /** The values an index has objects for. */
  indexValues(name: string): string[] {
    return [...(this.indexes.get(name)?.byValue.keys() ?? [])];
  }

  /** Resolves once the first list is in the cache. */
  async start(): Promise<void> {
    await this.listAndWatch();
  }

  stop(): void {
    this.stopped = true;
    this.relistTimer?.cancel();
    this.watch?.stop();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Cached objects are shared: copy before changing one. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    const list = await this.client.list<T>(this.kind, this.opts.namespace, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector });
    if (this.stopped) return; // stopped while listing: start no watch
    this.replace(list.items);
    this.synced = true;
    this.watchFrom(list.metadata.resourceVersion);
  }

  private watchFrom(resourceVersion: string): void {
    const seen = new RevisionsSeen(resourceVersion);
    let expired = false;
    const handle = this.client.watch(this.kind, this.opts.namespace, {
      labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, resourceVersion, allowWatchBookmarks: true,
    }, (event: WatchEvent) => {
      const e = event as WatchEvent<T>;
      if (e.type === 'ERROR') {
        expired = true;
        return;
      }
      seen.saw(e.object.metadata.resourceVersion, e.type === 'BOOKMARK');
      this.failures = 0;
      if (e.type !== 'BOOKMARK' && !this.alreadyHas(e.type, e.object)) this.apply(e.type, e.object);
    });
    this.watch = handle;
    // Ended cleanly or the connection lost: resume from the last revision
    // seen whole. Refused (an ERROR event, or an HTTP status such as 504 for
    // a revision the server never reached): list again.
    handle.done.then(() => this.rewatchLater(expired ? undefined : seen.whole, false), (err) => this.rewatchLater(errorCode(err) === undefined ? seen.whole : undefined, true));
  }

  /**
   * An event of a revision watched again: resuming from the last revision
   * seen whole sends again those events of the next one that did arrive.
   * A change always takes a new resourceVersion, so an object cached at the
   * event's own version (or a delete of one not cached) is one already had.
   */
  private alreadyHas(type: WatchEvent['type'], obj: T): boolean {
    const cached = this.cache.get(objectKey(obj));
    if (type === 'DELETED') return cached === undefined;
    return cached !== undefined && cached.metadata.resourceVersion === obj.metadata.resourceVersion;
  }

  /** Watches again from resourceVersion, or (undefined) lists and watches afresh; after a back-off if failed. */
  private rewatchLater(resourceVersion: string | undefined, failed: boolean): void {
    if (this.stopped) return;
    if (failed || resourceVersion === undefined) this.failures++;
    const base = this.opts.relistDelayMs ?? 200;
    const delay = Math.min(30_000, base * 2 ** Math.max(0, this.failures - 1));
    this.relistTimer = this.clock.setTimer(() => {
      if (this.stopped) return;
      if (resourceVersion !== undefined) {
        this.watchFrom(resourceVersion);
        return;
      }
      this.listAndWatch().catch((err) => {
        this.opts.log?.(`${this.kind.plural} informer: list failed: ${(err as Error).message}`);
        this.rewatchLater(undefined, true);
      });
    }, failed || resourceVersion === undefined ? delay : 0);
  }

  private apply(type: WatchEvent['type'], obj: T): void {
    const key = objectKey(obj);
    const prev = this.cache.get(key);
    for (const { valueOf, byValue } of this.indexes.values()) {
      if (prev) unplace(byValue, valueOf(prev), key);
      if (type !== 'DELETED') place(byValue, valueOf(obj), key, obj);
    }
    if (type === 'DELETED') {
      this.cache.delete(key);
      if (prev) for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    this.cache.set(key, obj);
    for (const h of this.handlers) {
      if (prev) h.update?.(prev, obj);
      else h.add?.(obj);
    }
  }

  /** A fresh list replaces the cache; the difference is reported as events. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const prev = this.cache.get(key);
      if (!prev || prev.metadata.resourceVersion !== obj.metadata.resourceVersion) this.apply(prev ? 'MODIFIED' : 'ADDED', obj);
    }
    for (const [key, obj] of [...this.cache]) {
      if (!seen.has(key)) this.apply('DELETED', obj);
    }
  }
}

function place<T>(byValue: Map<string, Map<string, T>>, value: string | undefined, key: string, obj: T): void {
  if (value === undefined) return;
  let objects = byValue.get(value);
  if (!objects) byValue.set(value, (objects = new Map()));
  objects.set(key, obj);
}

function unplace<T>(byValue: Map<string, Map<string, T>>, value: string | undefined, key: string): void {
  if (value === undefined) return;
  const objects = byValue.get(value);
  objects?.delete(key);
  if (objects?.size === 0) byValue.delete(value);
}

/**
 * Which revisions a watch has delivered whole. On etcd every write of one
 * commit shares a revision, and a watch cut between two of its events (a
 * server killed mid-stream) would, resumed from that revision, never send
 * the rest: the server sends only what comes after the revision asked for.
 * A revision is known whole once an event of a later one (or a bookmark,
 * which the server sends between revisions) has arrived.
 */
export class RevisionsSeen {
  /** Every event at or before this revision has been delivered. */
  whole: string;
  /** The revision of the last event delivered, perhaps not all of it yet. */
  private latest: string;

  constructor(from: string) {
    this.whole = from;
    this.latest = from;
  }

  saw(resourceVersion: string | undefined, bookmark: boolean): void {
    if (resourceVersion === undefined) return;
    if (bookmark) {
      this.whole = this.latest = resourceVersion;
    } else if (resourceVersion !== this.latest) {
      this.whole = this.latest;
      this.latest = resourceVersion;
    }
  }
}
