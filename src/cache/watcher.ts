// A watch on the cache, and the index that finds the watchers an event
// concerns. Each watcher sits in one bucket, chosen by what it asked for:
// the value of an indexed field (a node's agent: spec.nodeName=its node),
// else its namespace, else all of the kind. An event is offered only to the
// watchers of the buckets it touches, so its cost grows with the watchers
// that want it, not with every watcher there is (one per node, at scale).
import type { KubeObject, WatchEvent } from '../objects/types.ts';
import type { CachedObject } from './cached-object.ts';
import type { KindState } from './kind-state.ts';
import { indexValue, selects, type Selection } from './selection.ts';

export type WatchEventType = WatchEvent['type'];

/** One watch event's object, in the forms watchers take it; each made only when asked for. */
export interface EventView {
  /** The JSON line of the whole watch event, shared by every watcher sent the same one. */
  json(): string;
  /** The object, frozen and shared by every in-process watcher sent the same one. */
  object(): KubeObject;
}

export interface WatchSink {
  event(type: WatchEventType, view: EventView): void;
  /** The watch can no longer continue (the store's watch ended). */
  end(err?: Error): void;
}

/** One write as the cache saw it. */
export interface CacheEvent {
  type: 'create' | 'update' | 'delete';
  revision: number;
  /** The object after the write; for a delete, the object deleted, at the delete's revision. */
  object: CachedObject;
  /** The object before the write (update and delete). */
  prev?: CachedObject;
  /** Views made for this event so far, by event type, shared by its watchers. */
  views?: Map<string, EventView>;
}

export function viewOf(type: WatchEventType, obj: CachedObject): EventView {
  let line: string | undefined;
  return {
    json: () => (line ??= `{"type":"${type}","object":${obj.json()}}`),
    object: () => obj.object(),
  };
}

export class Watcher {
  readonly state: KindState;
  readonly selection: Selection;
  /** Events at or below this revision are not delivered (the watch started after them). */
  private after: number;
  private readonly sink: WatchSink;
  readonly bookmarks: boolean;
  /** Whether anything was sent since the last bookmark tick. */
  sentSinceTick = false;
  private stopped = false;
  private readonly onStop: (w: Watcher) => void;

  constructor(state: KindState, selection: Selection, after: number, sink: WatchSink, bookmarks: boolean, onStop: (w: Watcher) => void) {
    this.state = state;
    this.selection = selection;
    this.after = after;
    this.sink = sink;
    this.bookmarks = bookmarks;
    this.onStop = onStop;
  }

  /** Sends the event if this watcher should see it, as the type its selection makes it. */
  offer(event: CacheEvent): void {
    if (this.stopped || event.revision <= this.after) return;
    let type: WatchEventType;
    let obj = event.object;
    if (event.type === 'create') {
      if (!selects(this.selection, obj)) return;
      type = 'ADDED';
    } else if (event.type === 'delete') {
      if (!selects(this.selection, obj)) return;
      type = 'DELETED';
    } else {
      // As Kubernetes does: an object that moves into a selection is ADDED
      // for its watcher; one that moves out is DELETED, as it was before.
      const now = selects(this.selection, obj);
      const before = event.prev !== undefined && selects(this.selection, event.prev);
      if (!now && !before) return;
      type = now && before ? 'MODIFIED' : now ? 'ADDED' : 'DELETED';
      if (!now) obj = event.prev!.at(event.revision);
    }
    const key = obj === event.object ? type : 'DELETED:prev';
    event.views ??= new Map();
    let view = event.views.get(key);
    if (!view) event.views.set(key, (view = viewOf(type, obj)));
    this.send(type, view);
  }

  /** Sends one event (also the initial ADDED of a watch from now, and bookmarks). */
  send(type: WatchEventType, view: EventView): void {
    if (this.stopped) return;
    this.sentSinceTick = true;
    try {
      this.sink.event(type, view);
    } catch (err) {
      // A watcher whose handler fails cannot be trusted to have seen the
      // event: end it, so its owner lists again instead of missing one.
      this.end(err as Error);
    }
  }

  end(err?: Error): void {
    if (this.stopped) return;
    this.stop();
    this.sink.end(err);
  }

  /** Ended (stopped, or its handler failed). */
  get ended(): boolean {
    return this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
  }
}

export class WatcherIndex {
  private readonly state: KindState;
  private readonly all = new Set<Watcher>();
  private readonly byNamespace = new Map<string, Set<Watcher>>();
  /** field -> value -> watchers. */
  private readonly byField = new Map<string, Map<string, Set<Watcher>>>();

  constructor(state: KindState) {
    this.state = state;
  }

  add(w: Watcher): void {
    this.bucket(w, true)!.add(w);
  }

  remove(w: Watcher): void {
    const bucket = this.bucket(w, false);
    bucket?.delete(w);
    if (bucket?.size === 0) this.prune(w);
  }

  /** Calls fn for every watcher that may want an event about obj (prev: the object before it). */
  forEachCandidate(obj: CachedObject, prev: CachedObject | undefined, fn: (w: Watcher) => void): void {
    // Copied first: a watcher may stop (and leave its bucket) while it is handed the event.
    const found: Watcher[] = [...this.all];
    const ns = obj.namespace !== undefined ? this.byNamespace.get(obj.namespace) : undefined;
    if (ns) found.push(...ns);
    for (const [field, byValue] of this.byField) {
      const value = indexValue(this.state.kind, field, obj);
      const now = byValue.get(value);
      if (now) found.push(...now);
      if (prev) {
        const before = indexValue(this.state.kind, field, prev);
        if (before !== value) {
          const then = byValue.get(before);
          if (then) found.push(...then);
        }
      }
    }
    for (const w of found) fn(w);
  }

  *[Symbol.iterator](): IterableIterator<Watcher> {
    yield* this.all;
    for (const set of this.byNamespace.values()) yield* set;
    for (const byValue of this.byField.values()) for (const set of byValue.values()) yield* set;
  }

  private bucket(w: Watcher, create: boolean): Set<Watcher> | undefined {
    const { pinned, namespace } = w.selection;
    if (pinned) {
      let byValue = this.byField.get(pinned.field);
      if (!byValue && create) this.byField.set(pinned.field, (byValue = new Map()));
      let set = byValue?.get(pinned.value);
      if (!set && create) byValue!.set(pinned.value, (set = new Set()));
      return set;
    }
    if (namespace !== undefined) {
      let set = this.byNamespace.get(namespace);
      if (!set && create) this.byNamespace.set(namespace, (set = new Set()));
      return set;
    }
    return this.all;
  }

  private prune(w: Watcher): void {
    const { pinned, namespace } = w.selection;
    if (pinned) {
      const byValue = this.byField.get(pinned.field)!;
      byValue.delete(pinned.value);
      if (byValue.size === 0) this.byField.delete(pinned.field);
    } else if (namespace !== undefined) {
      this.byNamespace.delete(namespace);
    }
  }
}
