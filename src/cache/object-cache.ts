// The object cache: the API's reads served from memory, above the Store
// interface, as Kubernetes' watch cache sits above etcd. One store watch
// feeds it every write; it keeps each kind's objects (stored text shared
// with the store, parsed once, on demand, and shared), a window of recent
// events for watches that resume, and snapshots for paginated lists.
// Lists with a selector on an indexed field look only at the objects that
// have its value; watchers are kept by what they asked for, so a write costs
// in proportion to the watchers that want it (see watcher.ts).
import { KINDS, type KindInfo } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';
import { prefixEnd, RevisionCompactedError, type Store, type StoreEvent, type WatchHandle } from '../store/store.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { CachedObject } from './cached-object.ts';
import { decodeContinue, encodeContinue, type ContinueToken } from './continue-token.ts';
import { ExpiredError, TooLargeResourceVersionError } from './errors.ts';
import { KindState, type Snapshot } from './kind-state.ts';
import { selects, type Selection } from './selection.ts';
import { viewOf, Watcher, type CacheEvent, type EventView, type WatchSink } from './watcher.ts';

export interface ObjectCacheOptions {
  clock?: Clock;
  /** Recent events kept for watches that resume from a resourceVersion (older: 410 Expired). */
  windowSize?: number;
  /** How often a watcher that asked for bookmarks and was sent nothing gets one. */
  bookmarkIntervalMs?: number;
  /** How long the snapshot behind a paginated list's continue token is kept. */
  snapshotTtlMs?: number;
  /** Snapshots kept at most; the oldest goes first. */
  maxSnapshots?: number;
  /** How long a read waits for the cache to reach a resourceVersion before 504. */
  freshnessTimeoutMs?: number;
}

export interface ListQuery {
  /** Items per page; 0 or unset: all. */
  limit?: number;
  continue?: string;
  /** undefined: the latest (consistent read); 0: whatever the cache holds now. */
  resourceVersion?: number;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface ListPage {
  items: CachedObject[];
  revision: number;
  continue?: string;
  /** Items after this page, for a list without selectors. */
  remainingItemCount?: number;
}

export interface WatchQuery {
  /** Events after this revision; undefined: the current objects as ADDED, then what follows. */
  resourceVersion?: number;
  /** Send BOOKMARK events with the current resourceVersion while there is nothing else to send. */
  bookmarks?: boolean;
}

interface Waiter { revision: number; resolve(): void; reject(err: Error): void; timer: Timer }

export class ObjectCache {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly windowSize: number;
  private readonly bookmarkIntervalMs: number;
  private readonly snapshotTtlMs: number;
  private readonly maxSnapshots: number;
  private readonly freshnessTimeoutMs: number;
  private readonly kinds = new Map<string, KindState>();
  /** Every event up to this revision is in the cache. */
  private revision = 0;
  /** Recent events, oldest first. */
  private window: CacheEvent[] = [];
  /** A watch may resume from this revision or later: every event after it is in the window. */
  private windowFloor = 0;
  private readonly snapshots = new Map<string, Snapshot>();
  private waiters: Waiter[] = [];
  private readonly bookmarkWatchers = new Set<Watcher>();
  private bookmarkTimer?: Timer;
  private ready?: Promise<void>;
  private handle?: WatchHandle;
  /** Watchers offered an event (whether or not it was theirs): what the watcher index keeps small. */
  readonly stats = { offered: 0 };

  constructor(store: Store, opts: ObjectCacheOptions = {}) {
    this.store = store;
    this.clock = opts.clock ?? systemClock;
    this.windowSize = opts.windowSize ?? 20_000;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 10_000;
    this.snapshotTtlMs = opts.snapshotTtlMs ?? 60_000;
    this.maxSnapshots = opts.maxSnapshots ?? 16;
    this.freshnessTimeoutMs = opts.freshnessTimeoutMs ?? 3_000;
    for (const kind of KINDS) this.kinds.set(kind.plural, new KindState(kind));
  }

