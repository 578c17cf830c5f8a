// Sends a pod back to Pending for the scheduler to place again: what the
// node controller does for a deleted Node, the health controller for a
// failed one, and `kcs drain` for a cordoned one. One place, one rule set.
import { errorCode, type KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Pod } from '../objects/types.ts';
import { isFinished } from '../scheduler/snapshot.ts';

const POD = kindByName('Pod')!;

/**
 * Unbinds the pod if it is still at the version read (a compare-and-swap:
 * a pod moved or edited meanwhile is left alone) and marks it Pending.
 * Finished pods stay as they ended: Pending would run them again.
 * Returns whether the pod was unbound.
 */
export async function unbindPod(client: KcsClient, pod: Pod): Promise<boolean> {
  if (isFinished(pod)) return false;
  const ns = pod.metadata.namespace;
  const name = pod.metadata.name!;
  try {
    await client.patch(POD, ns, name, { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName: null } });
    await client.patch(POD, ns, name, { status: { phase: 'Pending' } }, { subresource: 'status' });
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 409 || code === 404) return false;
    throw err;
  }
}
