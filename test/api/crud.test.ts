import test from 'ava';
import { createAll, FRESH_REVISION, namespace, NAMESPACES, node, nodePath, NODES, pod, podPath, PODS, withApp } from './helpers.ts';

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const names = (list: any) => list.items.map((o: any) => o.metadata.name).sort();

// ---- create ----------------------------------------------------------------------

test('creating a node returns 201 with uid, creationTimestamp, generation 1 and a resourceVersion', withApp, async (t, api) => {
  const r = await api.post(NODES, node('n1'));
  t.is(r.status, 201, r.text);
  const meta = r.body.metadata;
  t.is(meta.name, 'n1');
  t.regex(meta.uid, UID);
  t.regex(meta.creationTimestamp, RFC3339_SECONDS);
  t.is(meta.generation, 1);
  t.regex(meta.resourceVersion, /^[1-9]\d*$/);
  t.is(meta.namespace, undefined);
  // The server gives a new Node the first free /24 of the pod network.
  t.deepEqual(r.body.spec, { capacity: { cpu: '4', memory: '8Gi' }, podCIDR: '127.64.0.0/24', podCIDRs: ['127.64.0.0/24'] });
  t.is(String(await api.store.currentRevision()), meta.resourceVersion);

  const got = await api.get(nodePath('n1'));
  t.is(got.status, 200);
  t.deepEqual(got.body, r.body);
});

test('a Node sized in status.capacity, as KWOK and kubelets write it, is created with that size as spec.capacity', withApp, async (t, api) => {
  const yaml = [
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    '  name: kwok-node-0',
    '  labels: {type: kwok}',
    'spec:',
    '  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]',
    'status:',
    '  allocatable: {cpu: 32, memory: 256Gi, pods: 110}',
    '  capacity: {cpu: 32, memory: 256Gi, pods: 110}',
    '',
  ].join('\n');
  const r = await api.post(NODES, yaml, { type: 'application/yaml' });
  t.is(r.status, 201, r.text);
  t.deepEqual(r.body.spec.capacity, { cpu: '32', memory: '256Gi', pods: '110' });
  t.deepEqual(r.body.spec.taints, [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }]);
  t.deepEqual((await api.get(nodePath('kwok-node-0'))).body.spec.capacity, { cpu: '32', memory: '256Gi', pods: '110' });
  // A re-apply of the same manifest keeps it; spec.capacity, when stated, wins.
  const put = await api.put(nodePath('kwok-node-0'), { ...r.body, spec: { capacity: { cpu: '8' } }, status: { capacity: { cpu: '32' } } });
  t.is(put.body.spec.capacity.cpu, '8');

  const unsized = await api.post(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'nothing' }, spec: {} });
  t.is(unsized.status, 422, unsized.text);
  t.deepEqual(unsized.body.details.causes, [{ reason: 'FieldValueRequired', field: 'spec.capacity', message: "Required value: the machine's size: spec.capacity (cpu, and optionally memory and pods), or status.capacity as a kubelet or KWOK writes it" }]);
});

test('creating a pod from a YAML body defaults its namespace and sets status.phase Pending', withApp, async (t, api) => {
  const yaml = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: web',
    'spec:',
    '  containers:',
    '    - name: app',
    '      image: nginx:1.27',
    '      resources:',
    '        requests: {cpu: 250m, memory: 128Mi}',
    '',
  ].join('\n');
  const r = await api.post(PODS, yaml, { type: 'application/yaml' });
  t.is(r.status, 201, r.text);
  t.is(r.body.metadata.namespace, 'default');
  t.regex(r.body.metadata.uid, UID);
  t.is(r.body.metadata.generation, 1);
  t.deepEqual(r.body.status, { phase: 'Pending' });
  t.deepEqual(r.body.spec.containers[0], { name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '250m', memory: '128Mi' } } });
  t.is((await api.get(podPath('web'))).body.metadata.uid, r.body.metadata.uid);
});