  /** Loads everything from the store and starts following it (once; again after the store's watch ends). */
  start(): Promise<void> {
    this.ready ??= this.load().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async load(): Promise<void> {
    const { items, revision } = await this.store.list('');
    for (const kv of items) {
      const state = this.stateOf(kv.key);
      state?.put(kv.key, new CachedObject(kv.key, state.kind, kv.value, kv.modRevision));
    }
    this.revision = revision;
    // The window starts with the store's own recent history (what is left of
    // it), so a client that listed before this cache existed (before a
    // restart) can still resume its watch instead of listing again.
    let from = Math.max(0, revision - this.windowSize);
    const follow = (after: number) => this.store.watch('', after, {
      onEvent: (event) => (event.revision <= revision ? this.recall(event) : this.apply(event)),
      onError: (err) => this.reset(err),
    });
    try {
      this.handle = await follow(from);
    } catch (err) {
      if (!(err instanceof RevisionCompactedError)) throw err;
      from = Math.min(revision, err.compacted);
      this.handle = await follow(from);
    }
    this.windowFloor = from;
  }

  /** An event from before the load, already in the objects: only remembered, for watches that resume. */
  private recall(e: StoreEvent): void {
    const state = this.stateOf(e.key);
    if (!state) return;
    const object = new CachedObject(e.key, state.kind, e.value, e.revision);
    // The revision of the value before is not in the event; only its content is ever used.
    const prev = e.prevValue === undefined ? undefined : new CachedObject(e.key, state.kind, e.prevValue, e.createRevision);
    this.remember({ type: e.type, revision: e.revision, object, prev: e.type === 'delete' ? object : prev });
  }

  /** The store's watch ended (it closed): every watch ends, and the next read loads afresh. */
  private reset(err: Error): void {
    this.ready = undefined;
    this.handle = undefined;
    for (const state of this.kinds.values()) {
      for (const w of [...state.watchers]) w.end(err);
      state.clear();
    }
    this.window = [];
    this.snapshots.clear();
    for (const w of this.waiters) { w.timer.cancel(); w.reject(err); }
    this.waiters = [];
    this.bookmarkTimer?.cancel();
    this.bookmarkTimer = undefined;
  }

  stop(): void {
    this.handle?.stop();
    this.reset(new Error('the object cache stopped'));
  }

  private stateOf(key: string): KindState | undefined {
    if (!key.startsWith('/registry/')) return undefined;
    return this.kinds.get(key.slice(10, key.indexOf('/', 10)));
  }

  /** The object at key as the cache holds it now (undefined before start, or when it has none). */
  current(key: string): CachedObject | undefined {
    return this.stateOf(key)?.tree.get(key);
  }

  state(kind: KindInfo): KindState {
    return this.kinds.get(kind.plural)!;
  }

  // ---- following the store ---------------------------------------------------

  private apply(e: StoreEvent): void {
    this.revision = e.revision;
    const state = this.stateOf(e.key);
    if (state) {
      let event: CacheEvent;
      if (e.type === 'delete') {
        const gone = state.tree.get(e.key);
        const object = gone ? gone.at(e.revision) : new CachedObject(e.key, state.kind, e.value, e.revision);
        state.put(e.key, undefined);
        event = { type: 'delete', revision: e.revision, object, prev: gone };
      } else {
        const object = new CachedObject(e.key, state.kind, e.value, e.revision);
        const prev = state.put(e.key, object);
        event = { type: prev ? 'update' : 'create', revision: e.revision, object, prev };
      }
      this.remember(event);
      state.watchers.forEachCandidate(event.object, event.prev, (w) => {
        this.stats.offered++;
        w.offer(event);
      });
      // Told to every watcher: the version replaced is now only history, and
      // the forms made for this delivery are not kept with it.
      event.views = undefined;
      event.prev?.forget();
      if (event.type === 'delete') event.object.forget();
    }
    if (this.waiters.length && this.waiters[0]!.revision <= this.revision) this.wake();
  }

  private remember(event: CacheEvent): void {
    this.window.push(event);
    // Trimmed in chunks, so each event costs O(1) on average.
    if (this.window.length >= this.windowSize * 2) {
      const dropped = this.window.length - this.windowSize;
      this.windowFloor = this.window[dropped - 1]!.revision;
      this.window = this.window.slice(dropped);
      this.dropExpiredSnapshots();
    }
  }

  // ---- freshness -------------------------------------------------------------

  /** Resolves once every write up to revision is in the cache; TooLargeResourceVersionError past the timeout. */
  waitFor(revision: number): Promise<void> {
    if (revision <= this.revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        revision, resolve, reject,
        timer: this.clock.setTimer(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new TooLargeResourceVersionError(revision, this.revision));
        }, this.freshnessTimeoutMs),
      };
      this.waiters.push(waiter);
      this.waiters.sort((a, b) => a.revision - b.revision);
    });
  }

  private wake(): void {
    while (this.waiters.length && this.waiters[0]!.revision <= this.revision) {
      const w = this.waiters.shift()!;
      w.timer.cancel();
      w.resolve();
    }
  }

  /** A consistent read: the cache has every write the store has acknowledged. */
  private async latest(): Promise<void> {
    await this.start();
    await this.waitFor(await this.store.currentRevision());
  }

  // ---- lists -------------------------------------------------------------------

  async list(kind: KindInfo, selection: Selection, query: ListQuery = {}): Promise<ListPage> {
    const state = this.state(kind);
    const prefix = selection.namespace !== undefined ? `${state.prefix}${selection.namespace}/` : state.prefix;
    let token: ContinueToken | undefined;
    let snapshot: Snapshot | undefined;
    if (query.continue !== undefined) {
      token = decodeContinue(query.continue, prefix);
      await this.start();
      snapshot = this.snapshotAt(state, token.revision);
    } else if (query.resourceVersion === undefined) {
      await this.latest();
    } else {
      await this.start();
      await this.waitFor(query.resourceVersion);
      if (query.resourceVersionMatch === 'Exact' && query.resourceVersion !== this.revision) snapshot = this.snapshotAt(state, query.resourceVersion);
    }
    // From here to the end, no await: the page is read at one revision.
    const revision = snapshot?.revision ?? this.revision;
    const tree = snapshot?.tree ?? state.tree;
    const limit = query.limit && query.limit > 0 ? query.limit : Infinity;
    const items: CachedObject[] = [];
    let next: string | undefined;
    for (const obj of candidates(state, tree, selection, prefix, token?.start, snapshot === undefined)) {
      if (!selects(selection, obj)) continue;
      if (items.length === limit) {
        next = obj.key;
        break;
      }
      items.push(obj);
    }
    const page: ListPage = { items, revision };
    if (next !== undefined) {
      const offset = (token?.offset ?? 0) + items.length;
      page.continue = encodeContinue({ revision, start: next, offset });
      if (revision === this.revision) this.keepSnapshot(state, revision);
      if (!selection.match) {
        const total = selection.namespace !== undefined ? (snapshot?.namespaceCounts ?? state.namespaceCounts).get(selection.namespace) ?? 0 : tree.size;
        page.remainingItemCount = total - offset;
      }
    }
    return page;
  }

  /** The snapshot a later page reads: the one kept for revision, or the objects now if nothing changed since. */
  /** Snapshots past their time go at once: each holds every version replaced since it was taken. */
  private dropExpiredSnapshots(): void {
    if (this.snapshots.size === 0) return;
    const now = this.clock.now().getTime();
    for (const [id, s] of this.snapshots) if (s.expiresAt <= now) this.snapshots.delete(id);
  }

  private snapshotAt(state: KindState, revision: number): Snapshot {
    const now = this.clock.now().getTime();
    this.dropExpiredSnapshots();
    const kept = this.snapshots.get(`${state.kind.plural}@${revision}`);
    if (kept) return kept;
    if (revision === this.revision) return { revision, tree: state.tree, namespaceCounts: state.namespaceCounts, expiresAt: now };
    throw new ExpiredError(`The provided continue parameter or resourceVersion ${revision} is too old to display a consistent list result. You can start a new list without the continue parameter.`);
  }

  /** Keeps the objects as they are now for the next pages (an O(1) copy-on-write clone). */
  private keepSnapshot(state: KindState, revision: number): void {
    this.dropExpiredSnapshots();
    const id = `${state.kind.plural}@${revision}`;
    if (this.snapshots.has(id)) return;
    this.snapshots.set(id, state.snapshot(revision, this.clock.now().getTime() + this.snapshotTtlMs));
    if (this.snapshots.size > this.maxSnapshots) this.snapshots.delete(this.snapshots.keys().next().value!);
  }

  // ---- watches -----------------------------------------------------------------

  /**
   * Starts a watch: from the current objects (as ADDED) when query has no
   * resourceVersion, else with every event after it (ExpiredError if that is
   * older than the window). Replay and registration happen in one
   * synchronous step, so nothing is missed or sent twice.
   */
  async watch(kind: KindInfo, selection: Selection, query: WatchQuery, sink: WatchSink): Promise<() => void> {
    const state = this.state(kind);
    if (query.resourceVersion === undefined) await this.latest();
    else await this.start();
    // A revision the cache has not reached: wait for it (504 if it never comes, as
    // Kubernetes answers "Too large resource version"), never skip events silently.
    if (query.resourceVersion !== undefined) await this.waitFor(query.resourceVersion);
    const from = query.resourceVersion ?? this.revision;
    if (from < this.windowFloor) throw new ExpiredError(`too old resource version: ${from} (${this.windowFloor})`);
    const watcher = new Watcher(state, selection, from, sink, query.bookmarks ?? false, (w) => {
      state.watchers.remove(w);
      this.bookmarkWatchers.delete(w);
    });
    if (query.resourceVersion === undefined) {
      const prefix = selection.namespace !== undefined ? `${state.prefix}${selection.namespace}/` : state.prefix;
      for (const obj of candidates(state, state.tree, selection, prefix, undefined, true)) {
        if (selects(selection, obj)) watcher.send('ADDED', viewOf('ADDED', obj));
      }
    } else if (from < this.revision) {
      for (let i = firstAfter(this.window, from); i < this.window.length; i++) {
        const event = this.window[i]!;
        if (event.object.kind !== kind) continue;
        watcher.offer(event);
        // History stays light: what this replay made is not kept with it.
        event.views = undefined;
        if (state.tree.get(event.object.key) !== event.object) event.object.forget();
        if (event.prev && state.tree.get(event.prev.key) !== event.prev) event.prev.forget();
      }
    }
    // Its handler failed while it was being caught up: it is over, not to be registered.
    if (watcher.ended) return () => {};
    state.watchers.add(watcher);
    if (watcher.bookmarks) {
      this.bookmarkWatchers.add(watcher);
      this.scheduleBookmarks();
    }
    return () => watcher.stop();
  }

  private scheduleBookmarks(): void {
    if (this.bookmarkTimer) return;
    this.bookmarkTimer = this.clock.setTimer(() => {
      this.bookmarkTimer = undefined;
      this.sendBookmarks();
      if (this.bookmarkWatchers.size) this.scheduleBookmarks();
    }, this.bookmarkIntervalMs);
  }

  /**
   * A watcher sent nothing since the last tick hears the current revision
   * anyway, so when its watch ends it can resume from there instead of from
   * an old revision the window no longer holds (and listing again).
   */
  private sendBookmarks(): void {
    const views = new Map<KindInfo, EventView>();
    for (const w of [...this.bookmarkWatchers]) {
      if (w.sentSinceTick) {
        w.sentSinceTick = false;
        continue;
      }
      const kind = w.state.kind;
      let view = views.get(kind);
      if (!view) views.set(kind, (view = bookmarkView(kind, this.revision)));
      w.send('BOOKMARK', view);
      w.sentSinceTick = false;
    }
  }

  /** Watches open on the cache, of every kind. */
  get watcherCount(): number {
    let n = 0;
    for (const state of this.kinds.values()) for (const _ of state.watchers) n++;
    return n;
  }
}

