// The pod-health controller: a pod that keeps failing its health check on
// its node (its agent restarted it max-restarts times there) is sent back to
// Pending, marked to avoid that node, for the scheduler to place elsewhere.
// It also turns each restart the agents report into a BackOff event, since
// a node's token may not write Events.
import type { KcsClient } from '../client/interface.ts';
import { AVOID_NODE, DEFAULT_MAX_RESTARTS, maxRestartsOf, podFailures } from '../objects/pod-health.ts';
import type { Pod } from '../objects/types.ts';
import { isFinished } from '../objects/conditions.ts';
import { containerFieldPath, reportedHappenings } from '../objects/container-log.ts';
import { kindByName } from '../objects/kinds.ts';
import { buildEvent, type EventRecorder } from '../client/events.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import type { Reconciler } from './runner.ts';
import { unbindPods } from '../client/unbind.ts';

const EVENT = kindByName('Event')!;

export interface PodHealthOptions {
  client: KcsClient;
  pods: Informer<Pod>;
  /** Restarts on one node before a pod moves, for pods without kcs.io/max-restarts (default 3). */
  maxRestarts?: number;
  events?: EventRecorder;
}

/** Pure: the pod has failed on its node as often as its limit allows, and is to move. */
export function mustMove(pod: Pod, clusterDefault = DEFAULT_MAX_RESTARTS): boolean {
  if (!pod.spec.nodeName || isFinished(pod) || pod.metadata.deletionTimestamp) return false;
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

  constructor(opts: PodHealthOptions) {
    this.opts = opts;
    this.maxRestarts = opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
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
    // A compare-and-swap on the version read: a pod that changed meanwhile is
    // left alone, and its new version (from the informer) decides again.
    await unbindPods(this.opts.client, [pod], because,
      events && ((p) => events.build(p, 'Warning', 'TooManyRestarts', `${because} (limit ${limit}); unbound for the scheduler to place it on another node`)),
      { [AVOID_NODE]: node });
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
