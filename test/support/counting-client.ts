// A client that records every write it passes on, so a test can say "a
// second reconcile of a converged object makes zero writes".
import type { KcsClient } from '../../src/client/interface.ts';

export function countingClient<C extends KcsClient>(client: C): { client: C; writes: string[] } {
  const writes: string[] = [];
  const counting = Object.assign(Object.create(client) as KcsClient, {
    create: (...a: Parameters<KcsClient['create']>) => { writes.push(`create ${a[0].plural}`); return client.create(...a); },
    update: (...a: Parameters<KcsClient['update']>) => { writes.push(`update ${a[0].plural}/${a[2]}`); return client.update(...a); },
    patch: (...a: Parameters<KcsClient['patch']>) => { writes.push(`patch ${a[0].plural}/${a[2]}`); return client.patch(...a); },
    delete: (...a: Parameters<KcsClient['delete']>) => { writes.push(`delete ${a[0].plural}/${a[2]}`); return client.delete(...a); },
    commit: (...a: Parameters<KcsClient['commit']>) => { writes.push(`commit ${a[0].length}`); return client.commit(...a); },
  } satisfies Partial<KcsClient>);
  return { client: counting as C, writes };
}
