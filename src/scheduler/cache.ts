// The scheduler's view of the cluster, kept up to date event by event
// instead of rebuilt for every decision (rebuilding from every pod made each
// decision cost grow with the number of pods). Per node: what it offers,
// the pods counted on it (bound, or assumed by this scheduler), and the
// ledger reservations of pods not visible as bound anywhere. Beside it, what
// preemption needs: the pods nominated to nodes, the victims on their way
// out, and the lowest priority of any pod counted (a pod of that priority or
// lower can preempt no one, so most unschedulable pods skip the search).
import { isDeepStrictEqual } from 'node:util';
import { podRequests, type Resources } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import { reservationsOf, type Reservation } from './ledger.ts';
import { NodeIndex } from './node-index.ts';
import { isFinished } from '../objects/conditions.ts';
import { buildSnapshot, type NodeInfo, type Snapshot } from './snapshot.ts';
import { Nominations } from './nominations.ts';
import { podPriority } from './priority.ts';

type Totals = Resources & { pods: number };
const zero = (): Totals => ({ milliCpu: 0, memory: 0, pods: 0 });

export class SchedulerCache {
  /** One NodeInfo object per node for its whole life, updated in place. */
  private readonly infos = new Map<string, NodeInfo>();
  private readonly podSum = new Map<string, Totals>();
  private readonly ledgerExtra = new Map<string, Totals>();
  private readonly reservations = new Map<string, Reservation[]>();
  /** uid -> the nodes whose ledger has an entry for it. */
  private readonly reservedOn = new Map<string, Set<string>>();
  /** uid -> the node it is counted on (bound, or assumed). */
  private readonly counted = new Map<string, { node: string; requests: Resources; priority: number }>();
  /** How many counted pods have each priority. */
  private readonly priorities = new Map<number, number>();
  private readonly finished = new Set<string>();
  private readonly assumed = new Set<string>();
  /**
   * Victims this scheduler evicted: the node they left, and the `at` of the
   * ledger entry they had there. Their room is as good as free: they may
   * still look bound (the informer not caught up), and their ledger entry
   * stays until the reservation collector's grace is over, but neither will
   * come back. gone: seen unbound or deleted, so a binding seen after it is
   * a new one, not news from before the eviction.
   */
  private readonly evicted = new Map<string, { node: string; at?: number; gone: boolean }>();
  /** Pods waiting for the room preempted for them. */
  readonly nominations = new Nominations();
  private sorted: NodeInfo[] | undefined;
  /** The schedulable nodes in each policy's order, kept with every change below. */
  readonly index = new NodeIndex();

  setNode(node: Node): void {
    const name = node.metadata.name!;
    const fresh = buildSnapshot([node], []).nodes[0];
    if (!fresh) return this.removeNode(name); // being deleted
    const info = this.infos.get(name);
    if (info) Object.assign(info, { ...fresh, allocated: info.allocated });
    else {
      this.infos.set(name, fresh);
      this.sorted = undefined;
    }
    for (const r of this.reservations.get(name) ?? []) this.reservedOn.get(r.uid)?.delete(name);
    const list = reservationsOf(node);
    this.reservations.set(name, list);
    for (const r of list) {
      let on = this.reservedOn.get(r.uid);
      if (!on) this.reservedOn.set(r.uid, (on = new Set()));
      on.add(name);
    }
    this.recomputeLedger(name);
    for (const [uid, e] of this.evicted) if (e.node === name) this.settleEviction(uid);
  }

  removeNode(name: string): void {
    if (!this.infos.delete(name)) return;
    this.index.remove(name);
    this.sorted = undefined;
    for (const r of this.reservations.get(name) ?? []) this.reservedOn.get(r.uid)?.delete(name);
    this.reservations.delete(name);
    this.ledgerExtra.delete(name);
  }

