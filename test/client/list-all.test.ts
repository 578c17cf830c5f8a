import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { Registry } from '../../src/api/registry.ts';
import type { KcsClient, ListQuery } from '../../src/client/interface.ts';
import { listAll } from '../../src/client/list-all.ts';
import { LocalClient } from '../../src/client/local.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';

const NODE = kindByName('Node')!;

/** A client over count nodes that records each list query; afterPage runs after every page is read. */
async function withNodes(t: ExecutionContext, count: number, snapshotTtlMs?: number, afterPage: (clock: FakeClock, client: KcsClient) => Promise<void> | void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-list-all-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const clock = new FakeClock();
  const registry = new Registry(store, clock, { snapshotTtlMs });
  t.teardown(async () => { registry.cache.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(registry, { user: ADMIN_USER });
  for (let i = 0; i < count; i++) await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: `n${String(i).padStart(2, '0')}` }, spec: { capacity: { cpu: '1' } } });
  const pages: ListQuery[] = [];
  const counting: KcsClient = Object.assign(Object.create(client) as KcsClient, {
    list: async (kind: never, ns: never, q: ListQuery = {}) => {
      pages.push(q);
      const page = await client.list(kind, ns, q);
      await afterPage(clock, client);
      return page;
    },
  });
  return { client: counting, pages, clock };
}

test('listAll reads a list in pages of the chunk size and returns every object once, in order', async (t) => {
  const { client, pages } = await withNodes(t, 12);
  const list = await listAll(client, NODE, undefined, {}, 5);
  t.deepEqual(list.items.map((n) => n.metadata.name), Array.from({ length: 12 }, (_, i) => `n${String(i).padStart(2, '0')}`));
  t.is(pages.length, 3);
  t.true(pages.every((q) => q.limit === 5));
  t.is(list.metadata.continue, undefined);
});

test('listAll reads the list whole when a continue token has expired, as kubectl does', async (t) => {
  let first = true;
  // Between the pages a node is added, and the snapshot behind the first page's token expires.
  const { client, pages } = await withNodes(t, 6, 1000, async (clock, raw) => {
    if (!first) return;
    first = false;
    await raw.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'late' }, spec: { capacity: { cpu: '1' } } });
    clock.advance(1001);
  });
  const list = await listAll(client, NODE, undefined, {}, 4);
  t.is(list.items.length, 7, 'the whole list, read again, has the node added meanwhile');
  t.is(pages.at(-1)!.limit, undefined, 'the last list is whole');
});
