// The scheduler controller: binds each pending pod it is responsible for
// to a node chosen by the pod's policy (spec.schedulerName) or the default
// one, never past a node's capacity, and tells an unschedulable pod why.
// Decisions are made one at a time on the SchedulerCache, pods of higher
// priority first (scheduling-queue.ts); a decided pod is "assumed" on its
// node at once and handed to the Binder (binder.ts), which writes bindings
// with compare-and-swap, in batches where it can. A pod that fits nowhere
// may preempt pods of lower priority (preemptor.ts) and waits, nominated,
// for their room.
import { isDeepStrictEqual } from 'node:util';
import type { KcsClient } from '../client/interface.ts';
import { podRequests } from '../objects/requests.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { decide, decideIndexed, type Decision, type FilterPlugin, type PodRequest, type ScorePlugin } from '../scheduler/framework.ts';
import { explain, type SchedulingRecord } from '../scheduler/explain.ts';
import { DEFAULT_FILTERS } from '../scheduler/plugins/filters.ts';
import { filtersHoldingNominations } from '../scheduler/plugins/nominated.ts';
import { PriorityKeys } from '../scheduler/scheduling-queue.ts';
import { podPriority } from '../scheduler/priority.ts';
import { Preemptor } from '../scheduler/preemptor.ts';
import { failedEverywhereMessage, failedNodeDetail, failedNodesOutlook } from '../scheduler/failed-nodes.ts';
import { hasFailedNodes } from '../objects/pod-health.ts';
import type { Snapshot } from '../scheduler/snapshot.ts';
import { policyByName, type PolicyName } from '../scheduler/plugins/policies.ts';
import { SchedulerCache } from '../scheduler/cache.ts';
import { isFinished, isNodeReady } from '../objects/conditions.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Metrics, ScheduleResult } from '../util/metrics.ts';
import { BindError, Binder, setPodScheduled } from '../scheduler/binder.ts';
import type { EventRecorder } from '../client/events.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import type { ReconcileResult, Reconciler } from './runner.ts';
import { gaveRoomBack } from './ledger.ts';
import { podsOnNode } from './pods-on-node.ts';

/**
 * Clusters up to this size are scanned whole for each decision (about 30 µs
 * at 100 nodes), so every node gets a verdict; larger ones use the index.
 */
export const FULL_SCAN_NODES = 100;

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
  /** Told how long each decision took (ms), for benchmarks and metrics. */
  onDecision?: (ms: number) => void;
  /** Where each attempt's result and time (decision and binding) are counted, by policy. */
  metrics?: Metrics;
  /**
   * With it, reconcile returns once the pod is assumed on its node and the
   * binding is written in the background; a binding that fails forgets the
   * pod and hands its key here, with how many times in a row its binding
   * failed (to be decided again after a back-off that grows with it).
   * Without it, reconcile waits for the binding and fails with it.
   */
  requeue?: (key: string, failures: number) => void;
  log?: (message: string) => void;
  /**
   * A second scheduler's own name (as a kube-scheduler profile's): it then
   * places only pods whose spec.schedulerName says so, with the default policy.
   */
  schedulerName?: string;
}

