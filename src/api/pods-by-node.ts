// Which pods are bound to each node, kept from the store's own watch, so the
// fence on a node's status write (node-auth.ts) checks the pod IDs it claims
// against a set instead of listing and parsing every pod in the cluster.
// Store events are delivered on a microtask after each commit, before any
// later request is handled, so the index is current whenever a request reads it.
import type { Store, WatchHandle } from '../store/store.ts';

const PODS = '/registry/pods/';

interface Placement {
  uid: string;
  node?: string;
}

function placementOf(value: string): Placement {
  const pod = JSON.parse(value) as { metadata?: { uid?: string }; spec?: { nodeName?: string } };
  return { uid: pod.metadata?.uid ?? '', node: pod.spec?.nodeName || undefined };
}

export class PodsByNode {
  private readonly byNode = new Map<string, Set<string>>();
  /** key -> where the pod at that key is, to undo it when the key changes. */
  private readonly byKey = new Map<string, Placement>();
  private ready?: Promise<void>;
  private handle?: WatchHandle;
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** The UIDs of the pods bound to node now. */
  async boundTo(node: string): Promise<ReadonlySet<string>> {
    this.ready ??= this.start();
    await this.ready;
    return this.byNode.get(node) ?? new Set();
  }

  stop(): void {
    this.handle?.stop();
  }

  private async start(): Promise<void> {
    const { items, revision } = await this.store.list(PODS);
    for (const kv of items) this.place(kv.key, placementOf(kv.value));
    this.handle = await this.store.watch(PODS, revision, {
      onEvent: (e) => (e.type === 'delete' ? this.place(e.key, undefined) : this.place(e.key, placementOf(e.value))),
      // The store closed: the next caller starts over (and fails as the store does).
      onError: () => { this.ready = undefined; this.byNode.clear(); this.byKey.clear(); },
    });
  }

  private place(key: string, next: Placement | undefined): void {
    const prev = this.byKey.get(key);
    if (prev?.node) this.byNode.get(prev.node)?.delete(prev.uid);
    if (!next) {
      this.byKey.delete(key);
      return;
    }
    this.byKey.set(key, next);
    if (!next.node) return;
    let set = this.byNode.get(next.node);
    if (!set) this.byNode.set(next.node, (set = new Set()));
    set.add(next.uid);
  }
}
