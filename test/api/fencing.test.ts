// A node's write to a pod's status is checked against the version it
// replaces, not only at authorization time: a pod moved away meanwhile is
// not written by the node it left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { nodeWriteGuard, NODES_GROUP } from '../../src/api/node-auth.ts';
import { Registry } from '../../src/api/registry.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const POD = kindByName('Pod')!;

test('a node status write is refused when the pod it replaces is bound elsewhere', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-fence-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const registry = new Registry(store);
  await registry.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } });
  const n1 = { name: 'system:node:n1', groups: [NODES_GROUP] };
  const guard = nodeWriteGuard(n1, 'pods', 'p');
  // Allowed while bound to n1...
  await t.notThrowsAsync(registry.patch(POD, 'default', 'p', 'application/merge-patch+json', { status: { phase: 'Running' } }, { subresource: 'status', guard }));
  // ...then the pod moves to n2 (as the health controller will move it) and n1's write bounces.
  await registry.patch(POD, 'default', 'p', 'application/merge-patch+json', { spec: { nodeName: 'n2' } });
  const err = await t.throwsAsync(registry.patch(POD, 'default', 'p', 'application/merge-patch+json', { status: { phase: 'Failed' } }, { subresource: 'status', guard }));
  t.is((err as { code?: number }).code, 403);
  t.is((await registry.get(POD, 'default', 'p')).status?.phase, 'Running');
  t.is(nodeWriteGuard({ name: 'admin', groups: ['system:masters'] }, 'pods', 'p'), undefined, 'admins are not fenced');
});
