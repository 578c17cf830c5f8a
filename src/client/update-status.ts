// Read, change, write back an object's status with compare-and-swap,
// retrying on a conflict: several writers (agent, controllers) share a
// Node's status.
import { isConflict, type KcsClient } from './interface.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';

/** mutate returns undefined when nothing needs writing. */
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
