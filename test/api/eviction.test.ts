// pods/eviction over real HTTP: an Eviction (policy/v1 or v1beta1) deletes
// the pod, as Kubernetes does with no disruption budget in the way; dryRun
// and preconditions are honoured; a wrong name, kind or pod is refused; and
// only who may delete pods may evict them.
import test from 'ava';
import {
  client, createAll, node, NODES, openControlPlane, pod, podPath, PODS, tempStateDir, withApp,
} from './helpers.ts';

const evictionPath = (name: string) => `${podPath(name)}/eviction`;
const eviction = (name: string, extra: Record<string, unknown> = {}, apiVersion = 'policy/v1') =>
  ({ apiVersion, kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra });
const SUCCESS = { apiVersion: 'v1', kind: 'Status', status: 'Success', code: 201 };

test('an eviction deletes the pod and answers 201 with a Status Success', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')], [PODS, pod('web', { spec: { nodeName: 'n1' } })]]);
  const r = await api.post(evictionPath('web'), eviction('web'));
  t.is(r.status, 201, r.text);
  t.like(r.body, SUCCESS);
  t.is((await api.get(podPath('web'))).status, 404, 'the pod is gone, not moved');
});

test('a policy/v1beta1 Eviction is accepted as kubectl falls back to it, with or without a name in the body', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('a')], [PODS, pod('b')]]);
  t.is((await api.post(evictionPath('a'), eviction('a', {}, 'policy/v1beta1'))).status, 201);
  t.is((await api.post(evictionPath('b'), { apiVersion: 'policy/v1', kind: 'Eviction' })).status, 201);
  t.is((await api.get(PODS)).body.items.length, 0);
});

test('dryRun, in the query or in deleteOptions, keeps the pod', withApp, async (t, api) => {
  const [web] = await createAll(t, api, [[PODS, pod('web')]]);
  t.is((await api.post(`${evictionPath('web')}?dryRun=All`, eviction('web'))).status, 201);
  t.is((await api.post(evictionPath('web'), eviction('web', { deleteOptions: { dryRun: ['All'] } }))).status, 201);
  const still = await api.get(podPath('web'));
  t.is(still.status, 200);
  t.is(still.body.metadata.resourceVersion, web.metadata.resourceVersion, 'nothing was written');
});

test('preconditions: a uid or resourceVersion that no longer matches is 409 and the pod stays', withApp, async (t, api) => {
  const [web] = await createAll(t, api, [[PODS, pod('web')]]);
  const wrongUid = await api.post(evictionPath('web'), eviction('web', { deleteOptions: { preconditions: { uid: 'not-its-uid' } } }));
  t.is(wrongUid.status, 409, wrongUid.text);
  t.is(wrongUid.body.reason, 'Conflict');
  const changed = await api.patch(podPath('web'), { metadata: { labels: { edited: 'yes' } } });
  const stale = await api.post(evictionPath('web'), eviction('web', { deleteOptions: { preconditions: { resourceVersion: web.metadata.resourceVersion } } }));
  t.is(stale.status, 409, stale.text);
  t.is((await api.get(podPath('web'))).status, 200);
  const right = await api.post(evictionPath('web'), eviction('web', { deleteOptions: { preconditions: { uid: web.metadata.uid, resourceVersion: changed.body.metadata.resourceVersion } } }));
  t.is(right.status, 201, right.text);
});

test('a name that is not the pod in the URL is 400; an unknown pod is 404', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('web')]]);
  const mismatch = await api.post(evictionPath('web'), eviction('other'));
  t.is(mismatch.status, 400);
  t.like(mismatch.body, { kind: 'Status', reason: 'BadRequest', message: 'name in URL does not match name in Eviction object' });
  const missing = await api.post(evictionPath('ghost'), eviction('ghost'));
  t.is(missing.status, 404);
  t.like(missing.body, { reason: 'NotFound', message: 'pods "ghost" not found' });
  t.is((await api.get(podPath('web'))).status, 200);
});

test('nodes and the controllers may not evict (they may not delete pods); the admin may', async (t) => {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')], [PODS, pod('web', { spec: { nodeName: 'n1' } })]]);
  for (const [who, token] of [['system:node:n1', admin.cp.nodeTokens.tokenFor('n1')], ['system:kcs-controller-manager', admin.cp.controllerToken]]) {
    const r = await client(admin.url, token).post(evictionPath('web'), eviction('web'));
    t.is(r.status, 403, `${who}: ${r.text}`);
    t.is(r.body.message, `pods/eviction "web" is forbidden: User "${who}" cannot create resource "pods/eviction"`);
  }
  t.is((await admin.get(podPath('web'))).status, 200);
  t.is((await admin.post(evictionPath('web'), eviction('web'))).status, 201);
});
