import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { unbindPod } from '../../src/controllers/unbind.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Pod } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const POD = kindByName('Pod')!;

test('unbindPod sends a bound pod back to Pending, but not a finished one nor one changed since it was read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-unbind-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(new Registry(store));
  const make = async (name: string) => (await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } })).body;

  const bound = await make('bound');
  t.true(await unbindPod(client, bound));
  const after = await client.get<Pod>(POD, 'default', 'bound');
  t.is(after.spec.nodeName, undefined);
  t.is(after.status?.phase, 'Pending');

  await make('done');
  const done = (await client.patch<Pod>(POD, 'default', 'done', { status: { phase: 'Succeeded' } }, { subresource: 'status' })).body;
  t.false(await unbindPod(client, done));
  t.is((await client.get<Pod>(POD, 'default', 'done')).spec.nodeName, 'n1', 'a finished pod stays as it ended');

  const stale = await make('moved');
  await client.patch(POD, 'default', 'moved', { spec: { nodeName: 'n2' } });
  t.false(await unbindPod(client, stale));
  t.is((await client.get<Pod>(POD, 'default', 'moved')).spec.nodeName, 'n2', 'moved meanwhile: left alone');
});
