// Pods the scheduler preempted room for, each waiting for its nominated
// node (status.nominatedNodeName) to have the victims' room free. As
// kube-scheduler accounts nominated pods when it filters, a pod of lower or
// equal priority sees that room as taken, so it cannot slip into the room
// preempted for someone else; a pod of higher priority may take it.
import type { Resources } from '../objects/requests.ts';

export interface Nomination {
  uid: string;
  /** namespace/name: the pod's key in the scheduler's queue and informer. */
  key: string;
  node: string;
  requests: Resources;
  priority: number;
}

type Totals = Resources & { pods: number };

export class Nominations {
  private readonly byUid = new Map<string, Nomination>();
  private readonly byNode = new Map<string, Map<string, Nomination>>();

  set(n: Nomination): void {
    this.delete(n.uid);
    this.byUid.set(n.uid, n);
    let on = this.byNode.get(n.node);
    if (!on) this.byNode.set(n.node, (on = new Map()));
    on.set(n.uid, n);
  }

  delete(uid: string): void {
    const prev = this.byUid.get(uid);
    if (!prev) return;
    this.byUid.delete(uid);
    const on = this.byNode.get(prev.node)!;
    on.delete(uid);
    if (!on.size) this.byNode.delete(prev.node);
  }

  of(uid: string): Nomination | undefined {
    return this.byUid.get(uid);
  }

  onNode(node: string): Nomination[] {
    return [...(this.byNode.get(node)?.values() ?? [])];
  }

  get size(): number {
    return this.byUid.size;
  }

  /** What pods nominated to the node hold there for a pod of this priority: those of at least its priority, itself aside. */
  heldFor(node: string, priority: number, uid: string | undefined): Totals | undefined {
    const on = this.byNode.get(node);
    if (!on) return undefined;
    let held: Totals | undefined;
    for (const n of on.values()) {
      if (n.uid === uid || n.priority < priority) continue;
      held ??= { milliCpu: 0, memory: 0, pods: 0 };
      held.milliCpu += n.requests.milliCpu;
      held.memory += n.requests.memory;
      held.pods += 1;
    }
    return held;
  }
}
