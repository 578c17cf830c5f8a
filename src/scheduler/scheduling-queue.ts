// The order in which queued pods are decided: higher spec.priority first,
// and of equal priority the one queued first, as kube-scheduler's active
// queue (its PrioritySort plugin) does. A B-tree keyed by (minus priority,
// arrival) makes each push and shift O(log n), however long the queue.
// It is the pending-key store of the scheduler's work queue: dedupe,
// back-off and one worker per key stay the queue's (controllers/queue.ts).
import sortedBtree from 'sorted-btree';

const BTree = sortedBtree.default;
type Key = readonly [number, number];

const byKey = (a: Key, b: Key): number => a[0] - b[0] || a[1] - b[1];

export class PriorityKeys {
  private readonly tree = new BTree<Key, string>(undefined, byKey);
  private readonly priorityOf: (key: string) => number;
  /** Arrival order: ties of priority are first in, first out. */
  private seq = 0;

  /** priorityOf is asked once, when a key is queued (a pod's priority never changes). */
  constructor(priorityOf: (key: string) => number) {
    this.priorityOf = priorityOf;
  }

  push(key: string): void {
    this.tree.set([-this.priorityOf(key), this.seq++], key);
  }

  shift(): string | undefined {
    const first = this.tree.minKey();
    if (first === undefined) return undefined;
    const key = this.tree.get(first)!;
    this.tree.delete(first);
    return key;
  }

  clear(): void {
    this.tree.clear();
  }

  get length(): number {
    return this.tree.size;
  }
}
