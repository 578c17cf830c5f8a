// The pod-health controller: a pod that keeps failing its health check on
// its node (its agent restarted it max-restarts times there) is sent back to
// Pending for the scheduler to place elsewhere, remembering that node among
// every node it failed on, each for a while (kcs.io/failed-nodes), so a pod
// that fails everywhere waits instead of bouncing between two nodes.
// It also turns each restart the agents report into a BackOff event, since
// a node's token may not write Events.
import type { KcsClient } from '../client/interface.ts';
import { AVOID_NODE, DEFAULT_FAILED_NODE_MEMORY_MS, DEFAULT_MAX_RESTARTS, FAILED_NODES, maxRestartsOf, podFailures, withFailure } from '../objects/pod-health.ts';
import type { Pod } from '../objects/types.ts';
import { isFinished } from '../objects/conditions.ts';
import { containerFieldPath, reportedHappenings } from '../objects/container-log.ts';
import { kindByName } from '../objects/kinds.ts';
import { buildEvent, type EventRecorder } from '../client/events.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import type { Reconciler } from './runner.ts';
import { unbindPods } from '../client/unbind.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';

const EVENT = kindByName('Event')!;

export interface PodHealthOptions {
  client: KcsClient;
  pods: Informer<Pod>;
  /** Restarts on one node before a pod moves, for pods without kcs.io/max-restarts (default 3). */
  maxRestarts?: number;
  /** How long the scheduler keeps a pod off a node it failed on (default 10 minutes). */
  failedNodeMemoryMs?: number;
  events?: EventRecorder;
  clock?: Clock;
}

/** Pure: the pod has failed on its node as often as its limit allows, and is to move. */
export function mustMove(pod: Pod, clusterDefault = DEFAULT_MAX_RESTARTS): boolean {
  if (!pod.spec.nodeName || isFinished(pod) || pod.metadata.deletionTimestamp) return false;
  // A pod that runs to completion (restartPolicy OnFailure or Never, a Job's) is not moved for its
  // restarts: they are its Job's failures, counted against backoffLimit, which a move would reset.
  if (pod.spec.restartPolicy === 'OnFailure' || pod.spec.restartPolicy === 'Never') return false;
  const limit = maxRestartsOf(pod, clusterDefault);
  return limit !== undefined && podFailures(pod) >= limit;
}

/** Pure: the containers whose restart count went up on the same node between two versions of a pod. */
export function restartedContainers(prev: Pod | undefined, pod: Pod): string[] {
  if (!prev || !pod.spec.nodeName || prev.spec.nodeName !== pod.spec.nodeName) return [];
  const before = new Map((prev.status?.containerStatuses ?? []).map((c) => [c.name, c.restartCount ?? 0]));
  return (pod.status?.containerStatuses ?? []).filter((c) => (c.restartCount ?? 0) > (before.get(c.name) ?? 0)).map((c) => c.name);
}

export class PodHealthController implements Reconciler {
  readonly name = 'pod-health';
  private readonly opts: PodHealthOptions;
  private readonly maxRestarts: number;
  private readonly clock: Clock;

  constructor(opts: PodHealthOptions) {
    this.opts = opts;
    this.maxRestarts = opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    this.clock = opts.clock ?? systemClock;
  }

  /** What the pod informer tells this controller: pods to move go to enqueue; restarts become events. */
  podHandlers(enqueue: (key: string) => void): InformerHandlers<Pod> {
    return {
      add: (p) => { if (mustMove(p, this.maxRestarts)) enqueue(objectKey(p)); },
      update: (prev, p) => {
        for (const container of restartedContainers(prev, p)) {
          void this.recordRestart(p, container);
          void this.keepReported(prev!, p, container);
        }
        if (mustMove(p, this.maxRestarts)) enqueue(objectKey(p));
      },
    };
  }

  /** For the periodic resync: the pods due to move (an unbinding that lost a race is tried again). */
  keysToMove(): string[] {
    return this.opts.pods.list().filter((p) => mustMove(p, this.maxRestarts)).map(objectKey);
  }

  async reconcile(key: string): Promise<void> {
    const pod = this.opts.pods.get(key);
    if (!pod || !mustMove(pod, this.maxRestarts)) return;
    const node = pod.spec.nodeName!;
    const failures = podFailures(pod);
    const limit = maxRestartsOf(pod, this.maxRestarts)!;
    const because = `pod ${pod.metadata.name} failed its health check ${failures} time${failures === 1 ? '' : 's'} on ${node}`;
    const events = this.opts.events;
    const now = this.clock.now();
    const memoryMs = this.opts.failedNodeMemoryMs ?? DEFAULT_FAILED_NODE_MEMORY_MS;
    const until = rfc3339(new Date(now.getTime() + memoryMs));
    // A compare-and-swap on the version read: a pod that changed meanwhile is
    // left alone, and its new version (from the informer) decides again.
    await unbindPods(this.opts.client, [withoutOldAnnotation(pod)], because,
      events && ((p) => events.build(p, 'Warning', 'TooManyRestarts', `${because} (limit ${limit}); unbound for the scheduler to place it on another node, kept off ${node} until ${until}`)),
      { [FAILED_NODES]: withFailure(pod, node, now, memoryMs) });
  }

  /**
   * A container's status holds its current and previous run only: at a
   * restart, what it said of the run before (its start, its end, its health
   * check) drops out. Kept as Events with the times they happened, so the
   * container's log still tells every run.
   */
  private async keepReported(prev: Pod, pod: Pod, container: string): Promise<void> {
    if (!this.opts.events) return;
    const still = new Set(reportedHappenings(pod, container).map((h) => `${h.at} ${h.reason} ${h.message}`));
    const node = prev.spec.nodeName!;
    const about = { apiVersion: pod.apiVersion, kind: pod.kind, name: pod.metadata.name!, namespace: pod.metadata.namespace, uid: pod.metadata.uid, fieldPath: containerFieldPath(container) };
    for (const h of reportedHappenings(prev, container)) {
      if (still.has(`${h.at} ${h.reason} ${h.message}`)) continue;
      await this.opts.client.create(EVENT, about.namespace, buildEvent(about, h.type, h.reason, h.message, { at: new Date(h.at), component: 'kcs-agent', host: node }))
        .catch(() => { /* an Event never fails the work */ });
    }
  }

  private async recordRestart(pod: Pod, container: string): Promise<void> {
    const cs = pod.status?.containerStatuses?.find((c) => c.name === container);
    const limit = maxRestartsOf(pod, this.maxRestarts);
    const count = cs?.restartCount ?? 0;
    const after = limit === undefined ? '' : count >= limit ? ', limit reached: moving it' : `, moves after ${limit}`;
    // The same wording as the kubelet's BackOff event, with where and how often,
    // about the container (its fieldPath), so only that container's log shows it.
    const about = { apiVersion: pod.apiVersion, kind: pod.kind, name: pod.metadata.name!, namespace: pod.metadata.namespace, uid: pod.metadata.uid, fieldPath: containerFieldPath(container) };
    await this.opts.events?.record(about, 'Warning', 'BackOff', `Back-off restarting failed container ${container} in pod ${pod.metadata.name} on ${pod.spec.nodeName} (restart ${count}${after})`);
  }
}

/** The pod without kcs.io/avoid-node: the failed-nodes list it is folded into replaces it. */
function withoutOldAnnotation(pod: Pod): Pod {
  if (pod.metadata.annotations?.[AVOID_NODE] === undefined) return pod;
  const { [AVOID_NODE]: _old, ...annotations } = pod.metadata.annotations;
  return { ...pod, metadata: { ...pod.metadata, annotations } };
}
