// dryRun=All on every write route: the request is validated and admitted
// as for real and answered as if done, and nothing is stored (the store's
// revision does not move). A dry run of something invalid is still refused.
import test from 'ava';
import { COMMIT_KIND } from '../../src/api/commit.ts';
import { createAll, namespace, NAMESPACES, node, nodePath, NODES, pod, podPath, PODS, withApp } from './helpers.ts';

const DRY = '?dryRun=All';
const commit = (...operations: unknown[]) => ({ apiVersion: COMMIT_KIND.apiVersion, kind: COMMIT_KIND.kind, operations });
const event = (name: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'R', message: 'm', type: 'Normal' });

test('every write route answers a dry run as if done and stores nothing', withApp, async (t, api) => {
  const [n1, p1] = await createAll(t, api, [[NODES, node('n1')], [PODS, pod('p1')], [PODS, pod('p2', { metadata: { labels: { app: 'x' } } })], [NAMESPACES, namespace('team')]]);
  const rev = await api.store.currentRevision();
  const snapshot = async () => ({ nodes: (await api.get(NODES)).body.items, pods: (await api.get(PODS)).body.items, namespaces: (await api.get(NAMESPACES)).body.items });
  const before = await snapshot();

  const cases: Array<{ what: string; send: () => Promise<{ status: number; body: any }>; status: number; check?: (body: any) => void }> = [
    { what: 'create', send: () => api.post(`${NODES}${DRY}`, node('n2')), status: 201, check: (b) => t.is(b.metadata.name, 'n2') },
    { what: 'create in a namespace', send: () => api.post(`/api/v1/namespaces/team/pods${DRY}`, pod('q')), status: 201, check: (b) => t.is(b.status.phase, 'Pending') },
    { what: 'update', send: () => api.put(`${nodePath('n1')}${DRY}`, { ...n1, metadata: { ...n1.metadata, labels: { a: '1' } } }), status: 200, check: (b) => t.deepEqual(b.metadata.labels, { a: '1' }) },
    { what: 'merge patch', send: () => api.patch(`${nodePath('n1')}${DRY}`, { spec: { unschedulable: true } }), status: 200, check: (b) => t.true(b.spec.unschedulable) },
    { what: 'JSON patch', send: () => api.patch(`${podPath('p1')}${DRY}`, [{ op: 'add', path: '/metadata/labels', value: { b: '2' } }], { type: 'application/json-patch+json' }), status: 200, check: (b) => t.deepEqual(b.metadata.labels, { b: '2' }) },
    { what: 'status update', send: () => api.put(`${nodePath('n1')}/status${DRY}`, { ...n1, status: { allocatable: { cpu: '4' } } }), status: 200, check: (b) => t.deepEqual(b.status, { allocatable: { cpu: '4' } }) },
    { what: 'status patch', send: () => api.patch(`${podPath('p1')}/status${DRY}`, { status: { phase: 'Running' } }), status: 200, check: (b) => t.is(b.status.phase, 'Running') },
    { what: 'binding', send: () => api.post(`${podPath('p1')}/binding${DRY}`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } }), status: 201 },
    { what: 'commit', send: () => api.post(`${COMMIT_KIND.path}${DRY}`, commit({ verb: 'create', object: event('e1') }, { verb: 'update', subresource: 'binding', object: { ...p1, spec: { ...p1.spec, nodeName: 'n1' } } })), status: 201, check: (b) => t.is(b.results.length, 2) },
    { what: 'delete', send: () => api.delete(`${podPath('p1')}${DRY}`), status: 200, check: (b) => t.is(b.metadata.name, 'p1') },
    { what: 'deletecollection', send: () => api.delete(`${PODS}${DRY}&labelSelector=app%3Dx`), status: 200, check: (b) => t.deepEqual(b.items.map((p: any) => p.metadata.name), ['p2']) },
    { what: 'namespace delete', send: () => api.delete(`${NAMESPACES}/team${DRY}`), status: 200, check: (b) => t.is(b.status.phase, 'Terminating') },
    { what: 'namespace finalize', send: () => api.put(`${NAMESPACES}/team/finalize${DRY}`, { ...namespace('team'), spec: { finalizers: [] } }), status: 200, check: (b) => t.deepEqual(b.spec.finalizers, []) },
  ];
  for (const c of cases) {
    const r = await c.send();
    t.is(r.status, c.status, `${c.what}: ${JSON.stringify(r.body).slice(0, 300)}`);
    c.check?.(r.body);
    t.is(await api.store.currentRevision(), rev, `${c.what}: nothing stored`);
  }
  t.deepEqual(await snapshot(), before);
});

test('a dry run of something invalid is refused as the real write would be', withApp, async (t, api) => {
  const [, p1] = await createAll(t, api, [[NODES, node('n1')], [PODS, pod('p1')]]);
  const rev = await api.store.currentRevision();
  const refusals: Array<[string, Promise<{ status: number }>, number]> = [
    ['create', api.post(`${NODES}${DRY}`, node('bad', { spec: { capacity: { cpu: 'lots' } } })), 422],
    ['create of an existing object', api.post(`${NODES}${DRY}`, node('n1')), 409],
    ['patch', api.patch(`${nodePath('n1')}${DRY}`, { spec: { capacity: { cpu: '-1' } } }), 422],
    ['binding to a missing node', api.post(`${podPath('p1')}/binding${DRY}`, { apiVersion: 'v1', kind: 'Binding', target: { name: 'nowhere' } }), 404],
    ['commit with a stale version', api.post(`${COMMIT_KIND.path}${DRY}`, commit({ verb: 'update', subresource: 'status', object: { ...p1, metadata: { ...p1.metadata, resourceVersion: '1' } } })), 409],
    ['commit creating what exists', api.post(`${COMMIT_KIND.path}${DRY}`, commit({ verb: 'create', object: { ...p1, metadata: { name: 'p1', namespace: 'default' } } })), 409],
    ['delete of a system namespace', api.delete(`${NAMESPACES}/default${DRY}`), 403],
    ['create in a missing namespace', api.post(`/api/v1/namespaces/ghost/pods${DRY}`, pod('x')), 404],
  ];
  for (const [what, reply, code] of refusals) t.is((await reply).status, code, what);
  t.is(await api.store.currentRevision(), rev);
});
