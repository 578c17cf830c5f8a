// Conditions on an object's status, set the way Kubernetes does: one entry
// per type, lastTransitionTime moving only when the status changes.
import { isConflict, type KcsClient } from '../client/interface.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { Condition, KubeObject } from '../objects/types.ts';
import { rfc3339 } from '../util/clock.ts';

export function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((c) => c.type === next.type);
  const merged: Condition = {
    ...prev,
    ...next,
    lastTransitionTime: prev && prev.status === next.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
  };
  return prev ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

/**
 * Read, change, write back the status with compare-and-swap, retrying on a
 * conflict: several writers (agent, controllers) share a Node's status.
 * mutate returns undefined when nothing needs writing.
 */
export async function updateStatus<T extends KubeObject>(
  client: KcsClient, kind: KindInfo, namespace: string | undefined, name: string,
  mutate: (current: T) => T['status'] | undefined,
): Promise<T | undefined> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await client.get<T>(kind, namespace, name);
    const status = mutate(structuredClone(current));
    if (status === undefined) return current;
    try {
      return (await client.update<T>(kind, namespace, name, { ...current, status }, { subresource: 'status' })).body;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(`status of ${kind.plural}/${name} kept changing under us`);
}