/** The objects that may be in the selection, in key order from start: through an index when the selection pins one. */
function* candidates(state: KindState, tree: KindState['tree'], selection: Selection, prefix: string, start: string | undefined, useIndex: boolean): Iterable<CachedObject> {
  const pinned = selection.pinned;
  if (pinned && useIndex) {
    if (pinned.field === 'metadata.name') {
      if (!state.kind.namespaced || selection.namespace !== undefined) {
        const obj = tree.get(prefix + pinned.value);
        if (obj && (start === undefined || obj.key >= start)) yield obj;
        return;
      }
    } else {
      const indexed = state.indexed(pinned.field, pinned.value);
      if (!indexed) return;
      const keys = [...indexed.keys()].filter((k) => k.startsWith(prefix) && (start === undefined || k >= start)).sort();
      for (const k of keys) yield indexed.get(k)!;
      return;
    }
  }
  const end = prefixEnd(prefix);
  for (const [key, obj] of tree.entries(start ?? prefix)) {
    if (key >= end) return;
    yield obj;
  }
}

/** The index of the first event after revision (the window is in revision order). */
function firstAfter(window: CacheEvent[], revision: number): number {
  let lo = 0;
  let hi = window.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (window[mid]!.revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function bookmarkView(kind: KindInfo, revision: number): EventView {
  const object = Object.freeze({ apiVersion: kind.apiVersion, kind: kind.kind, metadata: Object.freeze({ resourceVersion: String(revision) }) }) as KubeObject;
  const line = JSON.stringify({ type: 'BOOKMARK', object });
  return { json: () => line, object: () => object };
}
