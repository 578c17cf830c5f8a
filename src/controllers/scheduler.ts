// The scheduler controller: binds each pending pod it is responsible for
// to a node chosen by the pod's policy (spec.schedulerName) or the default
// one, never past a node's capacity, and tells an unschedulable pod why.
// A binding takes two compare-and-swap writes: first a reservation in the
// node's ledger (status.reservations, checked against capacity on the
// Node's current version), then spec.nodeName on the pod's current version.
// So several scheduler instances deciding from stale snapshots can never
// overcommit a node, and a pod is bound once. Within one scheduler, pods it
// bound that its informer does not show yet are "assumed" on their node.
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import { podRequests, type Resources } from '../objects/requests.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { decide, type Decision, type ScorePlugin } from '../scheduler/framework.ts';
import { DEFAULT_FILTERS, resourcesFit } from '../scheduler/plugins/filters.ts';
import { reservationsOf, withReservation, withoutReservation, type Reservation } from '../scheduler/ledger.ts';
import { policyByName, type PolicyName } from '../scheduler/plugins/policies.ts';
import { SchedulerCache } from '../scheduler/cache.ts';
import { buildSnapshot, isFinished, isNodeReady } from '../scheduler/snapshot.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { setCondition, updateStatus } from './conditions.ts';
import type { EventRecorder } from './events.ts';
import type { Informer } from './informer.ts';
import type { Reconciler } from './runner.ts';

const POD = kindByName('Pod')!;
const NODE = kindByName('Node')!;

/** What pods that name no scheduler get, as in Kubernetes. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerConfiguration extends KubeObject {
  spec: { defaultPolicy?: PolicyName; binpack?: { cpuWeight?: number; memoryWeight?: number } };
}

/** The SchedulerConfiguration the scheduler follows. */
export const SCHEDULER_CONFIGURATION_NAME = 'default';

export interface SchedulerOptions {
  client: KcsClient;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** Followed live when given; its spec wins over defaultPolicy. */
  configurations?: Informer<SchedulerConfiguration>;
  defaultPolicy?: PolicyName;
  events?: EventRecorder;
  clock?: Clock;
}

/** Most nodes a pod's status explains; the message counts them all. */
const EXPLAINED_NODES = 100;

/**
 * The last decision, kept in the pod's status (a kcs field) so `kcs
 * describe pod` can show each node's filter result and score.
 */
export interface SchedulingRecord {
  policy: string;
  node?: string;
  nodes: Array<{ name: string; fits: boolean; reasons?: string[]; score?: number }>;
  /** Nodes beyond EXPLAINED_NODES, left out of `nodes`. */
  omitted?: number;
}

function explain(d: Decision): SchedulingRecord {
  const nodes = d.verdicts.slice(0, EXPLAINED_NODES).map((v) => (v.reasons.length ? { name: v.node, fits: false, reasons: v.reasons } : { name: v.node, fits: true, score: v.score }));
  const omitted = d.verdicts.length - nodes.length;
  return { policy: d.policy, ...(d.node ? { node: d.node } : {}), nodes, ...(omitted > 0 ? { omitted } : {}) };
}

