// A whole list, read in pages as kubectl reads them (limit=500, then each
// continue token): the server never builds one response of every object,
// and every page is read at the first page's revision.
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList } from '../objects/types.ts';
import { errorCode, type KcsClient, type Selectors } from './interface.ts';

/** kubectl's default --chunk-size. */
export const DEFAULT_CHUNK_SIZE = 500;

export async function listAll<T extends KubeObject = KubeObject>(
  client: KcsClient, kind: KindInfo, namespace: string | undefined, selectors: Selectors = {}, chunkSize = DEFAULT_CHUNK_SIZE,
): Promise<ObjectList<T>> {
  if (chunkSize <= 0) return client.list<T>(kind, namespace, selectors);
  const first = await client.list<T>(kind, namespace, { ...selectors, limit: chunkSize });
  const items = [...first.items];
  let token = first.metadata.continue;
  while (token) {
    let page: ObjectList<T>;
    try {
      page = await client.list<T>(kind, namespace, { ...selectors, limit: chunkSize, continue: token });
    } catch (err) {
      // The snapshot behind the token expired (a very long list): read it whole instead, as kubectl does.
      if (errorCode(err) === 410) return client.list<T>(kind, namespace, selectors);
      throw err;
    }
    items.push(...page.items);
    token = page.metadata.continue;
  }
  return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion }, items };
}
