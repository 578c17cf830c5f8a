// The scheduler's view of the cluster, kept up to date event by event
// instead of rebuilt for every decision (rebuilding from every pod made each
// decision cost grow with the number of pods). Per node: what it offers,
// the pods counted on it (bound, or assumed by this scheduler), and the
// ledger reservations of pods not visible as bound anywhere.
import { isDeepStrictEqual } from 'node:util';
import { podRequests, type Resources } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import { reservationsOf, type Reservation } from './ledger.ts';
import { NodeIndex } from './node-index.ts';
import { isFinished } from '../objects/conditions.ts';
import { buildSnapshot, type NodeInfo, type Snapshot } from './snapshot.ts';

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
  private readonly counted = new Map<string, { node: string; requests: Resources }>();
  private readonly finished = new Set<string>();
  private readonly assumed = new Set<string>();
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
      this.uncount(uid);
      this.touch(uid);
      return;
    }
    if (pod.spec.nodeName) {
      this.assumed.delete(uid); // the binding is visible now
      this.count(uid, pod.spec.nodeName, podRequests(pod));
    } else if (!this.assumed.has(uid)) {
      this.uncount(uid);
    }
  }

  removePod(pod: Pod): void {
    const uid = pod.metadata.uid!;
    this.assumed.delete(uid);
    this.finished.delete(uid);
    this.uncount(uid);
    this.touch(uid);
  }

  /** A pod this scheduler just bound, counted before the informer shows it bound. */
  assume(uid: string, node: string, requests: Resources): void {
    this.assumed.add(uid);
    this.count(uid, node, requests);
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
      if (!uids.has(r.uid) && !this.counted.has(r.uid) && !this.finished.has(r.uid)) add(sum, r);
    }
    return sum;
  }

  private count(uid: string, node: string, requests: Resources): void {
    const prev = this.counted.get(uid);
    if (prev && prev.node === node && isDeepStrictEqual(prev.requests, requests)) return;
    if (prev) this.uncount(uid);
    this.counted.set(uid, { node, requests });
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
      if (!this.counted.has(r.uid) && !this.finished.has(r.uid)) add(extra, r);
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
