// The garbage collector on an in-process control plane, acting as the
// controllers' identity: dependents go when their owners do (Background),
// are kept and released (Orphan), or go first while the owner waits
// (Foreground); an owner made again under the same name is another object;
// a dependent with an owner left stays. The owners are NodePools (cluster-
// scoped) and Pods; the dependents Pods and Nodes. Its runner's timers are
// on a fake clock that never moves: everything here happens on watch events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { CONTROLLERS_USER } from '../../src/api/controller-auth.ts';
import { Registry } from '../../src/api/registry.ts';
import type { DeleteQuery, KcsClient } from '../../src/client/interface.ts';
import { LocalClient } from '../../src/client/local.ts';
import { startGarbageCollector, type RunningGarbageCollector } from '../../src/controllers/manager.ts';
import { kindByName, type KindInfo } from '../../src/objects/kinds.ts';
import type { KubeObject, OwnerReference } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

const POOL = kindByName('NodePool')!;
const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

interface Cluster {
  admin: KcsClient;
  controllers: KcsClient;
  gc: RunningGarbageCollector;
}

async function open(t: ExecutionContext, collectorClient?: (controllers: KcsClient) => KcsClient): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-gc-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const registry = new Registry(store);
  await registry.ready();
  const controllers = new LocalClient(registry, { user: CONTROLLERS_USER });
  const gc = await startGarbageCollector({ client: collectorClient ? collectorClient(controllers) : controllers, clock: new FakeClock() });
  t.teardown(async () => {
    await gc.stop();
    registry.cache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { admin: new LocalClient(registry, { user: ADMIN_USER }), controllers, gc };
}

const poolManifest = (name: string) => ({ apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name }, spec: { maxNodes: 3, template: { spec: { capacity: { cpu: '2' } } } } });

async function createPool(admin: KcsClient, name: string): Promise<KubeObject> {
  return (await admin.create(POOL, undefined, poolManifest(name))).body;
}

function ownerRef(owner: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, ...extra };
}

async function createPod(admin: KcsClient, name: string, owners: OwnerReference[], finalizers?: string[]): Promise<KubeObject> {
  const metadata = { name, ownerReferences: owners, ...(finalizers ? { finalizers } : {}) };
  return (await admin.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'c' }] } })).body;
}

async function find(client: KcsClient, kind: KindInfo, name: string, namespace = kind.namespaced ? 'default' : undefined): Promise<KubeObject | undefined> {
  try {
    return await client.get(kind, namespace, name);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

const gone = (client: KcsClient, kind: KindInfo, name: string) => eventually(`${kind.singular} ${name} to be gone`, async () => !(await find(client, kind, name)));

test('Background: once its owner is deleted, a dependent is deleted, and its own dependents after it; other objects stay', async (t) => {
  const { admin } = await open(t);
  const pool = await createPool(admin, 'web');
  const keeper = await createPool(admin, 'keeper');
  const child = await createPod(admin, 'child', [ownerRef(pool)]);
  await createPod(admin, 'grandchild', [ownerRef(child)]);
  await createPod(admin, 'kept', [ownerRef(keeper)]);
  await createPod(admin, 'unowned', []);
  const node = (await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'web-1', ownerReferences: [ownerRef(pool, { controller: true })] }, spec: { capacity: { cpu: '2' } } })).body;

  await admin.delete(POOL, undefined, 'web');
  t.is(await find(admin, POOL, 'web'), undefined, 'Background: the owner goes at once');
  await gone(admin, POD, 'child');
  await gone(admin, NODE, node.metadata.name!);
  await gone(admin, POD, 'grandchild');
  t.truthy(await find(admin, POD, 'kept'));
  t.truthy(await find(admin, POD, 'unowned'));
  t.truthy(await find(admin, POOL, 'keeper'));
});

test('Orphan: the owner waits with the orphan finalizer until its dependents no longer name it, then goes; they stay', async (t) => {
  const { admin } = await open(t);
  const pool = await createPool(admin, 'web');
  const other = await createPool(admin, 'other');
  await createPod(admin, 'alone', [ownerRef(pool, { controller: true, blockOwnerDeletion: true })]);
  await createPod(admin, 'shared', [ownerRef(pool), ownerRef(other)]);

  const deleting = await admin.delete(POOL, undefined, 'web', { propagationPolicy: 'Orphan' });
  t.deepEqual(deleting.metadata.finalizers, ['orphan']);
  t.truthy(deleting.metadata.deletionTimestamp);
  await gone(admin, POOL, 'web');
  t.is((await find(admin, POD, 'alone'))!.metadata.ownerReferences, undefined, 'its only reference removed');
  t.deepEqual((await find(admin, POD, 'shared'))!.metadata.ownerReferences, [ownerRef(other)], 'the other owner kept');
});

test('Foreground: the owner stays Terminating until every blocking dependent is gone, the others are deleted too, then it goes', async (t) => {
  const { admin, gc } = await open(t);
  const pool = await createPool(admin, 'web');
  // A finalizer of its own holds the blocking dependent, so the owner's wait can be seen.
  await createPod(admin, 'blocking', [ownerRef(pool, { blockOwnerDeletion: true })], ['example.com/hold']);
  await createPod(admin, 'free', [ownerRef(pool)]);

  const deleting = await admin.delete(POOL, undefined, 'web', { propagationPolicy: 'Foreground' });
  t.deepEqual(deleting.metadata.finalizers, ['foregroundDeletion']);
  await gone(admin, POD, 'free');
  await eventually('the blocking dependent to be deleted (held by its finalizer)', async () => (await find(admin, POD, 'blocking'))?.metadata.deletionTimestamp);
  await eventually('the collector to see only the blocking dependent left', () => gc.collector.dependentsOf(pool.metadata.uid!).join() === 'Pod default/blocking');
  await gc.collector.reconcile('NodePool web');
  const waiting = await find(admin, POOL, 'web');
  t.truthy(waiting?.metadata.deletionTimestamp, 'the owner is still there, being deleted');
  t.deepEqual(waiting?.metadata.finalizers, ['foregroundDeletion']);

  await admin.patch(POD, 'default', 'blocking', { metadata: { finalizers: null } });
  await gone(admin, POD, 'blocking');
  await gone(admin, POOL, 'web');
});

