// Everything the cache holds for one kind: its objects in key order (a
// B-tree, cloned in O(1) for a paginated list's snapshot), how many each
// namespace has (remainingItemCount), the objects by each indexed field,
// and the watchers by what they asked for.
import sortedBtree from 'sorted-btree';
import type { KindInfo } from '../objects/kinds.ts';
import type { CachedObject } from './cached-object.ts';
import { indexedFields, indexValue } from './selection.ts';
import { WatcherIndex } from './watcher.ts';

const BTree = sortedBtree.default;
type Tree = InstanceType<typeof BTree<string, CachedObject>>;
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The objects of a kind at one revision, kept for the pages of a list after the first. */
export interface Snapshot {
  revision: number;
  tree: Tree;
  namespaceCounts: Map<string, number>;
  expiresAt: number;
}

export class KindState {
  readonly kind: KindInfo;
  /** /registry/{plural}/ */
  readonly prefix: string;
  tree: Tree = new BTree<string, CachedObject>(undefined, byKey);
  namespaceCounts = new Map<string, number>();
  /** field -> value -> key -> object, for the indexed fields other than the name (which is in the key). */
  readonly index = new Map<string, Map<string, Map<string, CachedObject>>>();
  readonly watchers = new WatcherIndex(this);

  constructor(kind: KindInfo) {
    this.kind = kind;
    this.prefix = `/registry/${kind.plural}/`;
    for (const field of indexedFields(kind)) if (field !== 'metadata.name') this.index.set(field, new Map());
  }

  /** Puts obj (or, with obj undefined, removes what is at key); returns what was there. */
  put(key: string, obj: CachedObject | undefined): CachedObject | undefined {
    const prev = this.tree.get(key);
    if (obj) this.tree.set(key, obj);
    else this.tree.delete(key);
    const ns = (obj ?? prev)?.namespace ?? '';
    const delta = (obj ? 1 : 0) - (prev ? 1 : 0);
    if (delta) this.namespaceCounts.set(ns, (this.namespaceCounts.get(ns) ?? 0) + delta);
    for (const [field, byValue] of this.index) {
      if (prev) {
        const old = byValue.get(indexValue(this.kind, field, prev));
        old?.delete(key);
        if (old?.size === 0) byValue.delete(indexValue(this.kind, field, prev));
      }
      if (obj) {
        const value = indexValue(this.kind, field, obj);
        let set = byValue.get(value);
        if (!set) byValue.set(value, (set = new Map()));
        set.set(key, obj);
      }
    }
    return prev;
  }

  /** The objects whose field has value, by key (an indexed field other than the name). */
  indexed(field: string, value: string): Map<string, CachedObject> | undefined {
    return this.index.get(field)?.get(value);
  }

  snapshot(revision: number, expiresAt: number): Snapshot {
    return { revision, tree: this.tree.clone(), namespaceCounts: new Map(this.namespaceCounts), expiresAt };
  }

  clear(): void {
    this.tree = new BTree<string, CachedObject>(undefined, byKey);
    this.namespaceCounts = new Map();
    for (const byValue of this.index.values()) byValue.clear();
  }
}
