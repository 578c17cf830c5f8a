// Turns the scheduler's decisions into bindings in the store. Each binding
// reserves the pod's room in its node's ledger (status.reservations, checked
// against capacity on the version of the Node being replaced) and sets the
// pod's spec.nodeName, PodScheduled condition and decision record, each with
// a compare-and-swap. So several schedulers deciding from stale views can
// never overcommit a node, and a pod is bound once.
//
// Every binding that waits when a flush runs goes into one commit (one
// transaction): one ledger write per node, the pods, and their Scheduled
// events, all or nothing. That is what makes thousands of bindings a second
// possible, and it is the same API operation in-process and over HTTP.
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import type { CommitOp } from '../api/registry.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Resources } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import type { SchedulerCache } from './cache.ts';
import type { SchedulingRecord } from './explain.ts';
import { reservationsOf, withReservation, type Reservation } from './ledger.ts';
import { resourcesFit } from './plugins/filters.ts';
import { buildSnapshot } from './snapshot.ts';
import type { Clock } from '../util/clock.ts';
import { setCondition } from '../objects/conditions.ts';
import { updateStatus } from '../client/update-status.ts';
import { MOVED_BECAUSE, MOVED_FROM } from '../client/unbind.ts';
import type { EventRecorder } from '../client/events.ts';

/** Times one node's bindings are tried again on a fresh read of the Node when only the Node changed. */
const MAX_NODE_CONFLICTS = 8;

/** What a 409 says was modified ("nodes/node-1"), over HTTP and in-process alike. */
function conflictOn(err: unknown): string | undefined {
  const e = err as { details?: { kind?: string; name?: string }; status?: { details?: { kind?: string; name?: string } } };
  const details = e.details ?? e.status?.details;
  return details?.kind && details.name ? `${details.kind}/${details.name}` : undefined;
}

const POD = kindByName('Pod')!;
const NODE = kindByName('Node')!;
const EVENT = kindByName('Event')!;

export interface Binding {
  /** The pod as decided on: its resourceVersion is the compare. */
  pod: Pod;
  node: string;
  requests: Resources;
  policy: string;
  record: SchedulingRecord;
}

/**
 * Bindings per transaction. Measured with bench/scheduler.ts (10,000 pods,
 * 1,000 nodes): 512 gave 3,100-4,700 binds/s, 1,024 gave 4,200-5,800; more
 * holds the event loop longer (a flush of 1,024 takes ~200 ms).
 */
export const DEFAULT_MAX_BATCH = 1024;

export interface BinderOptions {
  client: KcsClient;
  cache: SchedulerCache;
  clock: Clock;
  events?: EventRecorder;
  /** Most bindings in one transaction (default DEFAULT_MAX_BATCH). */
  maxBatch?: number;
}

/** The binding did not happen and is worth deciding again (the node filled up, the Node changed). */
export class BindError extends Error {
  override name = 'BindError';
}

interface Waiting {
  binding: Binding;
  resolve: (bound: boolean) => void;
  reject: (err: Error) => void;
  /** Rejected already (it no longer fitted): left out of a retry. */
  settled?: boolean;
}

export class Binder {
  private readonly opts: BinderOptions;
  /** Bindings waiting for a flush, by node, nodes in the order they were first chosen. */
  private waiting = new Map<string, Waiting[]>();
  private flushScheduled = false;

  constructor(opts: BinderOptions) {
    this.opts = opts;
  }