test('an owner made again under the same name is another object: dependents of the old one are deleted', async (t) => {
  const { admin } = await open(t);
  const old = await createPool(admin, 'web');
  await admin.delete(POOL, undefined, 'web');
  const current = await createPool(admin, 'web');
  t.not(current.metadata.uid, old.metadata.uid);
  await createPod(admin, 'stale', [ownerRef(old)]);
  await createPod(admin, 'fresh', [ownerRef(current)]);
  await gone(admin, POD, 'stale');
  t.truthy(await find(admin, POD, 'fresh'));
  t.truthy(await find(admin, POOL, 'web'));
});

test('a dependent with two owners stays while one remains, losing the reference to the one gone, and goes with the last', async (t) => {
  const { admin } = await open(t);
  const a = await createPool(admin, 'a');
  const b = await createPool(admin, 'b');
  await createPod(admin, 'both', [ownerRef(a), ownerRef(b)]);
  await admin.delete(POOL, undefined, 'a');
  await eventually('the reference to a to be removed', async () => (await find(admin, POD, 'both'))?.metadata.ownerReferences?.length === 1);
  t.deepEqual((await find(admin, POD, 'both'))!.metadata.ownerReferences, [ownerRef(b)]);
  await admin.delete(POOL, undefined, 'b');
  await gone(admin, POD, 'both');
});

test("the collector deletes with the dependent's uid as a precondition and propagationPolicy Background", async (t) => {
  const deletes: Array<{ name: string; q?: DeleteQuery }> = [];
  const { admin } = await open(t, (controllers) => Object.assign(Object.create(controllers) as KcsClient, {
    delete: (kind: KindInfo, ns: string | undefined, name: string, q?: DeleteQuery) => {
      deletes.push({ name, q });
      return controllers.delete(kind, ns, name, q);
    },
  }));
  const pool = await createPool(admin, 'web');
  const child = await createPod(admin, 'child', [ownerRef(pool)]);
  await admin.delete(POOL, undefined, 'web');
  await gone(admin, POD, 'child');
  t.deepEqual(deletes, [{ name: 'child', q: { preconditions: { uid: child.metadata.uid }, propagationPolicy: 'Background' } }]);
});

test('an object under an owner kcs cannot resolve is never collected; a namespaced owner of a cluster-scoped object neither', async (t) => {
  const { admin, gc } = await open(t);
  await createPod(admin, 'foreign', [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'not-here' }]);
  const pod = await createPod(admin, 'owner', []);
  await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', ownerReferences: [{ ...ownerRef(pod), uid: 'another-uid' }] }, spec: { capacity: { cpu: '1' } } });
  await gc.collector.reconcile('Pod default/foreign');
  await gc.collector.reconcile('Node n1');
  t.truthy(await find(admin, POD, 'foreign'));
  t.truthy(await find(admin, NODE, 'n1'));
});

test('propagationPolicy is checked through the API: an unknown value is 422 naming it, and nothing is deleted', async (t) => {
  const { admin } = await open(t);
  await createPool(admin, 'web');
  const err = await t.throwsAsync(admin.delete(POOL, undefined, 'web', { propagationPolicy: 'Sideways' as never }));
  t.like(err, { code: 422, reason: 'Invalid', details: { kind: 'DeleteOptions', causes: [{ field: 'propagationPolicy', reason: 'FieldValueNotSupported' }] } });
  t.regex(err!.message, /propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"/);
  t.truthy(await find(admin, POOL, 'web'));
});

test("the controllers' identity may delete and release only objects in the collector's care, and change nothing else in them", async (t) => {
  const { admin, controllers } = await open(t);
  const pool = await createPool(admin, 'web');
  await createPod(admin, 'owned', [ownerRef(pool)]);
  await createPod(admin, 'unowned', []);
  await t.throwsAsync(controllers.delete(POD, 'default', 'unowned'), { message: /cannot delete resource "pods"/ });
  await t.throwsAsync(controllers.patch(POD, 'default', 'unowned', { metadata: { labels: { a: 'b' } } }), { message: /cannot update resource "pods"/ });
  await t.throwsAsync(controllers.patch(POD, 'default', 'owned', { metadata: { labels: { a: 'b' } } }), { message: /cannot update resource "pods"/ });
  await t.throwsAsync(controllers.patch(POD, 'default', 'owned', { metadata: { finalizers: ['example.com/x'] } }), { message: /cannot update resource "pods"/ });
  await t.throwsAsync(controllers.patch(POOL, undefined, 'web', { spec: { maxNodes: 5 } }), { message: /cannot update resource "nodepools"/ });
  const released = await controllers.patch(POD, 'default', 'owned', { metadata: { ownerReferences: null } });
  t.is(released.body.metadata.ownerReferences, undefined);
  t.truthy(await find(admin, POD, 'unowned'));
});
