// metadata.finalizers on every kind, as Kubernetes' registry keeps them: a
// delete of an object with finalizers marks it (deletionTimestamp, once) and
// keeps it; the write that removes the last finalizer deletes it; while it is
// being deleted it takes no new finalizer and its spec stays. The delete's
// propagationPolicy adds the garbage collector's finalizer. No controller runs
// here: what stays, stays until a test removes its finalizers.
import test, { type ExecutionContext } from 'ava';
import { FakeClock, rfc3339 } from '../../src/util/clock.ts';
import { createAll, namespace, NAMESPACES, node, nodePath, NODES, pod, podPath, PODS, watch, withApp, withAppOptions, type TestApi } from './helpers.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
const lease = (name: string, extra: Record<string, any> = {}) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, ...extra.metadata }, spec: { holderIdentity: 'me' } });

/** A pod, a node and a lease (three kinds, namespaced and not), each holding `finalizers`. */
const KINDS = [
  { kind: 'Pod', collection: PODS, make: pod, path: (name: string) => podPath(name) },
  { kind: 'Node', collection: NODES, make: node, path: nodePath },
  { kind: 'Lease', collection: LEASES, make: lease, path: (name: string) => `${LEASES}/${name}` },
];

/** A fixture whose API runs on a clock of its own, which the test reads from api.registry.clock. */
const withClock = () => withAppOptions({ clock: new FakeClock('2026-03-01T12:00:00Z') });
const clockOf = (api: TestApi) => api.registry.clock as FakeClock;

/** Sets metadata.finalizers with a merge patch (null removes them all). */
const setFinalizers = (api: TestApi, path: string, finalizers: string[] | null) => api.patch(path, { metadata: { finalizers } });

async function held(t: ExecutionContext, api: TestApi, collection: string, obj: any): Promise<any> {
  const [created] = await createAll(t, api, [[collection, obj]]);
  return created;
}

for (const k of KINDS) {
  test(`a delete of a ${k.kind} with finalizers marks it deleted and keeps it; removing the last finalizer deletes it, with a DELETED event`, withClock(), async (t, api) => {
    const clock = clockOf(api);
    const created = await held(t, api, k.collection, k.make('held', { metadata: { finalizers: ['example.com/a', 'example.com/b'] } }));
    const w = watch(t, api, `${k.collection}?watch=1&resourceVersion=${created.metadata.resourceVersion}`);

    const deleted = await api.delete(k.path('held'));
    t.is(deleted.status, 200, deleted.text);
    t.is(deleted.body.metadata.deletionTimestamp, rfc3339(clock.now()));
    t.deepEqual(deleted.body.metadata.finalizers, ['example.com/a', 'example.com/b']);
    const kept = await api.get(k.path('held'));
    t.is(kept.status, 200, 'still there');
    t.is(kept.body.metadata.deletionTimestamp, deleted.body.metadata.deletionTimestamp);
    t.is(kept.body.metadata.resourceVersion, deleted.body.metadata.resourceVersion);

    t.is((await setFinalizers(api, k.path('held'), ['example.com/b'])).status, 200);
    t.is((await api.get(k.path('held'))).status, 200, 'one finalizer left: still there');
    const last = await setFinalizers(api, k.path('held'), null);
    t.is(last.status, 200, last.text);
    t.is((await api.get(k.path('held'))).status, 404, 'no finalizer left: gone');

    const events = await w.waitFor(3);
    t.deepEqual(events.map((e) => e.type), ['MODIFIED', 'MODIFIED', 'DELETED']);
  });
}

test('a second delete of an object being deleted changes nothing, not even its deletionTimestamp', withClock(), async (t, api) => {
  const clock = clockOf(api);
  await held(t, api, PODS, pod('held', { metadata: { finalizers: ['example.com/a'] } }));
  const first = await api.delete(podPath('held'));
  const revision = await api.store.currentRevision();
  clock.advance(60_000);
  const second = await api.delete(podPath('held'));
  t.is(second.status, 200, second.text);
  t.deepEqual(second.body, first.body);
  const orphaning = await api.delete(`${podPath('held')}?propagationPolicy=Orphan`);
  t.deepEqual(orphaning.body.metadata.finalizers, ['example.com/a'], 'nor its finalizers, whatever the policy');
  t.is(await api.store.currentRevision(), revision, 'nothing written');
});