export class SchedulerController implements Reconciler {
  readonly name = 'scheduler';
  private readonly opts: SchedulerOptions;
  private readonly clock: Clock;
  /** What every node holds, kept by the informers' events (and this scheduler's own bindings). */
  readonly cache = new SchedulerCache();

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    opts.nodes.on({ add: (n) => this.cache.setNode(n), update: (_p, n) => this.cache.setNode(n), delete: (n) => this.cache.removeNode(n.metadata.name!) });
    opts.pods.on({ add: (p) => this.cache.setPod(p), update: (_p, p) => this.cache.setPod(p), delete: (p) => this.cache.removePod(p) });
  }

  /** Whether this scheduler places the pod: no scheduler named, the default, or one of its policies. */
  responsibleFor(pod: Pod): boolean {
    const name = pod.spec.schedulerName;
    return !name || name === DEFAULT_SCHEDULER_NAME || policyByName(name) !== undefined;
  }


  /** The keys of every pod waiting for a node: all worth another try when the cluster changes. */
  pendingKeys(): string[] {
    return this.opts.pods.list().filter((p) => this.isPending(p)).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  }

  isPending(pod: Pod): boolean {
    return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && !isFinished(pod) && !this.cache.isAssumed(pod.metadata.uid!) && this.responsibleFor(pod);
  }

  /** The pod's own policy, else the SchedulerConfiguration's, else the configured default, else first-fit. */
  policyFor(pod: Pod): ScorePlugin {
    const config = this.opts.configurations?.get(SCHEDULER_CONFIGURATION_NAME)?.spec;
    const weights = { cpu: config?.binpack?.cpuWeight ?? 1, memory: config?.binpack?.memoryWeight ?? 1 };
    return policyByName(pod.spec.schedulerName ?? '', weights)
      ?? policyByName(config?.defaultPolicy ?? this.opts.defaultPolicy ?? 'first-fit', weights)!;
  }

  /** Whether a node changed in a way that can change a decision (not a heartbeat refresh). */
  static schedulingRelevant(prev: Node, next: Node): boolean {
    return isNodeReady(prev) !== isNodeReady(next)
      || !isDeepStrictEqual(prev.spec, next.spec)
      || !isDeepStrictEqual(prev.metadata.labels, next.metadata.labels);
  }

  async reconcile(key: string): Promise<void> {
    const pod = this.opts.pods.get(key);
    if (!pod || !this.isPending(pod)) return;
    const policy = this.policyFor(pod);
    const snapshot = this.cache.snapshot();
    const requests = podRequests(pod);
    const decision = decide({ pod, requests }, snapshot, DEFAULT_FILTERS, policy);
    const [ns, name] = [pod.metadata.namespace!, pod.metadata.name!];

    const explained = explain(decision);
    if (!decision.node) {
      await this.setScheduled(pod, { status: 'False', reason: 'Unschedulable', message: decision.message }, explained);
      await this.opts.events?.record(pod, 'Warning', 'FailedScheduling', decision.message);
      return; // tried again when the cluster changes (see manager.ts), not on a timer
    }
    if (!(await this.reserve(decision.node, pod, requests))) {
      // Another scheduler filled the room since our snapshot: decide again shortly.
      throw new Error(`node ${decision.node} filled up meanwhile; deciding again`);
    }
    try {
      // The pod's resourceVersion makes this a compare-and-swap: a pod changed
      // meanwhile (bound by someone else, deleted, edited) is not bound twice.
      await this.opts.client.patch(POD, ns, name, { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName: decision.node } });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
      // Not ours to bind after all: give the room back unless the pod did land there.
      const now = await this.opts.client.get<Pod>(POD, ns, name).catch(() => undefined);
      if (now?.spec.nodeName !== decision.node) await this.unreserve(decision.node, pod.metadata.uid!);
      return; // the informer brings the new state, and with it another try if still pending
    }
    this.cache.assume(pod.metadata.uid!, decision.node, requests);
    await this.setScheduled(pod, { status: 'True', reason: 'Scheduled', message: `assigned to ${decision.node} by ${policy.name}` }, explained);
    await this.opts.events?.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${decision.node} (policy ${policy.name})`);
  }

  /** Adds the pod to the node's ledger if it still fits there, with a compare-and-swap on the Node. */
  private async reserve(nodeName: string, pod: Pod, requests: Resources): Promise<boolean> {
    let fits = false;
    try {
      await updateStatus<Node>(this.opts.client, NODE, undefined, nodeName, (node) => {
        // Everything on the node but this pod (a retry may find its own earlier
        // reservation), with the ledger as this version of the Node has it.
        const info = buildSnapshot([node], []).byName.get(nodeName);
        if (info) info.allocated = this.cache.holdsWithout(node, pod.metadata.uid!);
        fits = info !== undefined && resourcesFit.filter({ pod, requests }, info) === undefined;
        if (!fits) return undefined;
        const entry: Reservation = { uid: pod.metadata.uid!, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, milliCpu: requests.milliCpu, memory: requests.memory, at: this.clock.now().getTime() };
        return { ...node.status, reservations: withReservation(reservationsOf(node), entry) };
      });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    return fits;
  }

  private async unreserve(nodeName: string, uid: string): Promise<void> {
    try {
      await updateStatus<Node>(this.opts.client, NODE, undefined, nodeName, (node) => {
        const list = reservationsOf(node);
        return list.some((r) => r.uid === uid) ? { ...node.status, reservations: withoutReservation(list, uid) } : undefined;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async setScheduled(pod: Pod, c: { status: 'True' | 'False'; reason: string; message: string }, scheduling: SchedulingRecord): Promise<void> {
    try {
      await updateStatus<Pod>(this.opts.client, POD, pod.metadata.namespace, pod.metadata.name!, (current) => {
        if (current.metadata.uid !== pod.metadata.uid) return undefined;
        const status = current.status ?? {};
        const conditions = setCondition(status.conditions, { type: 'PodScheduled', ...c }, this.clock.now());
        const next = { ...status, conditions, scheduling };
        return isDeepStrictEqual(next, status) ? undefined : next;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
