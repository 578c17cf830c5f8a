// Sends pods back to Pending for the scheduler to place again: what the
// node controller does for a deleted Node, the health controller for a
// failed one, and `kcs drain` for a cordoned one. One place, one rule set.
// Each unbound pod carries why it moved (kcs.io/moved-from and
// kcs.io/moved-because) until the scheduler places it again, so the event
// of its next binding can say "moved from node-2 to node-4 after ...".
// What the node it leaves reported about its containers (restarts,
// readiness) goes with it: on its next node it starts afresh.
import type { CommitOp } from '../api/registry.ts';
import { errorCode, type KcsClient } from './interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { KubeObject, Pod, PodStatus } from '../objects/types.ts';
import { isFinished } from '../objects/conditions.ts';

const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;

/** The node a Pending pod was taken off, and why ("node-2 missed heartbeats for 3.2 s"). */
export const MOVED_FROM = 'kcs.io/moved-from';
export const MOVED_BECAUSE = 'kcs.io/moved-because';

/** Most unbindings in one transaction. */
const BATCH = 1024;

/** The conditions a node's agent reports about a pod's containers: meaningless once the pod has left it. */
const NODE_CONDITIONS = new Set(['Initialized', 'ContainersReady', 'Ready']);

/** The status of a pod on no node: Pending, no containers, only the conditions not about them (PodScheduled). */
function unboundStatus(status: PodStatus | undefined): PodStatus {
  const { containerStatuses: _c, ...rest } = status ?? {};
  const conditions = status?.conditions?.filter((c) => !NODE_CONDITIONS.has(c.type));
  return { ...rest, ...(conditions ? { conditions } : {}), phase: 'Pending' };
}

/** The pod as it is after unbinding: no node, Pending, and why it moved. */
function unbound(pod: Pod, because: string, extra?: Record<string, string>): Pod {
  const { nodeName: _n, ...spec } = pod.spec;
  const annotations = { ...pod.metadata.annotations, ...extra, [MOVED_FROM]: pod.spec.nodeName ?? '', [MOVED_BECAUSE]: because };
  return { ...pod, metadata: { ...pod.metadata, annotations }, spec, status: unboundStatus(pod.status) };
}

/**
 * Unbinds each pod that is still at the version read (a compare-and-swap:
 * a pod moved or edited meanwhile is left alone) and marks it Pending.
 * Finished pods stay as they ended: Pending would run them again. event
 * builds the Event to write with each unbinding; annotations are added to
 * each pod with the move's own. Returns the pods unbound.
 *
 * A thousand pods take one commit (one transaction), with their events,
 * in-process or over HTTP alike: what lets a failed node's pods move within
 * a second of its failure.
 */
export async function unbindPods(
  client: KcsClient, pods: Pod[], because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>,
): Promise<Pod[]> {
  const candidates = pods.filter((p) => p.spec.nodeName && !isFinished(p));
  const done: Pod[] = [];
  for (let i = 0; i < candidates.length; i += BATCH) {
    const batch = candidates.slice(i, i + BATCH);
    try {
      await client.commit(unbindOps(batch, because, event, annotations));
      done.push(...batch);
      continue;
    } catch {
      // Something in the batch changed meanwhile, or one write was refused:
      // one pod per commit then, so each stands alone.
    }
    for (const pod of batch) if (await unbindAlone(client, pod, because, event, annotations)) done.push(pod);
  }
  return done;
}

/** Sends one pod back to Pending; false if it changed or went away since it was read. */
export async function unbindPod(client: KcsClient, pod: Pod, because: string): Promise<boolean> {
  return (await unbindPods(client, [pod], because)).length === 1;
}

/** The unbinding of each pod, each followed by its event. */
function unbindOps(pods: Pod[], because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>): CommitOp[] {
  const ops: CommitOp[] = [];
  for (const pod of pods) {
    ops.push({ verb: 'update', kind: POD, subresource: 'unbinding', object: unbound(pod, because, annotations), transfer: true });
    const e = event?.(pod);
    if (e) ops.push({ verb: 'create', kind: EVENT, object: e, transfer: true });
  }
  return ops;
}

/** One pod's unbinding; without its event if only the event was refused (events never fail the work). False if the pod changed or went away. */
async function unbindAlone(client: KcsClient, pod: Pod, because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>): Promise<boolean> {
  if (event) {
    try {
      await client.commit(unbindOps([pod], because, event, annotations));
      return true;
    } catch {
      // Tried again below without the event, which says what the trouble was.
    }
  }
  try {
    await client.commit(unbindOps([pod], because, undefined, annotations));
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 409 || code === 404) return false;
    throw err;
  }
}