export class SchedulerController implements Reconciler {
  readonly name = 'scheduler';
  private readonly opts: SchedulerOptions;
  private readonly clock: Clock;
  /** What every node holds, kept by the informers' events (and this scheduler's own bindings). */
  readonly cache = new SchedulerCache();
  private readonly binder: Binder;
  /** Background bindings of each pod that failed in a row, for the back-off of the next try. */
  private readonly bindFailures = new Map<string, number>();
  /** A retry of every pending pod is already asked for in this burst of changes. */
  private retryAsked = false;
  private readonly preemptor: Preemptor;
  /** The filters while some pod is nominated: its room held against pods of lower priority. */
  private readonly filtersWithNominations: FilterPlugin[];

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.binder = new Binder({ client: opts.client, cache: this.cache, clock: this.clock, events: opts.events });
    this.preemptor = new Preemptor({
      client: opts.client, cache: this.cache, clock: this.clock, events: opts.events,
      podsOn: (node) => podsOnNode(opts.pods, node), podByKey: (key) => opts.pods.get(key),
    });
    this.filtersWithNominations = filtersHoldingNominations(this.cache.nominations);
    opts.nodes.on({ add: (n) => this.cache.setNode(n), update: (_p, n) => this.cache.setNode(n), delete: (n) => this.cache.removeNode(n.metadata.name!) });
    opts.pods.on({ add: (p) => this.cache.setPod(p), update: (_p, p) => this.cache.setPod(p), delete: (p) => this.cache.removePod(p) });
  }

  /** The scheduling queue: pods of higher priority first, then in the order queued (the runner asks once). */
  queueOrder(): PriorityKeys {
    return new PriorityKeys((key) => {
      const pod = this.opts.pods.get(key);
      return pod ? podPriority(pod) : 0;
    });
  }

  /** Whether this scheduler places the pod: no scheduler named, the default, or one of its policies. */
  responsibleFor(pod: Pod): boolean {
    const name = pod.spec.schedulerName;
    if (this.opts.schedulerName) return name === this.opts.schedulerName;
    return !name || name === DEFAULT_SCHEDULER_NAME || policyByName(name) !== undefined;
  }


  /** The keys of every pod waiting for a node: all worth another try when the cluster changes. */
  pendingKeys(): string[] {
    return this.opts.pods.list().filter((p) => this.isPending(p)).map(objectKey);
  }

  // Unschedulable pods are tried again when the cluster changes, not on a
  // timer: room given back, a node added, removed or changed in a way that
  // matters, a new configuration. The handlers below say which changes.

  /** What the pod informer tells this scheduler: a pending pod is queued; a pod that gives room back retries every pending one. */
  podHandlers(enqueue: (key: string) => void): InformerHandlers<Pod> {
    return {
      add: (p) => { if (this.isPending(p)) enqueue(objectKey(p)); },
      update: (prev, p) => {
        if (this.isPending(p)) enqueue(objectKey(p));
        if (gaveRoomBack(prev, p)) this.retryPending(enqueue);
      },
      delete: (p) => { if (p.spec.nodeName) this.retryPending(enqueue); },
    };
  }

  /** What the node informer tells this scheduler: a node added or removed, or changed in a way that can change a decision (not a heartbeat refresh). */
  nodeHandlers(enqueue: (key: string) => void): InformerHandlers<Node> {
    return {
      add: () => this.retryPending(enqueue),
      update: (prev, n) => { if (SchedulerController.schedulingRelevant(prev, n)) this.retryPending(enqueue); },
      delete: () => this.retryPending(enqueue),
    };
  }

  /** A new default policy applies to every pod still waiting. */
  configurationHandlers(enqueue: (key: string) => void): InformerHandlers<SchedulerConfiguration> {
    const retry = () => this.retryPending(enqueue);
    return { add: retry, update: retry, delete: retry };
  }

  /**
   * Queues every pending pod, once per burst of changes: a thousand pods
   * unbound in one transaction ask once, on a microtask after the burst,
   * not once per change. (One burst, one enqueue: every caller passes its
   * runner's.)
   */
  retryPending(enqueue: (key: string) => void): void {
    if (this.retryAsked) return;
    this.retryAsked = true;
    queueMicrotask(() => {
      this.retryAsked = false;
      for (const k of this.pendingKeys()) enqueue(k);
    });
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

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const pod = this.opts.pods.get(key);
    if (!pod || !this.isPending(pod)) return;
    const policy = this.policyFor(pod);
    const snapshot = this.cache.snapshot();
    const requests = podRequests(pod);
    const started = performance.now();
    // The time only matters to a pod kept off nodes it failed on, until then.
    const req: PodRequest = hasFailedNodes(pod) ? { pod, requests, now: this.clock.now().getTime() } : { pod, requests };
    const filters = this.cache.nominations.size ? this.filtersWithNominations : DEFAULT_FILTERS;
    // Up to FULL_SCAN_NODES nodes are scanned whole, so the record explains
    // every node; more go through the index (examining a few nodes), and are
    // scanned whole only to explain why no node fits.
    const nominated = this.onNominatedNode(req, filters, policy);
    const decision = nominated
      ?? (snapshot.nodes.length > FULL_SCAN_NODES ? decideIndexed(req, this.cache.index, filters, policy) : undefined)
      ?? decide(req, snapshot, filters, policy);
    const record = explain(decision, snapshot.nodes.length, req.now === undefined ? undefined : failedNodeDetail(pod));
    // Placed where it preempted: the record keeps whom it preempted there, and why that node.
    if (nominated) {
      const preempted = (pod.status?.scheduling as SchedulingRecord | undefined)?.preemption;
      if (preempted?.node === nominated.node) record.preemption = preempted;
    }
    this.opts.onDecision?.(performance.now() - started);
    const attempted = (result: ScheduleResult) => this.opts.metrics?.scheduleAttempt(result, policy.name, (performance.now() - started) / 1000);
    if (!decision.node) {
      attempted('unschedulable');
      return this.unschedulable(req, decision, record, snapshot, filters);
    }
    // Counted on the node at once, as kube-scheduler "assumes" a pod: the
    // next decision sees it there while the binding is being written.
    const uid = pod.metadata.uid!;
    this.cache.assume(uid, decision.node, requests, podPriority(pod));
    const binding = this.binder.bind({ pod, node: decision.node, requests, policy: policy.name, record }).then(
      (bound) => {
        // Not bound: the pod changed or went away meanwhile. Its informer's news
        // came while it was assumed (so not pending), so look at it again.
        if (!bound) throw new BindError('the pod changed while it was being bound');
        this.bindFailures.delete(key);
        attempted('scheduled');
      },
    ).catch((err: unknown) => {
      attempted('error');
      this.cache.forget(uid);
      throw err;
    });
    const requeue = this.opts.requeue;
    if (!requeue) return binding;
    // kube-scheduler's binding cycle: the binding is written in the
    // background (batched with others) while the next pods are decided.
    binding.catch((err: unknown) => {
      const failures = (this.bindFailures.get(key) ?? 0) + 1;
      if (this.bindFailures.size > 100_000) this.bindFailures.clear(); // a bound on keys of pods long gone
      this.bindFailures.set(key, failures);
      this.opts.log?.(`scheduler: ${key}: ${(err as Error).message}; deciding again`);
      requeue(key, failures);
    });
  }

  /**
   * A pod waiting for the room preempted for it takes its nominated node as
   * soon as it passes every filter there, as kube-scheduler tries that node
   * first; otherwise it is decided like any other.
   */
  private onNominatedNode(req: PodRequest, filters: FilterPlugin[], policy: ScorePlugin): Decision | undefined {
    if (!this.cache.nominations.size) return undefined;
    const node = this.cache.nominations.of(req.pod.metadata.uid!)?.node;
    const info = node === undefined ? undefined : this.cache.snapshot().byName.get(node);
    if (!info || filters.some((f) => f.filter(req, info) !== undefined)) return undefined;
    return { node: info.name, policy: policy.name, verdicts: [{ node: info.name, reasons: [], score: policy.score(req, info) }], message: `assigned to ${info.name} by ${policy.name} (nominated)` };
  }

  /**
   * No node fits: preempt pods of lower priority if that makes room (and
   * wait, nominated, for it), or say why not; a pod kept off every node it
   * could go to by its failed health checks waits for the first of them to
   * expire, and says so. Either way PodScheduled=False and FailedScheduling.
   */
  private async unschedulable(req: PodRequest, decision: Decision, record: SchedulingRecord, snapshot: Snapshot, filters: FilterPlugin[]): Promise<ReconcileResult | void> {
    const { pod } = req;
    const outlook = req.now === undefined ? undefined : failedNodesOutlook(pod, snapshot.nodes, req.now);
    let message = decision.message;
    const status: NonNullable<Pod['status']> = {};
    if (outlook?.everywhere) {
      message = `${message} ${failedEverywhereMessage(outlook)}`;
    } else {
      const schedulerName = this.opts.schedulerName ?? pod.spec.schedulerName ?? DEFAULT_SCHEDULER_NAME;
      const preemption = await this.preemptor.preempt(req, decision, snapshot, filters, schedulerName);
      if (preemption.record || preemption.message) this.opts.metrics?.preemptionAttempt(preemption.evicted);
      if (preemption.message) message = `${message} ${preemption.message}`;
      if (preemption.record) {
        record.preemption = preemption.record;
        status.nominatedNodeName = preemption.record.node;
      }
    }
    status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }];
    status.scheduling = record;
    await setPodScheduled(this.opts.client, pod, status, this.clock);
    await this.opts.events?.record(pod, 'Warning', 'FailedScheduling', message);
    // Tried again when the cluster changes (see the handlers above), and when
    // the first node it failed on may take it again: time alone changes that.
    if (outlook?.retryAt !== undefined) return { requeueAfterMs: Math.max(0, outlook.retryAt - req.now!) };
  }
}
