// How long a node's failover takes: from the moment the health controller
// declares the node failed to the moment the last pod it moved off that node
// is bound to a node again (kcs_node_failover_duration_seconds). The pods
// are followed through the pod informer the health controller already has:
// each must be seen unbound, then bound. A moved pod deleted before it is
// bound again no longer counts; a failover none of whose pods was bound
// again (all deleted) is not observed.
import type { InformerHandlers } from '../client/informer.ts';
import { isFinished } from '../objects/conditions.ts';
import type { Pod } from '../objects/types.ts';
import type { Clock } from '../util/clock.ts';

interface Failover {
  declaredAt: number;
  /** uid -> whether the informer has seen it unbound yet. */
  waiting: Map<string, boolean>;
  rebound: boolean;
}

export class FailoverTimer {
  private readonly clock: Clock;
  private readonly observe: (seconds: number) => void;
  private readonly failovers = new Map<string, Failover>();
  /** uid -> the node it is being moved off. */
  private readonly movedFrom = new Map<string, string>();

  constructor(clock: Clock, observe: (seconds: number) => void) {
    this.clock = clock;
    this.observe = observe;
  }

  /** The node was declared failed at this time (ms): its failover starts. */
  declared(node: string, at: number): void {
    this.drop(node);
    this.failovers.set(node, { declaredAt: at, waiting: new Map(), rebound: false });
  }

  /**
   * Its pods are about to be unbound: followed from now, before the unbinding
   * is written, so a pod placed again at once is not missed.
   */
  moving(node: string, pods: Pod[]): void {
    const failover = this.failovers.get(node);
    if (!failover) return;
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      if (pod.spec.nodeName !== node || isFinished(pod) || failover.waiting.has(uid)) continue;
      failover.waiting.set(uid, false);
      this.movedFrom.set(uid, node);
    }
  }

  /** These of them were unbound; the others stayed (changed meanwhile) and are not waited for. */
  moved(node: string, unbound: Pod[]): void {
    const failover = this.failovers.get(node);
    if (!failover) return;
    const uids = new Set(unbound.map((p) => p.metadata.uid!));
    for (const uid of failover.waiting.keys()) if (!uids.has(uid)) this.settle(uid, false);
    // No pod to move: nothing to time.
    if (failover.waiting.size === 0 && this.failovers.get(node) === failover) this.failovers.delete(node);
  }

  podHandlers(): InformerHandlers<Pod> {
    return {
      update: (_prev, pod) => {
        const uid = pod.metadata.uid!;
        const node = this.movedFrom.get(uid);
        if (node === undefined) return;
        const failover = this.failovers.get(node)!;
        if (!pod.spec.nodeName) failover.waiting.set(uid, true);
        // Seen unbound before, or on another node (a relisting informer reports only the difference).
        else if (failover.waiting.get(uid) || pod.spec.nodeName !== node) this.settle(uid, true);
      },
      delete: (pod) => {
        if (this.movedFrom.has(pod.metadata.uid!)) this.settle(pod.metadata.uid!, false);
      },
    };
  }

  private settle(uid: string, rebound: boolean): void {
    const node = this.movedFrom.get(uid)!;
    this.movedFrom.delete(uid);
    const failover = this.failovers.get(node)!;
    failover.waiting.delete(uid);
    failover.rebound ||= rebound;
    if (failover.waiting.size > 0) return;
    this.failovers.delete(node);
    if (failover.rebound) this.observe((this.clock.now().getTime() - failover.declaredAt) / 1000);
  }

  private drop(node: string): void {
    const failover = this.failovers.get(node);
    if (!failover) return;
    for (const uid of failover.waiting.keys()) this.movedFrom.delete(uid);
    this.failovers.delete(node);
  }
}
