// Sends pods back to Pending for the scheduler to place again: what the
// node controller does for a deleted Node, the health controller for a
// failed one, and `kcs drain` for a cordoned one. One place, one rule set.
// Each unbound pod carries why it moved (kcs.io/moved-from and
// kcs.io/moved-because) until the scheduler places it again, so the event
// of its next binding can say "moved from node-2 to node-4 after ...".
// What the node it leaves reported about its containers (restarts,
// readiness) does not go with it: on its next node it starts afresh. What
// those reports said happened (each run's start, its end, its health check)
// is kept as Events about the pod in the same commit, so the container's
// log (objects/container-log.ts) still tells it after the move.
import { MAX_COMMIT_OPERATIONS } from '../api/commit.ts';
import type { CommitOp } from '../api/registry.ts';
import { errorCode, type KcsClient } from './interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { KubeObject, Pod } from '../objects/types.ts';
import { isFinished } from '../objects/conditions.ts';
import { containerFieldPath, reportedHappenings } from '../objects/container-log.ts';
import { buildEvent } from './events.ts';
import { unbound } from '../objects/unbinding.ts';

// Where every unbinder finds them (the binder, the tests): the rule itself is in objects/.
export { MOVED_BECAUSE, MOVED_FROM } from '../objects/unbinding.ts';

const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;

/** Most unbindings in one transaction. */
const BATCH = 1024;
/** Most writes in one commit, with the Events: within what the commits API takes. */
const OPS_PER_COMMIT = Math.min(4096, MAX_COMMIT_OPERATIONS);

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
  for (const batch of batches(candidates, because, event, annotations)) {
    try {
      await client.commit(batch.ops);
      done.push(...batch.pods);
      continue;
    } catch {
      // Something in the batch changed meanwhile, or one write was refused:
      // one pod per commit then, so each stands alone.
    }
    for (const pod of batch.pods) if (await unbindAlone(client, pod, because, event, annotations)) done.push(pod);
  }
  return done;
}

/** The pods in commits of at most BATCH pods and OPS_PER_COMMIT writes (a pod takes one, plus one per Event). */
function* batches(pods: Pod[], because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>): Iterable<{ pods: Pod[]; ops: CommitOp[] }> {
  let batch: { pods: Pod[]; ops: CommitOp[] } = { pods: [], ops: [] };
  for (const pod of pods) {
    const ops = unbindOps([pod], because, event, annotations);
    if (batch.pods.length && (batch.pods.length >= BATCH || batch.ops.length + ops.length > OPS_PER_COMMIT)) {
      yield batch;
      batch = { pods: [], ops: [] };
    }
    batch.pods.push(pod);
    batch.ops.push(...ops);
  }
  if (batch.pods.length) yield batch;
}

/** Sends one pod back to Pending; false if it changed or went away since it was read. */
export async function unbindPod(client: KcsClient, pod: Pod, because: string): Promise<boolean> {
  return (await unbindPods(client, [pod], because)).length === 1;
}

/**
 * What the pod's node reported about its containers, as Events with the
 * times it happened, from the node's agent (as the kubelet reports them).
 */
function reportedEvents(pod: Pod): KubeObject[] {
  const node = pod.spec.nodeName!;
  return pod.spec.containers.flatMap((c) => reportedHappenings(pod, c.name).map((h) => buildEvent(
    { apiVersion: pod.apiVersion, kind: pod.kind, name: pod.metadata.name!, namespace: pod.metadata.namespace, uid: pod.metadata.uid, fieldPath: containerFieldPath(c.name) },
    h.type, h.reason, h.message, { at: new Date(h.at), component: 'kcs-agent', host: node },
  )));
}

/** The unbinding of each pod, each followed by its events (with events, the caller's and what its node reported). */
function unbindOps(pods: Pod[], because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>, withEvents = true): CommitOp[] {
  const ops: CommitOp[] = [];
  for (const pod of pods) {
    ops.push({ verb: 'update', kind: POD, subresource: 'unbinding', object: unbound(pod, because, annotations), transfer: true });
    if (!withEvents) continue;
    const e = event?.(pod);
    if (e) ops.push({ verb: 'create', kind: EVENT, object: e, transfer: true });
    for (const reported of reportedEvents(pod)) ops.push({ verb: 'create', kind: EVENT, object: reported, transfer: true });
  }
  return ops;
}

/** One pod's unbinding; without its events if only the events were refused (events never fail the work). False if the pod changed or went away. */
async function unbindAlone(client: KcsClient, pod: Pod, because: string, event?: (pod: Pod) => KubeObject | undefined, annotations?: Record<string, string>): Promise<boolean> {
  const withEvents = unbindOps([pod], because, event, annotations);
  if (withEvents.length > 1) {
    try {
      await client.commit(withEvents);
      return true;
    } catch {
      // Tried again below without the events, which says what the trouble was.
    }
  }
  try {
    await client.commit(unbindOps([pod], because, undefined, annotations, false));
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 409 || code === 404) return false;
    throw err;
  }
}
