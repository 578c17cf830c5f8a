// The index behind the node status fence: after each write returns, the
// pods bound to each node are exactly what the store holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Pod } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const POD = kindByName('Pod')!;

test('pods by node follows binds, moves, unbinds and deletes as each write returns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-podsbynode-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const registry = new Registry(store);
  t.teardown(async () => { registry.podsByNode.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(registry, { user: ADMIN_USER });
  const make = async (name: string, nodeName?: string) => (await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c' }] } })).body.metadata.uid!;
  const a = await make('a', 'n1'); // before the index starts: found by its first list
  const on = async (node: string) => [...(await registry.podsByNode.boundTo(node))].sort();
  t.deepEqual(await on('n1'), [a]);
  const b = await make('b', 'n1');
  const c = await make('c');
  t.deepEqual(await on('n1'), [a, b].sort());
  t.deepEqual(await on('n2'), []);
  await client.patch(POD, 'default', 'c', { spec: { nodeName: 'n2' } });
  await client.patch(POD, 'default', 'b', { spec: { nodeName: 'n2' } });
  t.deepEqual(await on('n1'), [a]);
  t.deepEqual(await on('n2'), [b, c].sort());
  await client.patch(POD, 'default', 'a', { spec: { nodeName: null } });
  await client.delete(POD, 'default', 'c');
  t.deepEqual(await on('n1'), []);
  t.deepEqual(await on('n2'), [b]);
});