test('creating ignores server-owned fields and status sent by the client', withApp, async (t, api) => {
  const body = pod('p', { metadata: { uid: 'not-mine', generation: 7, resourceVersion: '99', creationTimestamp: '2000-01-01T00:00:00Z' } });
  body.status = { phase: 'Running' };
  const r = await api.post(PODS, body);
  t.is(r.status, 201, r.text);
  t.not(r.body.metadata.uid, 'not-mine');
  t.regex(r.body.metadata.uid, UID);
  t.is(r.body.metadata.generation, 1);
  t.not(r.body.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
  t.is(r.body.metadata.resourceVersion, String(await api.store.currentRevision()));
  t.deepEqual(r.body.status, { phase: 'Pending' });
});

test('creating the same object twice answers 409 AlreadyExists', withApp, async (t, api) => {
  t.is((await api.post(NODES, node('n1'))).status, 201);
  const rev = await api.store.currentRevision();
  const r = await api.post(NODES, node('n1'));
  t.is(r.status, 409);
  t.like(r.body, { kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, details: { name: 'n1', kind: 'nodes' } });
  t.is(await api.store.currentRevision(), rev);
});

test('a pod namespace that differs from the URL is refused with 400', withApp, async (t, api) => {
  const r = await api.post(PODS, pod('p', { metadata: { namespace: 'other' } }));
  t.is(r.status, 400);
  t.like(r.body, { kind: 'Status', reason: 'BadRequest', code: 400 });
  t.regex(r.body.message, /namespace/);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

test('a node with metadata.namespace is refused with 400 because nodes are cluster-scoped', withApp, async (t, api) => {
  const r = await api.post(NODES, node('n1', { metadata: { namespace: 'default' } }));
  t.is(r.status, 400);
  t.like(r.body, { reason: 'BadRequest', code: 400 });
  t.regex(r.body.message, /cluster-scoped/);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

test('a PUT whose body names another object than the URL is refused with 400', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  const r = await api.put(nodePath('n1'), { ...created, metadata: { ...created.metadata, name: 'n2' } });
  t.is(r.status, 400);
  t.like(r.body, { reason: 'BadRequest', code: 400 });
  t.regex(r.body.message, /n2.*n1/);
  t.is((await api.get(nodePath('n2'))).status, 404);
});

test('generateName gives a new object a unique name with that prefix', withApp, async (t, api) => {
  const body = pod('', { metadata: { generateName: 'worker-' } });
  delete body.metadata.name;
  const a = await api.post(PODS, body);
  const b = await api.post(PODS, body);
  t.is(a.status, 201, a.text);
  t.is(b.status, 201, b.text);
  t.regex(a.body.metadata.name, /^worker-[a-z0-9]{5}$/);
  t.not(a.body.metadata.name, b.body.metadata.name);
  t.is((await api.get(podPath(a.body.metadata.name))).status, 200);
});

test('an object without name or generateName is refused with 422 naming metadata.name', withApp, async (t, api) => {
  const body = node('x');
  delete body.metadata.name;
  const r = await api.post(NODES, body);
  t.is(r.status, 422);
  t.is(r.body.reason, 'Invalid');
  t.deepEqual(r.body.details.causes.map((c: any) => c.field), ['metadata.name']);
});

// ---- read --------------------------------------------------------------------------

test('lists nodes, pods in one namespace, and pods in all namespaces', withApp, async (t, api) => {
  await createAll(t, api, [
    [NODES, node('n1')], [NODES, node('n2')],
    [NAMESPACES, namespace('team')], [PODS, pod('a')], ['/api/v1/namespaces/team/pods', pod('b')], ['/api/v1/namespaces/team/pods', pod('c')],
  ]);
  const nodes = await api.get(NODES);
  t.is(nodes.status, 200);
  t.like(nodes.body, { apiVersion: 'v1', kind: 'NodeList' });
  t.deepEqual(names(nodes.body), ['n1', 'n2']);

  const team = await api.get('/api/v1/namespaces/team/pods');
  t.like(team.body, { kind: 'PodList' });
  t.deepEqual(names(team.body), ['b', 'c']);
  t.deepEqual(names((await api.get(PODS)).body), ['a']);
  t.deepEqual((await api.get('/api/v1/namespaces/empty/pods')).body.items, []);

  const all = await api.get('/api/v1/pods');
  t.is(all.status, 200);
  t.deepEqual(all.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`).sort(), ['default/a', 'team/b', 'team/c']);
});

test('a list carries the store revision as its resourceVersion, even when empty', withApp, async (t, api) => {
  t.is((await api.get(NODES)).body.metadata.resourceVersion, String(FRESH_REVISION));
  await createAll(t, api, [[NODES, node('n1')], [PODS, pod('p')]]);
  // The pod write is newer than any node, and the node list still reports it.
  const list = await api.get(NODES);
  t.is(list.body.metadata.resourceVersion, String(await api.store.currentRevision()));
  t.is(list.body.metadata.resourceVersion, String(FRESH_REVISION + 2));
  t.is(list.body.items[0].metadata.resourceVersion, String(FRESH_REVISION + 1));
});

test('getting a missing object answers 404 NotFound naming it', withApp, async (t, api) => {
  const r = await api.get(podPath('ghost'));
  t.is(r.status, 404);
  t.like(r.body, { kind: 'Status', reason: 'NotFound', code: 404, details: { name: 'ghost', kind: 'pods' } });
  t.is(r.body.message, 'pods "ghost" not found');
});

// ---- update ------------------------------------------------------------------------

test('a PUT with a stale resourceVersion answers 409 Conflict and changes nothing', withApp, async (t, api) => {
  const [v1] = await createAll(t, api, [[NODES, node('n1')]]);
  const v2 = await api.put(nodePath('n1'), { ...v1, metadata: { ...v1.metadata, labels: { a: '1' } } });
  t.is(v2.status, 200, v2.text);
  t.true(Number(v2.body.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));

  const stale = await api.put(nodePath('n1'), { ...v1, metadata: { ...v1.metadata, labels: { a: '2' } } });
  t.is(stale.status, 409);
  t.like(stale.body, { kind: 'Status', reason: 'Conflict', code: 409, details: { name: 'n1', kind: 'nodes' } });
  t.deepEqual((await api.get(nodePath('n1'))).body, v2.body);
});

test('a PUT without a resourceVersion replaces unconditionally', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')], [NODES, node('n2')]]);
  const body = node('n1', { metadata: { labels: { zone: 'b' } } });
  const r = await api.put(nodePath('n1'), body);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { zone: 'b' });
  t.is(r.body.metadata.resourceVersion, String(FRESH_REVISION + 3));
});

test('a PUT that changes nothing writes nothing and keeps the resourceVersion', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  const rev = await api.store.currentRevision();
  const r = await api.put(nodePath('n1'), created);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body, created);
  const { resourceVersion: _, ...noVersion } = created.metadata;
  t.is((await api.put(nodePath('n1'), { ...created, metadata: noVersion })).body.metadata.resourceVersion, created.metadata.resourceVersion);
  t.is(await api.store.currentRevision(), rev);
});

test('a spec change bumps metadata.generation; a label change does not', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  const labelled = await api.put(nodePath('n1'), { ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
  t.is(labelled.status, 200, labelled.text);
  t.is(labelled.body.metadata.generation, 1);
  t.not(labelled.body.metadata.resourceVersion, created.metadata.resourceVersion);

  const specChanged = await api.put(nodePath('n1'), { ...labelled.body, spec: { capacity: { cpu: '8', memory: '8Gi' } } });
  t.is(specChanged.status, 200, specChanged.text);
  t.is(specChanged.body.metadata.generation, 2);
  const patched = await api.patch(nodePath('n1'), { spec: { unschedulable: true } });
  t.is(patched.body.metadata.generation, 3);
  t.is((await api.patch(nodePath('n1'), { metadata: { annotations: { note: 'x' } } })).body.metadata.generation, 3);
  t.is((await api.get(nodePath('n1'))).body.metadata.generation, 3);
});

test('PUT and PATCH of the main resource ignore status', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[PODS, pod('p')]]);
  const put = await api.put(podPath('p'), { ...created, status: { phase: 'Running' } });
  t.is(put.status, 200, put.text);
  t.deepEqual(put.body.status, { phase: 'Pending' });
  t.is(put.body.metadata.resourceVersion, created.metadata.resourceVersion, 'a status-only change to the main resource is no change');

  const patch = await api.patch(podPath('p'), { status: { phase: 'Failed' }, metadata: { labels: { x: 'y' } } });
  t.is(patch.status, 200, patch.text);
  t.deepEqual(patch.body.status, { phase: 'Pending' });
  t.deepEqual(patch.body.metadata.labels, { x: 'y' });
  t.deepEqual((await api.get(podPath('p'))).body.status, { phase: 'Pending' });
});

test('PUT to /status changes only status and does not bump generation', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[PODS, pod('p')]]);
  const body = structuredClone(created);
  body.status = { phase: 'Running', hostIP: '10.0.0.1' };
  body.spec.nodeName = 'n9';
  body.metadata.labels = { sneaky: 'yes' };
  const r = await api.put(`${podPath('p')}/status`, body);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.status, { phase: 'Running', hostIP: '10.0.0.1' });
  t.deepEqual(r.body.spec, created.spec);
  t.is(r.body.metadata.labels, undefined);
  t.is(r.body.metadata.generation, 1);
  t.true(Number(r.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  t.deepEqual((await api.get(podPath('p'))).body, r.body);
  t.deepEqual((await api.get(`${podPath('p')}/status`)).body, r.body);
});

test('PATCH to /status changes only status and does not bump generation', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')]]);
  const r = await api.patch(`${nodePath('n1')}/status`, {
    spec: { capacity: { cpu: '64' } },
    status: { capacity: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec, { capacity: { cpu: '4', memory: '8Gi' }, podCIDR: '127.64.0.0/24', podCIDRs: ['127.64.0.0/24'] });
  t.deepEqual(r.body.status, { capacity: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'True' }] });
  t.is(r.body.metadata.generation, 1);

  const json = await api.patch(`${nodePath('n1')}/status`, [{ op: 'replace', path: '/status/capacity/cpu', value: '2' }], { type: 'application/json-patch+json' });
  t.is(json.status, 200, json.text);
  t.is(json.body.status.capacity.cpu, '2');
  t.is(json.body.metadata.generation, 1);
});

test('a status write is still validated', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('p')]]);
  const rev = await api.store.currentRevision();
  const r = await api.patch(`${podPath('p')}/status`, { status: { phase: 'Exploded' } });
  t.is(r.status, 422, r.text);
  t.deepEqual(r.body.details.causes.map((c: any) => c.field), ['status.phase']);
  t.is(await api.store.currentRevision(), rev);
});

// ---- patch ---------------------------------------------------------------------------

test('a merge patch adds, replaces and removes fields', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1', { metadata: { labels: { a: '1', b: '2' } } })]]);
  const r = await api.patch(nodePath('n1'), { metadata: { labels: { a: null, b: '3', c: '4' } }, spec: { capacity: { memory: null } } });
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { b: '3', c: '4' });
  t.deepEqual(r.body.spec.capacity, { cpu: '4' });
  t.deepEqual((await api.get(nodePath('n1'))).body, r.body);
});

test('a JSON patch applies its operations in order', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('p')]]);
  const ops = [
    { op: 'add', path: '/metadata/labels', value: { app: 'web' } },
    { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' },
    { op: 'add', path: '/spec/nodeName', value: 'n1' },
    { op: 'test', path: '/spec/nodeName', value: 'n1' },
  ];
  const r = await api.patch(podPath('p'), ops, { type: 'application/json-patch+json' });
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { app: 'web' });
  t.is(r.body.spec.containers[0].image, 'nginx:2');
  t.is(r.body.spec.nodeName, 'n1');
  t.is(r.body.metadata.generation, 2);
});

test('a JSON patch whose test operation fails answers 422 and changes nothing', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[PODS, pod('p')]]);
  const ops = [
    { op: 'add', path: '/metadata/labels', value: { app: 'web' } },
    { op: 'test', path: '/spec/containers/0/image', value: 'httpd' },
  ];
  const r = await api.patch(podPath('p'), ops, { type: 'application/json-patch+json' });
  t.is(r.status, 422, r.text);
  t.like(r.body, { kind: 'Status', reason: 'Invalid', code: 422 });
  t.regex(r.body.message, /operation 1/);
  t.deepEqual((await api.get(podPath('p'))).body, created);
});

test('a patch carrying a stale resourceVersion answers 409 Conflict', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  t.is((await api.patch(nodePath('n1'), { metadata: { labels: { a: '1' } } })).status, 200);
  const r = await api.patch(nodePath('n1'), { metadata: { resourceVersion: created.metadata.resourceVersion, labels: { a: '2' } } });
  t.is(r.status, 409, r.text);
  t.is(r.body.reason, 'Conflict');
  t.is((await api.get(nodePath('n1'))).body.metadata.labels.a, '1');
});

test('a JSON patch that sets a stale resourceVersion answers 409 Conflict, as a merge patch does', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  t.is((await api.patch(nodePath('n1'), { metadata: { labels: { a: '1' } } })).status, 200);
  const ops = [
    { op: 'replace', path: '/metadata/resourceVersion', value: created.metadata.resourceVersion },
    { op: 'add', path: '/metadata/labels/b', value: '2' },
  ];
  const r = await api.patch(nodePath('n1'), ops, { type: 'application/json-patch+json' });
  t.is(r.status, 409, r.text);
  t.is(r.body.reason, 'Conflict');
  t.deepEqual((await api.get(nodePath('n1'))).body.metadata.labels, { a: '1' });
});

test('a strategic merge patch of a kcs.io kind is refused with 415, as Kubernetes refuses it for custom resources', withApp, async (t, api) => {
  const CONFIGS = '/apis/kcs.io/v1/schedulerconfigurations';
  await createAll(t, api, [[CONFIGS, { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'best-fit' } }]]);
  const rev = await api.store.currentRevision();
  const r = await api.patch(`${CONFIGS}/default`, { metadata: { labels: { a: '1' } } }, { type: 'application/strategic-merge-patch+json' });
  t.is(r.status, 415);
  t.like(r.body, { kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
  t.regex(r.body.message, /merge-patch\+json/);
  t.notRegex(r.body.message, /strategic-merge-patch\+json, /);
  t.is(await api.store.currentRevision(), rev);
});

test('updating or patching a missing object answers 404', withApp, async (t, api) => {
  t.is((await api.put(nodePath('ghost'), node('ghost'))).status, 404);
  const r = await api.patch(nodePath('ghost'), { metadata: { labels: { a: '1' } } });
  t.is(r.status, 404);
  t.is(r.body.reason, 'NotFound');
  t.is((await api.get(nodePath('ghost'))).status, 404);
});

// ---- delete ----------------------------------------------------------------------------

test('DELETE returns the deleted object, after which GET answers 404 NotFound', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[PODS, pod('p')]]);
  const r = await api.delete(podPath('p'));
  t.is(r.status, 200, r.text);
  t.is(r.body.kind, 'Pod');
  t.is(r.body.metadata.uid, created.metadata.uid);
  t.deepEqual(r.body.spec, created.spec);
  t.is(r.body.metadata.resourceVersion, String(await api.store.currentRevision()));

  const gone = await api.get(podPath('p'));
  t.is(gone.status, 404);
  t.like(gone.body, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
  t.deepEqual((await api.get(PODS)).body.items, []);
  const again = await api.delete(podPath('p'));
  t.is(again.status, 404);
  t.is(again.body.reason, 'NotFound');
});
// ---- dry run -----------------------------------------------------------------------------

test('dryRun=All validates and answers as if written, but stores nothing', withApp, async (t, api) => {
  const dry = await api.post(`${NODES}?dryRun=All`, node('n1'));
  t.is(dry.status, 201, dry.text);
  t.is(dry.body.metadata.name, 'n1');
  t.is(dry.body.metadata.generation, 1);
  t.is((await api.get(nodePath('n1'))).status, 404);
  t.is(await api.store.currentRevision(), FRESH_REVISION);

  const invalid = await api.post(`${NODES}?dryRun=All`, node('n1', { spec: { capacity: { cpu: 'lots' } } }));
  t.is(invalid.status, 422);

  const [created] = await createAll(t, api, [[NODES, node('n1')]]);
  const rev = await api.store.currentRevision();
  const put = await api.put(`${nodePath('n1')}?dryRun=All`, { ...created, metadata: { ...created.metadata, labels: { a: '1' } } });
  t.is(put.status, 200, put.text);
  t.deepEqual(put.body.metadata.labels, { a: '1' });
  const patch = await api.patch(`${nodePath('n1')}?dryRun=All`, { spec: { unschedulable: true } });
  t.is(patch.status, 200, patch.text);
  t.is(patch.body.spec.unschedulable, true);
  t.is((await api.delete(`${nodePath('n1')}?dryRun=All`)).status, 200);
  t.is((await api.post(`${NODES}?dryRun=All`, node('n1'))).status, 409, 'a dry-run create still sees existing objects');
  t.deepEqual((await api.get(nodePath('n1'))).body, created);
  t.is(await api.store.currentRevision(), rev);
  t.is((await api.post(`${NODES}?dryRun=Some`, node('n2'))).status, 400);
});
