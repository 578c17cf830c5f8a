// Server-side apply over HTTP (PATCH application/apply-patch+yaml): creates
// what does not exist, merges by the schema, removes what the same manager
// stopped applying, answers 409 in Kubernetes' shape when another manager
// owns a field it would change (unless force=true), and every other write
// records an Update entry in managedFields.
import test from 'ava';
import { createAll, node, NODES, pod, podPath, PODS, withApp, type Client } from './helpers.ts';

const APPLY = 'application/apply-patch+yaml';

function podYaml(image: string, labels: Record<string, string> = { app: 'web' }): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: p',
    '  labels:',
    ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`),
    'spec:',
    '  containers:',
    '  - name: app',
    `    image: ${image}`,
  ].join('\n');
}

const apply = (api: Client, body: unknown, query: string) => api.patch(`${podPath('p')}?${query}`, body, { type: APPLY });
const entry = (obj: any, manager: string) => obj.metadata.managedFields?.find((e: any) => e.manager === manager);

test('an apply to an object that does not exist creates it (201) with the applier\'s Apply entry', withApp, async (t, api) => {
  const r = await apply(api, podYaml('app:1'), 'fieldManager=ci');
  t.is(r.status, 201, r.text);
  t.is(r.body.spec.containers[0].image, 'app:1');
  t.is(r.body.status.phase, 'Pending');
  t.is(r.body.metadata.managedFields.length, 1);
  const e = r.body.metadata.managedFields[0];
  t.like(e, { manager: 'ci', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' });
  t.regex(e.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  t.deepEqual(e.fieldsV1, {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
  });
  t.deepEqual((await api.get(podPath('p'))).body, r.body);
});

test('applying again without a field the same manager applied before removes it; a JSON body works too', withApp, async (t, api) => {
  t.is((await apply(api, podYaml('app:1', { app: 'web', tier: 'front' }), 'fieldManager=ci')).status, 201);
  const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
  const r = await apply(api, JSON.stringify(config), 'fieldManager=ci');
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { app: 'web' });
  t.deepEqual(entry(r.body, 'ci').fieldsV1['f:metadata'], { 'f:labels': { 'f:app': {} } });
});

test('a field the manager stopped applying stays when another manager owns it', withApp, async (t, api) => {
  t.is((await apply(api, podYaml('app:1', { app: 'web', tier: 'front' }), 'fieldManager=ci')).status, 201);
  // Another manager takes the label over with an ordinary patch (an Update entry).
  const patched = await api.patch(`${podPath('p')}?fieldManager=ops`, { metadata: { labels: { tier: 'back' } } });
  t.is(patched.status, 200, patched.text);
  t.like(entry(patched.body, 'ops'), { operation: 'Update', apiVersion: 'v1' });
  const r = await apply(api, podYaml('app:1'), 'fieldManager=ci');
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { app: 'web', tier: 'back' });
});

test('changing a field another manager owns is a 409 Conflict in Kubernetes\' shape, and nothing is stored', withApp, async (t, api) => {
  await createAll(t, api, [[`${PODS}?fieldManager=kcs`, pod('p')]]);
  const rev = await api.store.currentRevision();
  const r = await apply(api, podYaml('app:2'), 'fieldManager=ci');
  t.is(r.status, 409, r.text);
  t.deepEqual(r.body, {
    apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'Conflict', code: 409,
    message: 'Apply failed with 1 conflict: conflict with "kcs" using v1: .spec.containers[name="app"].image',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kcs" using v1', field: '.spec.containers[name="app"].image' }] },
  });
  t.is(await api.store.currentRevision(), rev);
});

test('two appliers: the second conflicts on the first\'s field; force=true takes it over', withApp, async (t, api) => {
  t.is((await apply(api, podYaml('app:1'), 'fieldManager=ci')).status, 201);
  const conflict = await apply(api, podYaml('app:2'), 'fieldManager=deployer');
  t.is(conflict.status, 409, conflict.text);
  t.is(conflict.body.message, 'Apply failed with 1 conflict: conflict with "ci": .spec.containers[name="app"].image');
  const forced = await apply(api, podYaml('app:2'), 'fieldManager=deployer&force=true');
  t.is(forced.status, 200, forced.text);
  t.is(forced.body.spec.containers[0].image, 'app:2');
  t.truthy(entry(forced.body, 'deployer').fieldsV1['f:spec']['f:containers']['k:{"name":"app"}']['f:image']);
  t.falsy(entry(forced.body, 'ci').fieldsV1['f:spec']['f:containers']['k:{"name":"app"}']['f:image'], 'the forced field left its old owner');
  // Applying the same value as another manager is shared ownership, not a conflict.
  const shared = await apply(api, podYaml('app:2', { app: 'web' }), 'fieldManager=ci');
  t.is(shared.status, 200, shared.text);
});

test('creates, updates and patches record Update entries for their field manager or User-Agent', withApp, async (t, api) => {
  const created = await api.post(PODS, pod('p', { metadata: { labels: { a: '1' } } }), { headers: { 'user-agent': 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc' } });
  t.is(created.status, 201, created.text);
  t.deepEqual(created.body.metadata.managedFields.map((e: any) => [e.manager, e.operation, e.apiVersion]), [['kubectl', 'Update', 'v1']]);
  t.deepEqual(created.body.metadata.managedFields[0].fieldsV1['f:metadata'], { 'f:labels': { '.': {}, 'f:a': {} } });
  t.falsy(created.body.metadata.managedFields[0].fieldsV1['f:status'], 'status the create does not write is not the creator\'s');
  const patched = await api.patch(`${podPath('p')}/status?fieldManager=kubelet`, { status: { phase: 'Running' } });
  t.is(patched.status, 200, patched.text);
  t.like(entry(patched.body, 'kubelet'), { operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
  // A write that changes nothing keeps managedFields as they are.
  const same = await api.patch(`${podPath('p')}?fieldManager=other`, { metadata: { labels: { a: '1' } } });
  t.is(same.body.metadata.resourceVersion, patched.body.metadata.resourceVersion);
  t.falsy(entry(same.body, 'other'));
});

test('a PUT with managedFields: [] clears them; the write itself is not recorded on an untracked object', withApp, async (t, api) => {
  const created = (await createAll(t, api, [[`${PODS}?fieldManager=kcs`, pod('p')]]))[0];
  const cleared = await api.put(`${podPath('p')}?fieldManager=kcs`, { ...created, metadata: { ...created.metadata, managedFields: [], labels: { x: 'y' } } });
  t.is(cleared.status, 200, cleared.text);
  t.is(cleared.body.metadata.managedFields, undefined);
  const later = await api.patch(`${podPath('p')}?fieldManager=kcs`, { metadata: { labels: { x: 'z' } } });
  t.is(later.body.metadata.managedFields, undefined);
});

test('dryRun=All applies nothing, for a create and for an update', withApp, async (t, api) => {
  const rev = await api.store.currentRevision();
  const dry = await apply(api, podYaml('app:1'), 'fieldManager=ci&dryRun=All');
  t.is(dry.status, 201, dry.text);
  t.is((await api.get(podPath('p'))).status, 404);
  t.is(await api.store.currentRevision(), rev);
  t.is((await apply(api, podYaml('app:1'), 'fieldManager=ci')).status, 201);
  const rev2 = await api.store.currentRevision();
  const dryUpdate = await apply(api, podYaml('app:3'), 'fieldManager=ci&dryRun=All');
  t.is(dryUpdate.status, 200, dryUpdate.text);
  t.is(dryUpdate.body.spec.containers[0].image, 'app:3');
  t.is(await api.store.currentRevision(), rev2);
});

for (const [title, body, query, code, message] of [
  ['without a fieldManager', podYaml('a'), '', 422, /^PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch$/],
  ['with force on a merge patch', null, 'force=true', 422, /force: Forbidden: may not be specified for non-apply patch/],
  ['of another apiVersion', podYaml('a').replace('apiVersion: v1', 'apiVersion: v2'), 'fieldManager=ci', 400, /Incorrect version specified in apply patch. Specified patch version: v2, expected: v1/],
  ['of another kind', podYaml('a').replace('kind: Pod', 'kind: Node'), 'fieldManager=ci', 400, /kind in the body \(Node\) does not match/],
  ['naming another object', podYaml('a').replace('name: p', 'name: q'), 'fieldManager=ci', 400, /the name of the object \(q\) does not match the name on the URL \(p\)/],
  ['carrying managedFields', podYaml('a').replace('metadata:', 'metadata:\n  managedFields: [{manager: x}]'), 'fieldManager=ci', 400, /metadata.managedFields must be nil/],
  ['that is not an object', '- a\n- b', 'fieldManager=ci', 400, /must be an object/],
  ['with two documents', `${podYaml('a')}\n---\n${podYaml('b')}`, 'fieldManager=ci', 400, /one document/],
  ['with a container without its key', podYaml('a').replace('- name: app', '- ports: []'), 'fieldManager=ci', 422, /omits key field "name"/],
  ['with a non-printable fieldManager', podYaml('a'), 'fieldManager=a%07b', 422, /fieldManager: Invalid value/],
] as const) {
  test(`an apply ${title} is refused with ${code}, and nothing is stored`, withApp, async (t, api) => {
    const rev = await api.store.currentRevision();
    const r = body === null
      ? await api.patch(`${podPath('p')}?${query}`, { metadata: { labels: { a: '1' } } })
      : await apply(api, body, query);
    t.is(r.status, code, r.text);
    t.like(r.body, { kind: 'Status', status: 'Failure', code });
    t.regex(r.body.message, message);
    t.is(await api.store.currentRevision(), rev);
  });
}

test('a binding (an internal batched write, as Kubernetes\' binding subresource) keeps managedFields and records no manager', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')]]);
  t.is((await apply(api, podYaml('app:1'), 'fieldManager=ci')).status, 201);
  const before = (await api.get(podPath('p'))).body.metadata.managedFields;
  const bound = await api.post(`${podPath('p')}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } });
  t.is(bound.status, 201, bound.text);
  const after = (await api.get(podPath('p'))).body;
  t.is(after.spec.nodeName, 'n1');
  t.deepEqual(after.metadata.managedFields, before);
  // The applier's next apply does not take nodeName away: nobody owns it, and the apply does not state it.
  const again = await apply(api, podYaml('app:1'), 'fieldManager=ci');
  t.is(again.status, 200, again.text);
  t.is(again.body.spec.nodeName, 'n1');
});