  /** A pod added or changed: counted on its node while bound and not finished. */
  setPod(pod: Pod): void {
    const uid = pod.metadata.uid!;
    if (isFinished(pod)) {
      this.finished.add(uid);
      this.assumed.delete(uid);
      if (this.nominations.size) this.nominations.delete(uid);
      this.uncount(uid);
      this.touch(uid);
      if (this.evicted.size) this.evictionSeen(uid);
      return;
    }
    if (pod.spec.nodeName) {
      this.assumed.delete(uid); // the binding is visible now
      if (this.nominations.size) this.nominations.delete(uid);
      if (this.evicted.size && this.evicted.get(uid)?.gone) this.forgetEviction(uid); // bound again since
      this.count(uid, pod.spec.nodeName, podRequests(pod), podPriority(pod));
      return;
    }
    if (this.evicted.size) this.evictionSeen(uid);
    if (this.assumed.has(uid)) return;
    this.uncount(uid);
    // Nominated by this scheduler before a restart, or by another: its room is held all the same.
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) this.nominations.set({ uid, key: `${pod.metadata.namespace}/${pod.metadata.name}`, node: nominated, requests: podRequests(pod), priority: podPriority(pod) });
  }

  removePod(pod: Pod): void {
    const uid = pod.metadata.uid!;
    this.assumed.delete(uid);
    this.finished.delete(uid);
    this.nominations.delete(uid);
    this.uncount(uid);
    this.touch(uid);
    if (this.evicted.size) this.evictionSeen(uid);
  }

  /** A pod this scheduler just bound, counted before the informer shows it bound. */
  assume(uid: string, node: string, requests: Resources, priority = 0): void {
    this.assumed.add(uid);
    this.nominations.delete(uid); // counted on its node now: its nomination would count it twice
    this.count(uid, node, requests, priority);
  }

  /** A victim this scheduler has just deleted or unbound from node. */
  markEvicted(uid: string, node: string): void {
    const at = this.reservations.get(node)?.find((r) => r.uid === uid)?.at;
    this.evicted.set(uid, { node, at, gone: this.counted.get(uid)?.node !== node });
    this.recomputeLedger(node);
    this.settleEviction(uid);
  }

  /** Whether the pod, seen bound to node, is a victim evicted from it (its room as good as free). */
  wasEvictedFrom(uid: string, node: string): boolean {
    return this.evicted.get(uid)?.node === node;
  }

  /** The lowest priority of any pod counted on a node; Infinity when none is. */
  lowestPriority(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const p of this.priorities.keys()) if (p < lowest) lowest = p;
    return lowest;
  }

  /** A binding that did not happen after all: the pod no longer counts on the node it was assumed on. */
  forget(uid: string): void {
    if (!this.assumed.delete(uid)) return;
    this.uncount(uid);
  }

  isAssumed(uid: string): boolean {
    return this.assumed.has(uid);
  }

  /** The nodes with what each holds now, in name order. The infos are live: use them before awaiting. */
  snapshot(): Snapshot {
    this.sorted ??= [...this.infos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { nodes: this.sorted, byName: this.infos };
  }

  /**
   * What a node holds apart from some pods (those being bound), with the
   * ledger taken from the given version of the Node: the version a
   * reservation is compared-and-swapped on.
   */
  holdsWithout(node: Node, uids: ReadonlySet<string>): Totals {
    const name = node.metadata.name!;
    const sum = { ...(this.podSum.get(name) ?? zero()) };
    for (const uid of uids) {
      const mine = this.counted.get(uid);
      if (mine?.node === name) subtract(sum, mine.requests);
    }
    for (const r of reservationsOf(node)) {
      if (!uids.has(r.uid) && !this.counted.has(r.uid) && !this.finished.has(r.uid) && !this.staleEntry(r, name)) add(sum, r);
    }
    return sum;
  }

  /** A victim's ledger entry on the node it was evicted from, as it was then: room that will not be taken again. */
  private staleEntry(r: Reservation, node: string): boolean {
    if (!this.evicted.size) return false;
    const e = this.evicted.get(r.uid);
    return e !== undefined && e.node === node && e.at === r.at;
  }

  /** The victim was seen unbound, finished or deleted. */
  private evictionSeen(uid: string): void {
    const e = this.evicted.get(uid);
    if (!e) return;
    e.gone = true;
    this.settleEviction(uid);
  }

  /** Forgets an eviction once nothing of the victim is left on its node: not counted there, its old ledger entry gone. */
  private settleEviction(uid: string): void {
    const e = this.evicted.get(uid);
    if (!e || this.counted.get(uid)?.node === e.node) return;
    if (e.at !== undefined && (this.reservations.get(e.node) ?? []).some((r) => r.uid === uid && r.at === e.at)) return;
    this.evicted.delete(uid);
  }

  private forgetEviction(uid: string): void {
    const e = this.evicted.get(uid);
    if (!e) return;
    this.evicted.delete(uid);
    this.recomputeLedger(e.node);
  }

  private count(uid: string, node: string, requests: Resources, priority: number): void {
    const prev = this.counted.get(uid);
    if (prev && prev.node === node && prev.priority === priority && isDeepStrictEqual(prev.requests, requests)) return;
    if (prev) this.uncount(uid);
    this.counted.set(uid, { node, requests, priority });
    this.priorities.set(priority, (this.priorities.get(priority) ?? 0) + 1);
    let sum = this.podSum.get(node);
    if (!sum) this.podSum.set(node, (sum = zero()));
    add(sum, requests);
    this.updateInfo(node);
    this.touch(uid);
  }

  private uncount(uid: string): void {
    const prev = this.counted.get(uid);
    if (!prev) return;
    this.counted.delete(uid);
    const left = this.priorities.get(prev.priority)! - 1;
    if (left) this.priorities.set(prev.priority, left);
    else this.priorities.delete(prev.priority);
    const sum = this.podSum.get(prev.node);
    if (sum) subtract(sum, prev.requests);
    this.updateInfo(prev.node);
    this.touch(uid);
  }

  /** Whether uid counts in a ledger changed: redo the ledgers that mention it. */
  private touch(uid: string): void {
    for (const node of this.reservedOn.get(uid) ?? []) this.recomputeLedger(node);
  }

  private recomputeLedger(name: string): void {
    const extra = zero();
    for (const r of this.reservations.get(name) ?? []) {
      if (!this.counted.has(r.uid) && !this.finished.has(r.uid) && !this.staleEntry(r, name)) add(extra, r);
    }
    this.ledgerExtra.set(name, extra);
    this.updateInfo(name);
  }

  private updateInfo(name: string): void {
    const info = this.infos.get(name);
    if (!info) return;
    const pods = this.podSum.get(name) ?? zero();
    const extra = this.ledgerExtra.get(name) ?? zero();
    info.allocated = { milliCpu: pods.milliCpu + extra.milliCpu, memory: pods.memory + extra.memory, pods: pods.pods + extra.pods };
    this.index.update(info);
  }
}

function add(sum: Totals, r: Resources | Reservation): void {
  sum.milliCpu += r.milliCpu;
  sum.memory += r.memory;
  sum.pods += 1;
}

function subtract(sum: Totals, r: Resources): void {
  sum.milliCpu -= r.milliCpu;
  sum.memory -= r.memory;
  sum.pods -= 1;
}
