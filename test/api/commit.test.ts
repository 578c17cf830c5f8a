// Registry.commit: several writes in one transaction, all or nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { nodeUser } from '../../src/api/node-auth.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const POD = kindByName('Pod')!;
const NODE = kindByName('Node')!;
const EVENT = kindByName('Event')!;

async function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-commit-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const registry = new Registry(store);
  const client = new LocalClient(registry, { user: ADMIN_USER });
  const node = (await client.create<Node>(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '4' } } })).body;
  const pod = (name: string) => client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c' }] } }).then((r) => r.body);
  return { store, registry, client, node, pod };
}

const event = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'a' }, reason: 'Scheduled', message: 'm', type: 'Normal' } as KubeObject);

test('commit binds pods, writes node status and creates events in one transaction', async (t) => {
  const { registry, client, node, pod } = await setup(t);
  const a = await pod('a');
  const b = await pod('b');
  const bind = (p: Pod): KubeObject => ({ ...p, spec: { ...p.spec, nodeName: 'n1', containers: [{ name: 'other' }] }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } });
  const out = await registry.commit([
    { verb: 'update', kind: NODE, subresource: 'status', object: { ...node, spec: { capacity: { cpu: '99' } }, status: { reservations: [{ uid: a.metadata.uid!, pod: 'default/a', milliCpu: 0, memory: 0, at: 1 }] } } },
    { verb: 'update', kind: POD, subresource: 'binding', object: bind(a) },
    { verb: 'update', kind: POD, subresource: 'binding', object: bind(b) },
    { verb: 'create', kind: EVENT, object: event('a.1') },
  ]);
  t.is(out.length, 4);
  const revs = out.map((o) => Number(o.metadata.resourceVersion));
  t.deepEqual(revs, [revs[0]!, revs[0]! + 1, revs[0]! + 2, revs[0]! + 3], 'consecutive revisions');
  const n = await client.get<Node>(NODE, undefined, 'n1');
  t.deepEqual(n.status?.reservations, [{ uid: a.metadata.uid!, pod: 'default/a', milliCpu: 0, memory: 0, at: 1 }]);
  t.is(n.spec.capacity.cpu, '4', 'a status write leaves spec alone');
  for (const name of ['a', 'b']) {
    const p = await client.get<Pod>(POD, 'default', name);
    t.is(p.spec.nodeName, 'n1');
    t.is(p.spec.containers[0]!.name, 'c', 'a binding takes only spec.nodeName from the request');
    t.is(p.status?.conditions?.[0]?.type, 'PodScheduled');
  }
  t.is((await client.get(EVENT, 'default', 'a.1')).metadata.name, 'a.1');
});

test('one stale object fails the whole commit with 409 and writes nothing', async (t) => {
  const { store, registry, client, node, pod } = await setup(t);
  const a = await pod('a');
  const b = await pod('b');
  await client.patch(POD, 'default', 'b', { metadata: { labels: { x: 'y' } } }); // b moves on
  const rev = await store.currentRevision();
  const err = await t.throwsAsync(registry.commit([
    { verb: 'update', kind: NODE, subresource: 'status', object: { ...node, status: { reservations: [] } } },
    { verb: 'update', kind: POD, subresource: 'binding', object: { ...a, spec: { ...a.spec, nodeName: 'n1' } } },
    { verb: 'update', kind: POD, subresource: 'binding', object: { ...b, spec: { ...b.spec, nodeName: 'n1' } } },
    { verb: 'create', kind: EVENT, object: event('e.1') },
  ]));
  t.is((err as { code?: number }).code, 409);
  t.regex(err!.message, /pods "b"/);
  t.is(await store.currentRevision(), rev, 'nothing written');
  t.is((await client.get<Pod>(POD, 'default', 'a')).spec.nodeName, undefined);
});

test('a binding of a pod already bound is refused, naming the node it is on', async (t) => {
  const { registry, client, pod } = await setup(t);
  await pod('a');
  const bound = (await client.patch<Pod>(POD, 'default', 'a', { spec: { nodeName: 'n1' } })).body;
  const err = await t.throwsAsync(registry.commit([{ verb: 'update', kind: POD, subresource: 'binding', object: { ...bound, spec: { ...bound.spec, nodeName: 'n2' } } }]));
  t.is((err as { code?: number }).code, 409);
  t.regex(err!.message, /already assigned to node n1/);
});

test('an invalid object or an update without a resourceVersion fails the commit with a 4xx', async (t) => {
  const { registry, store, pod } = await setup(t);
  const a = await pod('a');
  const rev = await store.currentRevision();
  const { resourceVersion: _rv, ...meta } = a.metadata;
  const noVersion = await t.throwsAsync(registry.commit([{ verb: 'update', kind: POD, subresource: 'binding', object: { ...a, metadata: meta } }]));
  t.is((noVersion as { code?: number }).code, 400);
  const invalid = await t.throwsAsync(registry.commit([
    { verb: 'update', kind: POD, subresource: 'binding', object: { ...a, spec: { ...a.spec, nodeName: 'n1' } } },
    { verb: 'create', kind: EVENT, object: { ...event('bad'), count: 'many' } as KubeObject },
  ]));
  t.is((invalid as { code?: number }).code, 422);
  const noNode = await t.throwsAsync(registry.commit([{ verb: 'update', kind: POD, subresource: 'binding', object: a }]));
  t.is((noNode as { code?: number }).code, 422, 'a binding must name its node, in-process as over HTTP');
  t.regex(noNode!.message, /spec\.nodeName/);
  t.is(await store.currentRevision(), rev);
});

test('a node may commit only what it could write alone: its own status, but no binding (403, nothing written)', async (t) => {
  const { store, registry, node, pod } = await setup(t);
  const a = await pod('a');
  const asNode = new LocalClient(registry, { user: nodeUser('n1') });
  const rev = await store.currentRevision();
  const denied = await t.throwsAsync(asNode.commit([
    { verb: 'update', kind: NODE, subresource: 'status', object: { ...node, status: { allocatable: { cpu: '4' } } } },
    { verb: 'update', kind: POD, subresource: 'binding', object: { ...a, spec: { ...a.spec, nodeName: 'n1' } } },
  ]));
  t.is((denied as { code?: number }).code, 403);
  t.regex(denied!.message, /pods\/binding/);
  t.is(await store.currentRevision(), rev, 'nothing written');
  const [written] = await asNode.commit([{ verb: 'update', kind: NODE, subresource: 'status', object: { ...node, status: { allocatable: { cpu: '4' } } } }]);
  t.is(written!.metadata.name, 'n1');
  const other = await t.throwsAsync(new LocalClient(registry, { user: nodeUser('n2') }).commit([{ verb: 'update', kind: NODE, subresource: 'status', object: node }]));
  t.is((other as { code?: number }).code, 403, "another node's status is not n2's to write");
});
