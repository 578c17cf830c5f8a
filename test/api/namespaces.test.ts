// Namespaces as Kubernetes serves them: the system ones exist from the
// start; content needs a namespace that exists and is not being deleted; a
// deleted namespace is Terminating until it is empty; deletecollection.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMIT_KIND } from '../../src/api/commit.ts';
import { Registry } from '../../src/api/registry.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { eventually } from '../support/eventually.ts';
import { createAll, FRESH_REVISION, namespace, NAMESPACES, node, NODES, pod, podPath, PODS, withApp, withControlPlane } from './helpers.ts';

const nsPath = (name: string) => `${NAMESPACES}/${name}`;
const podsIn = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const event = (name: string, ns: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'R', message: 'm', type: 'Normal' });

test('default, kube-system, kube-public and kube-node-lease exist on a fresh store, Active, with the kubernetes finalizer', withApp, async (t, api) => {
  const list = await api.get(NAMESPACES);
  t.is(list.status, 200);
  t.like(list.body, { apiVersion: 'v1', kind: 'NamespaceList' });
  t.deepEqual(list.body.items.map((n: any) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  for (const ns of list.body.items) {
    t.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    t.deepEqual(ns.status, { phase: 'Active' });
    t.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': ns.metadata.name });
    t.truthy(ns.metadata.uid);
  }
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

test('a created namespace is Active with the kubernetes finalizer added to its own, and its name label', withApp, async (t, api) => {
  const r = await api.post(NAMESPACES, namespace('team', { spec: { finalizers: ['example.com/audit'] } }));
  t.is(r.status, 201, r.text);
  t.deepEqual(r.body.spec.finalizers, ['example.com/audit', 'kubernetes']);
  t.deepEqual(r.body.status, { phase: 'Active' });
  t.is(r.body.metadata.labels['kubernetes.io/metadata.name'], 'team');
  // The main resource may change neither the finalizers nor the status.
  const put = await api.put(nsPath('team'), { ...r.body, spec: { finalizers: [] }, status: { phase: 'Terminating' }, metadata: { ...r.body.metadata, labels: { a: 'b' } } });
  t.is(put.status, 200, put.text);
  t.deepEqual(put.body.spec.finalizers, ['example.com/audit', 'kubernetes']);
  t.deepEqual(put.body.status, { phase: 'Active' });
  t.deepEqual(put.body.metadata.labels, { a: 'b', 'kubernetes.io/metadata.name': 'team' });
  t.is((await api.get(podsIn('team'))).body.items.length, 0);
});

test('an object in a namespace that does not exist is refused with 404 NotFound naming the namespace, on every write path', withApp, async (t, api) => {
  const rev = await api.store.currentRevision();
  const created = await api.post(podsIn('nowhere'), pod('p'));
  t.is(created.status, 404, created.text);
  t.deepEqual(created.body, {
    apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'namespaces "nowhere" not found', reason: 'NotFound',
    details: { name: 'nowhere', kind: 'namespaces' }, code: 404,
  });
  t.is((await api.post(`${podsIn('nowhere')}?dryRun=All`, pod('p'))).status, 404, 'a dry run is admitted the same way');
  t.is((await api.post('/apis/coordination.k8s.io/v1/namespaces/nowhere/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } })).status, 404);
  const commit = await api.post(COMMIT_KIND.path, { apiVersion: COMMIT_KIND.apiVersion, kind: COMMIT_KIND.kind, operations: [{ verb: 'create', object: event('e1', 'default') }, { verb: 'create', object: event('e2', 'nowhere') }] });
  t.is(commit.status, 404, commit.text);
  t.is(commit.body.message, 'namespaces "nowhere" not found');
  t.is(await api.store.currentRevision(), rev, 'nothing written, the commit\'s other write included');
});

test('the system namespaces may not be deleted: 403 Forbidden as Kubernetes says it', withApp, async (t, api) => {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const r = await api.delete(nsPath(name));
    t.is(r.status, 403, r.text);
    t.like(r.body, { kind: 'Status', reason: 'Forbidden', code: 403, message: `namespaces "${name}" is forbidden: this namespace may not be deleted`, details: { name, kind: 'namespaces' } });
  }
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

test('a deleted namespace is Terminating: no new content, existing content may change, a second delete is 409, /finalize ends it', withApp, async (t, api) => {
  await createAll(t, api, [[NAMESPACES, namespace('team')], [podsIn('team'), pod('p')]]);
  const dry = await api.delete(`${nsPath('team')}?dryRun=All`);
  t.is(dry.status, 200, dry.text);
  t.is(dry.body.status.phase, 'Terminating');
  t.is((await api.get(nsPath('team'))).body.status.phase, 'Active', 'a dry run stores nothing');

  const deleted = await api.delete(nsPath('team'));
  t.is(deleted.status, 200, deleted.text);
  t.like(deleted.body, { kind: 'Namespace', status: { phase: 'Terminating' }, spec: { finalizers: ['kubernetes'] } });
  t.truthy(deleted.body.metadata.deletionTimestamp);
  t.deepEqual((await api.get(nsPath('team'))).body, deleted.body, 'it stays until it is finalized (no controller runs here)');

  const refused = await api.post(podsIn('team'), pod('q'));
  t.is(refused.status, 403, refused.text);
  t.deepEqual(refused.body, {
    apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'pods "q" is forbidden: unable to create new content in namespace team because it is being terminated',
    details: { name: 'q', kind: 'pods', causes: [{ reason: 'NamespaceTerminating', message: 'namespace team is being terminated', field: 'metadata.namespace' }] },
  });
  const generated = await api.post(podsIn('team'), { ...pod(''), metadata: { generateName: 'web-' } });
  t.is(generated.body.message, 'pods is forbidden: unable to create new content in namespace team because it is being terminated');
  const patched = await api.patch(podPath('p', 'team'), { metadata: { labels: { still: 'works' } } });
  t.is(patched.status, 200, patched.text);

  const again = await api.delete(nsPath('team'));
  t.is(again.status, 409, again.text);
  t.is(again.body.message, 'Operation cannot be fulfilled on namespaces "team": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');

  const finalized = await api.put(`${nsPath('team')}/finalize`, { ...deleted.body, spec: { finalizers: [] } });
  t.is(finalized.status, 200, finalized.text);
  t.is((await api.get(nsPath('team'))).status, 404, 'finalized while deleted: gone');
});

test('a deleted namespace is emptied by the namespace controller and then goes, with no node runtime', withControlPlane, async (t, cp) => {
  t.is(cp.cp.controllers, undefined, 'no runtime: only the namespace controller runs');
  await createAll(t, cp, [[NAMESPACES, namespace('team')], [podsIn('team'), pod('a')], [podsIn('team'), pod('b')], ['/api/v1/namespaces/team/events', event('e', 'team')], [PODS, pod('stays')]]);
  t.is((await cp.delete(nsPath('team'))).status, 200);
  await eventually('the namespace to be gone', async () => (await cp.get(nsPath('team'))).status === 404);
  t.deepEqual((await cp.get('/api/v1/pods')).body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/stays']);
  t.deepEqual((await cp.get('/api/v1/namespaces/team/events')).body.items, []);
  const recreated = await cp.post(NAMESPACES, namespace('team'));
  t.is(recreated.status, 201, 'the name is free again');
  t.is((await cp.post(podsIn('team'), pod('a'))).status, 201);
});

// ---- deletecollection ----------------------------------------------------------------

test('DELETE on a collection deletes what the selectors match and answers the list of it', withApp, async (t, api) => {
  await createAll(t, api, [
    [PODS, pod('web-1', { metadata: { labels: { app: 'web' } } })], [PODS, pod('web-2', { metadata: { labels: { app: 'web' } } })],
    [PODS, pod('db', { metadata: { labels: { app: 'db' } } })], [NODES, node('n1')], [NODES, node('n2', { metadata: { labels: { pool: 'spare' } } })],
  ]);
  const dry = await api.delete(`${PODS}?labelSelector=app%3Dweb&dryRun=All`);
  t.is(dry.status, 200, dry.text);
  t.deepEqual(dry.body.items.map((p: any) => p.metadata.name), ['web-1', 'web-2']);
  t.is((await api.get(PODS)).body.items.length, 3, 'a dry run deletes nothing');

  const r = await api.delete(`${PODS}?labelSelector=app%3Dweb`);
  t.is(r.status, 200, r.text);
  t.like(r.body, { apiVersion: 'v1', kind: 'PodList' });
  t.truthy(r.body.metadata.resourceVersion);
  t.deepEqual(r.body.items.map((p: any) => p.metadata.name), ['web-1', 'web-2']);
  t.deepEqual((await api.get(PODS)).body.items.map((p: any) => p.metadata.name), ['db']);

  const byField = await api.delete(`${PODS}?fieldSelector=metadata.name%3Ddb`);
  t.deepEqual(byField.body.items.map((p: any) => p.metadata.name), ['db']);

  const nodes = await api.delete(`${NODES}?labelSelector=pool%3Dspare`);
  t.like(nodes.body, { kind: 'NodeList' });
  t.deepEqual(nodes.body.items.map((n: any) => n.metadata.name), ['n2']);
  t.deepEqual((await api.get(NODES)).body.items.map((n: any) => n.metadata.name), ['n1']);

  // Without a selector: everything in the collection; an empty collection answers an empty list.
  t.deepEqual((await api.delete(NODES)).body.items.map((n: any) => n.metadata.name), ['n1']);
  t.deepEqual((await api.delete(NODES)).body.items, []);
});

test('DELETE with a DeleteOptions body asking for a dry run deletes nothing, as kubectl --dry-run=server sends it', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('p')]]);
  const rev = await api.store.currentRevision();
  const one = await api.request('DELETE', podPath('p'), { body: { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'] } });
  t.is(one.status, 200, one.text);
  const all = await api.request('DELETE', PODS, { body: { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'] } });
  t.is(all.body.items.length, 1);
  t.is(await api.store.currentRevision(), rev);
  const bad = await api.request('DELETE', podPath('p'), { body: { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['Some'] } });
  t.is(bad.status, 422, bad.text);
  t.deepEqual(bad.body.details.causes.map((c: any) => c.field), ['dryRun']);
});

test('discovery lists namespaces (short name ns) and deletecollection on every collection but namespaces', withApp, async (t, api) => {
  const resources = (await api.get('/api/v1')).body.resources as Array<{ name: string; namespaced: boolean; shortNames?: string[]; verbs: string[] }>;
  const ns = resources.find((r) => r.name === 'namespaces')!;
  t.like(ns, { namespaced: false, shortNames: ['ns'] });
  t.false(ns.verbs.includes('deletecollection'));
  t.true(resources.find((r) => r.name === 'pods')!.verbs.includes('deletecollection'));
  t.true(resources.find((r) => r.name === 'nodes')!.verbs.includes('deletecollection'));
  const leases = (await api.get('/apis/coordination.k8s.io/v1')).body.resources.find((r: any) => r.name === 'leases');
  t.true(leases.verbs.includes('deletecollection'));
});

test('a store written before namespaces were served gets a Namespace for each namespace its objects are in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-ns-legacy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'kcs.db');
  const old = new SqliteStore(path);
  await old.create('/registry/pods/legacy/web', JSON.stringify(pod('web', { metadata: { namespace: 'legacy' } })));
  await old.create('/registry/events/audit/e1', JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'audit' } }));
  await old.close();

  const store = new SqliteStore(path);
  const registry = new Registry(store);
  t.teardown(async () => { registry.cache.stop(); await store.close(); });
  await registry.ready();
  const names = (await registry.list(kindByName('Namespace')!, undefined)).items.map((n) => n.metadata.name);
  t.deepEqual(names, ['audit', 'default', 'kube-node-lease', 'kube-public', 'kube-system', 'legacy']);
  t.is((await registry.create(kindByName('Pod')!, 'legacy', pod('api'))).object.metadata.namespace, 'legacy', 'new pods can join the old ones');
});