  /**
   * Resolves true once bound, false when the pod changed or went away
   * meanwhile (its informer brings the next try); rejects when the pod is
   * worth deciding again.
   */
  bind(binding: Binding): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const group = this.waiting.get(binding.node);
      if (group) group.push({ binding, resolve, reject });
      else this.waiting.set(binding.node, [{ binding, resolve, reject }]);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waiting.size === 0) return;
    this.flushScheduled = true;
    // After the current burst of decisions: they all join this batch.
    setImmediate(() => void this.flush());
  }

  /**
   * Writes whole nodes' worth of waiting bindings, up to maxBatch pods: a
   * node's ledger is written once for all its pods waiting, even when
   * consecutive decisions (spread, worst-fit) went to different nodes.
   */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const max = this.opts.maxBatch ?? DEFAULT_MAX_BATCH;
    const groups = new Map<string, Waiting[]>();
    let count = 0;
    for (const [node, group] of this.waiting) {
      if (count > 0 && count + group.length > max) break;
      groups.set(node, group);
      this.waiting.delete(node);
      count += group.length;
    }
    this.scheduleFlush();
    try {
      await this.write(groups);
    } catch (err) {
      // Whatever went wrong, no binding is left waiting (settled ones stay settled).
      for (const group of groups.values()) for (const w of group) w.reject(err as Error);
    }
  }

  private async write(groups: Map<string, Waiting[]>): Promise<void> {
    // First try: every group on the Node the cache holds, in one commit.
    const ops: CommitOp[] = [];
    const inCommit: Waiting[] = [];
    for (const [name, group] of groups) {
      const node = this.opts.cache.snapshot().byName.get(name)?.node;
      if (!node) {
        for (const w of group) w.reject(new BindError(`node ${name} is gone`));
        continue;
      }
      ops.push(...this.groupOps(node, group, inCommit));
    }
    try {
      if (ops.length) await this.opts.client.commit(ops);
      for (const w of inCommit) w.resolve(true);
      return;
    } catch {
      // Something changed under the batch (a Node's status, a pod), or one
      // write was refused: node by node now, each on the Node as it is, so
      // one problem fails only its own node's bindings.
    }
    const retry = new Set(inCommit);
    for (const [name, group] of groups) {
      const mine = group.filter((w) => retry.has(w));
      if (mine.length) await this.writeGroup(name, mine);
    }
  }

  /** One node's bindings on the Node as it is now; without their events if only the events were refused. */
  private async writeGroup(name: string, group: Waiting[]): Promise<void> {
    let failure: unknown;
    let nodeConflicts = 0;
    for (let withEvents = true; ;) {
      const committed: Waiting[] = [];
      try {
        const node = await this.opts.client.get<Node>(NODE, undefined, name);
        await this.opts.client.commit(this.groupOps(node, group.filter((w) => !w.settled), committed, withEvents));
        for (const w of committed) w.resolve(true);
        return;
      } catch (err) {
        failure = err;
        // The Node changed between the read and the write (its agent reports
        // status as pods arrive): read it again, as an update without a
        // precondition does. Deciding these pods again would cost far more.
        if (isConflict(err) && conflictOn(err) === `nodes/${name}` && ++nodeConflicts < MAX_NODE_CONFLICTS) continue;
        if (isConflict(err) || isNotFound(err) || !withEvents) break; // a pod changed or is gone: events are not the trouble
        withEvents = false;
      }
    }
    const why = isNotFound(failure) ? `node ${name} or a pod is gone` : `binding on ${name} failed: ${(failure as Error).message}`;
    for (const w of group) w.reject(new BindError(why)); // those already settled stay as they are
  }

  /**
   * The writes binding these pods to this version of the Node: its ledger
   * with their reservations, then each pod and its Scheduled event. Pods
   * that no longer fit there are rejected; the others join `accepted`.
   */
  private groupOps(node: Node, group: Waiting[], accepted: Waiting[], withEvents = true): CommitOp[] {
    const name = node.metadata.name!;
    const info = buildSnapshot([node], []).byName.get(name)!;
    info.allocated = this.opts.cache.holdsWithout(node, new Set(group.map((w) => w.binding.pod.metadata.uid!)));
    let ledger = reservationsOf(node);
    const podOps: CommitOp[] = [];
    for (const w of group) {
      const { pod, requests } = w.binding;
      if (resourcesFit.filter({ pod, requests }, info) !== undefined) {
        w.reject(new BindError(`node ${name} filled up meanwhile`));
        w.settled = true;
        continue;
      }
      info.allocated = { milliCpu: info.allocated.milliCpu + requests.milliCpu, memory: info.allocated.memory + requests.memory, pods: info.allocated.pods + 1 };
      ledger = withReservation(ledger, this.reservation(w.binding));
      // Objects built for this write alone (what they share with the cache is valid, so admission leaves it be).
      podOps.push({ verb: 'update', kind: POD, subresource: 'binding', object: this.boundPod(w.binding), transfer: true });
      const event = withEvents ? this.scheduledEvent(w.binding) : undefined;
      if (event) podOps.push({ verb: 'create', kind: EVENT, object: event, transfer: true });
      accepted.push(w);
    }
    if (!podOps.length) return [];
    return [{ verb: 'update', kind: NODE, subresource: 'status', object: { ...node, status: { ...node.status, reservations: ledger } }, transfer: true }, ...podOps];
  }

  private reservation({ pod, requests }: Binding): Reservation {
    return { uid: pod.metadata.uid!, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, milliCpu: requests.milliCpu, memory: requests.memory, at: this.opts.clock.now().getTime() };
  }

  /**
   * The pod bound: its node, PodScheduled, the decision record; the note of
   * where it moved from is done with, and so is a nomination. A bare pod
   * preempted earlier is no longer a disruption target once placed again
   * (Kubernetes' disruption controller likewise turns the condition False
   * on a pod that was not deleted).
   */
  private boundPod({ pod, node, policy, record }: Binding): Pod {
    const status = pod.status ?? {};
    const now = this.opts.clock.now();
    let conditions = setCondition(status.conditions, { type: 'PodScheduled', status: 'True', reason: 'Scheduled', message: `assigned to ${node} by ${policy}` }, now);
    if (conditions.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) {
      conditions = setCondition(conditions, { type: 'DisruptionTarget', status: 'False', reason: 'Rescheduled', message: `placed again, on ${node}` }, now);
    }
    let metadata = pod.metadata;
    if (metadata.annotations?.[MOVED_FROM] !== undefined || metadata.annotations?.[MOVED_BECAUSE] !== undefined) {
      const { [MOVED_FROM]: _from, [MOVED_BECAUSE]: _because, ...annotations } = metadata.annotations;
      metadata = { ...metadata, annotations: Object.keys(annotations).length ? annotations : undefined };
    }
    const next: NonNullable<Pod['status']> = { ...status, conditions, scheduling: record };
    if (next.nominatedNodeName !== undefined) delete next.nominatedNodeName;
    return { ...pod, metadata, spec: { ...pod.spec, nodeName: node }, status: next };
  }

  /** Scheduled, or for a pod taken off another node, Moved: "pod web-1 moved from node-2 to node-4 after node-2 missed heartbeats for 3.2 s". */
  private scheduledEvent({ pod, node, policy }: Binding) {
    const from = pod.metadata.annotations?.[MOVED_FROM];
    if (from && from !== node) {
      const because = pod.metadata.annotations?.[MOVED_BECAUSE];
      return this.opts.events?.build(pod, 'Normal', 'Moved', `pod ${pod.metadata.name} moved from ${from} to ${node}${because ? ` after ${because}` : ''} (policy ${policy})`);
    }
    return this.opts.events?.build(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node} (policy ${policy})`);
  }
}

/**
 * Writes the PodScheduled condition and decision record into the pod's
 * status, if it is still that pod; and its nominated node, when status
 * states one (as a property: undefined clears it).
 */
export async function setPodScheduled(client: KcsClient, pod: Pod, status: NonNullable<Pod['status']>, clock: Clock): Promise<void> {
  try {
    await updateStatus<Pod>(client, POD, pod.metadata.namespace, pod.metadata.name!, (current) => {
      if (current.metadata.uid !== pod.metadata.uid) return undefined;
      const now = current.status ?? {};
      const wanted = status.conditions?.find((c) => c.type === 'PodScheduled');
      const conditions = wanted ? setCondition(now.conditions, wanted, clock.now()) : now.conditions;
      const next: NonNullable<Pod['status']> = { ...now, conditions, scheduling: status.scheduling };
      if ('nominatedNodeName' in status) {
        if (status.nominatedNodeName) next.nominatedNodeName = status.nominatedNodeName;
        else delete next.nominatedNodeName;
      }
      return isDeepStrictEqual(next, now) ? undefined : next;
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