test('dry-run deletes answer what would be and store nothing, with finalizers, a policy, or on an object being deleted', withClock(), async (t, api) => {
  const clock = clockOf(api);
  await held(t, api, PODS, pod('held', { metadata: { finalizers: ['example.com/a'] } }));
  await held(t, api, PODS, pod('free'));
  const revision = await api.store.currentRevision();

  const marked = await api.delete(`${podPath('held')}?dryRun=All`);
  t.is(marked.body.metadata.deletionTimestamp, rfc3339(clock.now()), 'the answer shows the mark');
  const orphaned = await api.request('DELETE', podPath('free'), { body: { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'], propagationPolicy: 'Orphan' } });
  t.deepEqual(orphaned.body.metadata.finalizers, ['orphan']);
  t.is((await api.delete(`${podPath('free')}?dryRun=All`)).status, 200);
  t.is(await api.store.currentRevision(), revision, 'nothing written');
  t.is((await api.get(podPath('held'))).body.metadata.deletionTimestamp, undefined);
  t.is((await api.get(podPath('free'))).status, 200);

  await api.delete(podPath('held'));
  const afterMark = await api.store.currentRevision();
  t.is((await setFinalizers(api, `${podPath('held')}?dryRun=All`, null)).status, 200);
  t.is((await api.get(podPath('held'))).status, 200, 'a dry-run removal of the last finalizer deletes nothing');
  t.is(await api.store.currentRevision(), afterMark);
});

test('an object being deleted takes no new finalizer and keeps its spec; its other metadata may change', withApp, async (t, api) => {
  await held(t, api, NODES, node('held', { metadata: { finalizers: ['example.com/a'] } }));
  await api.delete(nodePath('held'));
  const revision = await api.store.currentRevision();

  const added = await setFinalizers(api, nodePath('held'), ['example.com/a', 'example.com/b']);
  t.is(added.status, 422, added.text);
  t.like(added.body, { reason: 'Invalid', details: { causes: [{ field: 'metadata.finalizers', reason: 'FieldValueForbidden' }] } });
  t.regex(added.body.message, /no new finalizers can be added if the object is being deleted, found new finalizers \["example.com\/b"\]/);
  const spec = await api.patch(nodePath('held'), { spec: { unschedulable: true } });
  t.is(spec.status, 422, spec.text);
  t.like(spec.body, { reason: 'Invalid', details: { causes: [{ field: 'spec', reason: 'FieldValueForbidden' }] } });
  const cleared = await api.patch(nodePath('held'), { metadata: { deletionTimestamp: null } });
  t.is(cleared.status, 200, cleared.text);
  t.truthy(cleared.body.metadata.deletionTimestamp, 'the mark cannot be taken back');
  t.is(await api.store.currentRevision(), revision, 'nothing written');

  const labelled = await api.patch(nodePath('held'), { metadata: { labels: { a: 'b' } } });
  t.is(labelled.status, 200, labelled.text);
  t.deepEqual(labelled.body.metadata.labels, { a: 'b' });
});

test("propagationPolicy Orphan and Foreground hold the object with the collector's finalizer; Background, the default, deletes it at once", withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('orphan')], [PODS, pod('foreground')], [PODS, pod('background')], [PODS, pod('plain')]]);
  const orphan = await api.delete(`${podPath('orphan')}?propagationPolicy=Orphan`);
  t.deepEqual(orphan.body.metadata.finalizers, ['orphan']);
  const foreground = await api.request('DELETE', podPath('foreground'), { body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' } });
  t.deepEqual(foreground.body.metadata.finalizers, ['foregroundDeletion']);
  t.truthy((await api.get(podPath('foreground'))).body.metadata.deletionTimestamp);
  t.is((await api.delete(`${podPath('background')}?propagationPolicy=Background`)).status, 200);
  t.is((await api.delete(podPath('plain'))).status, 200);
  t.deepEqual((await api.get(PODS)).body.items.map((p: any) => p.metadata.name), ['foreground', 'orphan']);
});

test("a policy replaces the collector's finalizer an object carried; without one, the finalizer it carried decides", withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('kept', { metadata: { finalizers: ['orphan'] } })], [PODS, pod('replaced', { metadata: { finalizers: ['orphan'] } })], [PODS, pod('dropped', { metadata: { finalizers: ['orphan', 'example.com/a'] } })]]);
  t.deepEqual((await api.delete(podPath('kept'))).body.metadata.finalizers, ['orphan']);
  t.deepEqual((await api.delete(`${podPath('replaced')}?propagationPolicy=Foreground`)).body.metadata.finalizers, ['foregroundDeletion']);
  t.deepEqual((await api.delete(`${podPath('dropped')}?orphanDependents=false`)).body.metadata.finalizers, ['example.com/a']);
  const both = await api.post(PODS, pod('both', { metadata: { finalizers: ['orphan', 'foregroundDeletion'] } }));
  t.is(both.status, 422, both.text);
  t.regex(both.body.message, /metadata\.finalizers: .*finalizer orphan and foregroundDeletion cannot be both set/);
});

test('a Namespace with a finalizer of its own in metadata goes only once that and its spec finalizer are gone', withApp, async (t, api) => {
  await createAll(t, api, [[NAMESPACES, namespace('team', { metadata: { finalizers: ['example.com/a'] } })]]);
  const deleted = await api.delete(`${NAMESPACES}/team`);
  t.like(deleted.body, { status: { phase: 'Terminating' }, metadata: { finalizers: ['example.com/a'] } });
  const finalized = await api.put(`${NAMESPACES}/team/finalize`, { ...deleted.body, spec: { finalizers: [] } });
  t.is(finalized.status, 200, finalized.text);
  t.is((await api.get(`${NAMESPACES}/team`)).status, 200, 'the metadata finalizer still holds it');
  t.is((await setFinalizers(api, `${NAMESPACES}/team`, null)).status, 200);
  t.is((await api.get(`${NAMESPACES}/team`)).status, 404);
});
