// Collects reservations whose pod is no longer on the node (deleted,
// unbound, finished, or never bound because its scheduler stopped midway),
// once they are older than the grace period, so the room is given back. It
// also drops the entries of pods that have been bound there for longer than
// the grace: every scheduler's informer shows those pods on the node by then,
// so the entry counts nothing more, and the Node stays small.
import { isDeepStrictEqual } from 'node:util';
import { isNotFound, type KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Node, Pod } from '../objects/types.ts';
import { RESERVATION_GRACE_MS, reservationsOf, staleReservations } from '../scheduler/ledger.ts';
import { isFinished } from '../objects/conditions.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { updateStatus } from '../client/update-status.ts';
import type { Informer, InformerHandlers } from '../client/informer.ts';
import type { Reconciler, ReconcileResult } from './runner.ts';
import { podsOnNode } from './pods-on-node.ts';

const NODE = kindByName('Node')!;

/**
 * Pure: the pod stopped holding room between two versions: unbound from its
 * node, or finished (on a node, or while assumed on one by a scheduler).
 */
export function gaveRoomBack(prev: Pod, next: Pod): boolean {
  return (!!prev.spec.nodeName && !next.spec.nodeName) || (!isFinished(prev) && isFinished(next));
}

export class LedgerCollector implements Reconciler {
  readonly name = 'reservation-collector';
  private readonly client: KcsClient;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly clock: Clock;
  private readonly onFreed: () => void;
  /** UIDs of pods seen deleted: a uid never comes back, so their entries go at once. */
  private readonly deleted = new Set<string>();

  constructor(opts: { client: KcsClient; nodes: Informer<Node>; pods: Informer<Pod>; clock?: Clock; onFreed?: () => void }) {
    this.client = opts.client;
    this.nodes = opts.nodes;
    this.pods = opts.pods;
    this.clock = opts.clock ?? systemClock;
    this.onFreed = opts.onFreed ?? (() => {});
  }

  /** What the pod informer tells this collector: the node a pod gave room back on is looked at; a deleted pod's entry can go at once. */
  podHandlers(enqueue: (nodeName: string) => void): InformerHandlers<Pod> {
    return {
      update: (prev, p) => { if (gaveRoomBack(prev, p) && prev.spec.nodeName) enqueue(prev.spec.nodeName); },
      delete: (p) => {
        this.podDeleted(p.metadata.uid!);
        if (p.spec.nodeName) enqueue(p.spec.nodeName);
      },
    };
  }

  podDeleted(uid: string): void {
    if (this.deleted.size > 100_000) this.deleted.clear(); // a bound; the grace rule still collects the rest
    this.deleted.add(uid);
  }

  async reconcile(nodeName: string): Promise<ReconcileResult | void> {
    const cached = this.nodes.get(nodeName);
    if (!cached || reservationsOf(cached).length === 0) return;
    const onNode = new Set(podsOnNode(this.pods, nodeName).filter((p) => !isFinished(p)).map((p) => p.metadata.uid));
    const now = this.clock.now().getTime();
    let freed = false;
    try {
      await updateStatus<Node>(this.client, NODE, undefined, nodeName, (node) => {
        const list = reservationsOf(node);
        const stale = new Set(staleReservations(list, (uid) => onNode.has(uid), now).map((r) => r.uid));
        for (const r of list) if (this.deleted.has(r.uid)) stale.add(r.uid);
        freed = stale.size > 0;
        for (const r of list) if (onNode.has(r.uid) && now - r.at > RESERVATION_GRACE_MS) stale.add(r.uid);
        if (stale.size === 0) return undefined;
        const kept = list.filter((r) => !stale.has(r.uid));
        return isDeepStrictEqual(kept, list) ? undefined : { ...node.status, reservations: kept };
      });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (freed) this.onFreed();
    // Entries still within their grace: look again when it ends.
    const young = reservationsOf(cached).filter((r) => !this.deleted.has(r.uid) && now - r.at <= RESERVATION_GRACE_MS);
    if (young.length) return { requeueAfterMs: RESERVATION_GRACE_MS + 100 };
  }
}
