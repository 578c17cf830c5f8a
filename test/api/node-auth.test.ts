// Node tokens and the node authorizer, against a real control plane over
// HTTP: what node n1's agent may read and write, and what it may not.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  client, createAll, node, nodePath, NODES, openControlPlane, pod, podPath, PODS, tempStateDir, watch,
  type Client, type Reply, type TestControlPlane,
} from './helpers.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const leasePath = (name: string, ns = 'kube-node-lease') => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`;
const lease = (name: string, ns = 'kube-node-lease') => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: ns },
  spec: { holderIdentity: name, leaseDurationSeconds: 4, renewTime: '2026-01-01T00:00:00.000000Z' },
});
const statusPatch = { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test' }] } };

interface NodeCluster {
  admin: TestControlPlane;
  /** A client holding node n1's token. */
  n1: Client;
  /** Pods bound to n1, bound to n2, and not bound at all. */
  pods: { onN1: any; onN2: any; unbound: any };
}

/** A control plane with nodes n1 and n2 and a pod bound to each (and one unbound), made by the admin. */
async function nodeCluster(t: ExecutionContext): Promise<NodeCluster> {
  const admin = await openControlPlane(t, tempStateDir(t));
  const [, , onN1, onN2, unbound] = await createAll(t, admin, [
    [NODES, node('n1')], [NODES, node('n2')],
    [PODS, pod('p1', { spec: { nodeName: 'n1' } })], [PODS, pod('p2', { spec: { nodeName: 'n2' } })], [PODS, pod('p3')],
  ]);
  return { admin, n1: client(admin.url, admin.cp.nodeTokens.tokenFor('n1')), pods: { onN1, onN2, unbound } };
}

const withNodes = test.macro<[(t: ExecutionContext, c: NodeCluster) => Promise<void>]>(async (t, run) => {
  await run(t, await nodeCluster(t));
});

function isForbidden(t: ExecutionContext, r: Reply, what: string): void {
  t.is(r.status, 403, `${what}: ${r.text}`);
  t.like(r.body, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403 }, what);
}

// ---- authentication -----------------------------------------------------------------

test('a node token has the form kcs-node.<name>.<mac> and authenticates as that node', withNodes, async (t, { admin, n1 }) => {
  t.regex(n1.token, /^kcs-node\.n1\.[A-Za-z0-9_-]{43}$/);
  const r = await n1.get(nodePath('n1'));
  t.is(r.status, 200, r.text);
  t.is(r.body.metadata.name, 'n1');
  // The user it authenticates as shows in what it is refused.
  t.regex((await n1.delete(nodePath('n1'))).body.message, /User "system:node:n1"/);
  t.is(admin.cp.nodeTokens.tokenFor('n1'), n1.token, 'the token is a function of the name');
  t.not(admin.cp.nodeTokens.tokenFor('n2'), n1.token);
});

test('a tampered node token answers 401 Unauthorized', withNodes, async (t, { admin, n1 }) => {
  const mac = n1.token.slice('kcs-node.n1.'.length);
  const flipped = (c: string) => (c === 'A' ? 'B' : 'A');
  const tampered = [
    `kcs-node.n1.${flipped(mac[0])}${mac.slice(1)}`, // one character of the mac changed
    `kcs-node.n1.${mac.slice(0, -1)}${flipped(mac.at(-1)!)}`,
    `kcs-node.n2.${mac}`, // n1's mac with the name swapped to n2
    `kcs-node.n1.${mac}x`,
    `kcs-node.n1.${mac.slice(0, -1)}`,
    `kcs-node.n1`,
    `kcs-node..${mac}`,
    `kcs-node.${mac}`,
    mac,
  ];
  for (const token of tampered) {
    const r = await admin.get(NODES, { token });
    t.is(r.status, 401, token);
    t.like(r.body, { kind: 'Status', reason: 'Unauthorized', code: 401 }, token);
  }
  const other = await openControlPlane(t, tempStateDir(t));
  t.is((await other.get(NODES, { token: n1.token })).status, 401, 'another cluster\'s secret makes other tokens');
});

test('node tokens survive a control-plane restart on the same state dir, whose secret file is 0600', async (t) => {
  const dir = tempStateDir(t);
  const first = await openControlPlane(t, dir);
  await createAll(t, first, [[NODES, node('n1')]]);
  const token = first.cp.nodeTokens.tokenFor('n1');
  const keyFile = join(dir, 'node-token.key');
  const secret = readFileSync(keyFile, 'utf8');
  t.is(statSync(keyFile).mode & 0o777, 0o600);
  t.is(Buffer.from(secret.trim(), 'base64').length, 32);
  await first.close();

  const second = await openControlPlane(t, dir);
  t.is(readFileSync(keyFile, 'utf8'), secret, 'the secret is reused, not regenerated');
  t.is(second.cp.nodeTokens.tokenFor('n1'), token);
  const n1 = client(second.url, token);
  t.is((await n1.patch(`${nodePath('n1')}/status`, statusPatch)).status, 200);
});

// ---- nodes --------------------------------------------------------------------------

test('a node may read and list nodes', withNodes, async (t, { n1 }) => {
  const list = await n1.get(NODES);
  t.is(list.status, 200, list.text);
  t.deepEqual(list.body.items.map((n: any) => n.metadata.name).sort(), ['n1', 'n2']);
  t.is((await n1.get(nodePath('n2'))).status, 200);
  t.is((await n1.get(`${nodePath('n2')}/status`)).status, 200);
  const w = watch(t, n1, `${NODES}?watch=true`);
  await w.waitFor(2);
  t.is(w.status, 200);
});

test('a node may read Services (its pods call them by name) but not write them', withNodes, async (t, { admin, n1 }) => {
  const SERVICES = '/api/v1/namespaces/default/services';
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
  t.is((await admin.post(SERVICES, service)).status, 201);
  const got = await n1.get(`${SERVICES}/web`);
  t.is(got.status, 200, got.text);
  t.truthy(got.body.spec.clusterIP);
  t.is((await n1.get(SERVICES)).status, 200);
  isForbidden(t, await n1.post(SERVICES, { ...service, metadata: { name: 'mine' } }), 'create');
  isForbidden(t, await n1.put(`${SERVICES}/web`, got.body), 'update');
  isForbidden(t, await n1.delete(`${SERVICES}/web`), 'delete');
});

test('a node may patch and update its own Node\'s status', withNodes, async (t, { admin, n1 }) => {
  const patched = await n1.patch(`${nodePath('n1')}/status`, statusPatch);
  t.is(patched.status, 200, patched.text);
  t.is(patched.body.status.conditions[0].reason, 'Test');
  // A pod bound to n1 may be reported; an ID the API does not bind to n1 is dropped (fencing).
  const bound = await admin.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mine' }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } });
  const put = await n1.put(`${nodePath('n1')}/status`, { ...patched.body, status: { ...patched.body.status, pods: [bound.body.metadata.uid, 'x'] } });
  t.is(put.status, 200, put.text);
  t.deepEqual((await admin.get(nodePath('n1'))).body.status.pods, [bound.body.metadata.uid]);
});

test('writing its Node\'s status does not let a node change its spec', withNodes, async (t, { admin, n1 }) => {
  const r = await n1.patch(`${nodePath('n1')}/status`, { spec: { capacity: { cpu: '64', memory: '1Ti' }, unschedulable: true }, metadata: { labels: { evil: 'yes' } }, ...statusPatch });
  t.is(r.status, 200, r.text);
  const stored = (await admin.get(nodePath('n1'))).body;
  t.deepEqual(stored.spec.capacity, { cpu: '4', memory: '8Gi' });
  t.falsy(stored.spec.unschedulable);
  t.falsy(stored.metadata.labels?.evil);
});

test('a node may not write another node\'s status, its own Node, or create or delete Nodes', withNodes, async (t, { admin, n1 }) => {
  const n2 = (await admin.get(nodePath('n2'))).body;
  const n1Before = (await admin.get(nodePath('n1'))).body;
  isForbidden(t, await n1.patch(`${nodePath('n2')}/status`, statusPatch), 'patch n2/status');
  isForbidden(t, await n1.put(`${nodePath('n2')}/status`, { ...n2, status: statusPatch.status }), 'put n2/status');
  isForbidden(t, await n1.patch(nodePath('n1'), { metadata: { labels: { a: 'b' } } }), 'patch n1');
  isForbidden(t, await n1.put(nodePath('n1'), n1Before), 'put n1');
  isForbidden(t, await n1.delete(nodePath('n1')), 'delete n1');
  isForbidden(t, await n1.delete(nodePath('n2')), 'delete n2');
  isForbidden(t, await n1.post(NODES, node('n3')), 'create n3');
  isForbidden(t, await n1.post(NODES, node('n1')), 'create a Node named like itself');
  const forbidden = await n1.patch(`${nodePath('n2')}/status`, statusPatch);
  t.like(forbidden.body.details, { name: 'n2', kind: 'nodes/status' });
  const after = (await admin.get(NODES)).body.items.map((n: any) => [n.metadata.name, n.metadata.resourceVersion]).sort();
  t.deepEqual(after, [['n1', n1Before.metadata.resourceVersion], ['n2', n2.metadata.resourceVersion]], 'nothing was created, changed or deleted');
});

// ---- leases -------------------------------------------------------------------------

test('discovery lists coordination.k8s.io and its leases', withNodes, async (t, { admin }) => {
  const groups = await admin.get('/apis');
  t.is(groups.status, 200);
  t.is(groups.body.kind, 'APIGroupList');
  const coordination = groups.body.groups.find((g: any) => g.name === 'coordination.k8s.io');
  t.like(coordination, { preferredVersion: { groupVersion: 'coordination.k8s.io/v1', version: 'v1' } });
  const resources = await admin.get('/apis/coordination.k8s.io/v1');
  t.is(resources.status, 200);
  t.like(resources.body, { kind: 'APIResourceList', groupVersion: 'coordination.k8s.io/v1' });
  const leases = resources.body.resources.find((r: any) => r.name === 'leases');
  t.like(leases, { kind: 'Lease', namespaced: true, singularName: 'lease' });
  t.true(leases.verbs.includes('watch'));
  t.falsy(resources.body.resources.find((r: any) => r.name === 'leases/status'), 'Leases have no status subresource');
});

test('a node may create, read and renew its own Lease in kube-node-lease', withNodes, async (t, { n1 }) => {
  const created = await n1.post(LEASES, lease('n1'));
  t.is(created.status, 201, created.text);
  t.like(created.body, { kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1' } });
  t.is((await n1.get(leasePath('n1'))).status, 200);
  const renewTime = '2026-01-01T00:00:01.000000Z';
  const put = await n1.put(leasePath('n1'), { ...created.body, spec: { ...created.body.spec, renewTime } });
  t.is(put.status, 200, put.text);
  t.is(put.body.spec.renewTime, renewTime);
  const patched = await n1.patch(leasePath('n1'), { spec: { renewTime: '2026-01-01T00:00:02.000000Z' } });
  t.is(patched.status, 200, patched.text);
});

test('a node may not create another node\'s Lease, nor a Lease outside kube-node-lease', withNodes, async (t, { admin, n1 }) => {
  isForbidden(t, await n1.post(LEASES, lease('n2')), 'create lease n2');
  isForbidden(t, await n1.post('/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('n1', 'default')), 'create lease default/n1');
  isForbidden(t, await n1.post(LEASES, { ...lease('x'), metadata: { generateName: 'n1-', namespace: 'kube-node-lease' } }), 'create a lease without a name');
  t.deepEqual((await admin.get('/apis/coordination.k8s.io/v1/leases')).body.items, [], 'nothing was created');
});

test('a node cannot reach another Lease through a body that disagrees with the URL', withNodes, async (t, { admin, n1 }) => {
  t.is((await n1.post(LEASES, lease('n1', 'default'))).status, 400, 'body namespace default, URL kube-node-lease');
  t.is((await n1.post(LEASES, lease('n1'))).status, 201);
  t.is((await n1.put(leasePath('n1'), lease('n2'))).status, 400, 'body name n2, URL n1');
  const renamed = await n1.request('PATCH', leasePath('n1'), { body: [{ op: 'replace', path: '/metadata/name', value: 'n2' }], type: 'application/json-patch+json' });
  t.is(renamed.status, 400, renamed.text);
  const all = (await admin.get('/apis/coordination.k8s.io/v1/leases')).body.items;
  t.deepEqual(all.map((l: any) => `${l.metadata.namespace}/${l.metadata.name}`), ['kube-node-lease/n1']);
});

test('a node may not delete its Lease, nor read, list, write or delete others', withNodes, async (t, { admin, n1 }) => {
  await createAll(t, admin, [[LEASES, lease('n1')], [LEASES, lease('n2')], ['/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('n1', 'default')]]);
  const theirs = (await admin.get(leasePath('n2'))).body;
  isForbidden(t, await n1.delete(leasePath('n1')), 'delete own lease');
  isForbidden(t, await n1.get(leasePath('n2')), 'get lease n2');
  isForbidden(t, await n1.put(leasePath('n2'), theirs), 'put lease n2');
  isForbidden(t, await n1.patch(leasePath('n2'), { spec: { holderIdentity: 'n1' } }), 'patch lease n2');
  isForbidden(t, await n1.delete(leasePath('n2')), 'delete lease n2');
  isForbidden(t, await n1.get(leasePath('n1', 'default')), 'get default/n1');
  isForbidden(t, await n1.patch(leasePath('n1', 'default'), { spec: { holderIdentity: 'x' } }), 'patch default/n1');
  isForbidden(t, await n1.get(LEASES), 'list leases');
  isForbidden(t, await n1.get(`${LEASES}?watch=true`), 'watch leases');
  t.is((await admin.get(leasePath('n1'))).status, 200, 'its own lease is still there');
  t.is((await admin.get(leasePath('n2'))).body.metadata.resourceVersion, theirs.metadata.resourceVersion);
});

test('the admin token may still do everything with Leases and Nodes', withNodes, async (t, { admin }) => {
  await createAll(t, admin, [[LEASES, lease('n1')], [LEASES, lease('n2')]]);
  t.is((await admin.get(LEASES)).body.items.length, 2);
  t.is((await admin.patch(leasePath('n2'), { spec: { holderIdentity: 'someone' } })).status, 200);
  t.is((await admin.delete(leasePath('n1'))).status, 200);
  t.is((await admin.get(leasePath('n1'))).status, 404);
  t.is((await admin.patch(nodePath('n1'), { metadata: { labels: { a: 'b' } } })).status, 200);
  t.is((await admin.patch(`${nodePath('n2')}/status`, statusPatch)).status, 200);
  t.is((await admin.delete(nodePath('n2'))).status, 200);
});

// ---- pods ---------------------------------------------------------------------------

test('a node may list the pods bound to it, and only with that field selector', withNodes, async (t, { n1, pods }) => {
  for (const path of ['/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', `${PODS}?fieldSelector=spec.nodeName%3Dn1`, '/api/v1/pods?fieldSelector=metadata.namespace%3Ddefault,spec.nodeName%3Dn1']) {
    const r = await n1.get(path);
    t.is(r.status, 200, `${path}: ${r.text}`);
    t.deepEqual(r.body.items.map((p: any) => p.metadata.uid), [pods.onN1.metadata.uid], path);
  }
  isForbidden(t, await n1.get('/api/v1/pods'), 'list all pods');
  isForbidden(t, await n1.get(PODS), 'list the namespace\'s pods');
  isForbidden(t, await n1.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dn2'), 'list n2\'s pods');
  isForbidden(t, await n1.get('/api/v1/pods?fieldSelector=spec.nodeName%21%3Dn1'), 'list pods not on n1');
  isForbidden(t, await n1.get('/api/v1/pods?fieldSelector=spec.nodeName%3D'), 'list unbound pods');
  isForbidden(t, await n1.get('/api/v1/pods?labelSelector=app%3Dx'), 'list by label');
  isForbidden(t, await n1.get('/api/v1/pods?watch=true'), 'watch all pods');
  isForbidden(t, await n1.get('/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn2'), 'watch n2\'s pods');
});

test('a node may watch the pods bound to it and sees only those', withNodes, async (t, { admin, n1, pods }) => {
  const w = watch(t, n1, '/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn1');
  const [first] = await w.waitFor(1);
  t.is(w.status, 200);
  t.like(first, { type: 'ADDED', object: { metadata: { uid: pods.onN1.metadata.uid } } });
  await createAll(t, admin, [[PODS, pod('elsewhere', { spec: { nodeName: 'n2' } })], [PODS, pod('here', { spec: { nodeName: 'n1' } })]]);
  const [, second] = await w.waitFor(2);
  t.like(second, { type: 'ADDED', object: { metadata: { name: 'here' } } });
  t.is((await admin.patch(podPath('p1'), { spec: { nodeName: null } })).status, 200);
  const [, , third] = await w.waitFor(3);
  t.like(third, { type: 'DELETED', object: { metadata: { name: 'p1' } } });
  t.deepEqual(w.events.map((e) => e.object.metadata.name), ['p1', 'here', 'p1'], 'nothing about other nodes\' pods');
});

test('a node may read a pod bound to it but not one bound elsewhere, unbound, or missing', withNodes, async (t, { n1, pods }) => {
  const mine = await n1.get(podPath('p1'));
  t.is(mine.status, 200, mine.text);
  t.is(mine.body.metadata.uid, pods.onN1.metadata.uid);
  t.is((await n1.get(`${podPath('p1')}/status`)).status, 200);
  isForbidden(t, await n1.get(podPath('p2')), 'get a pod on n2');
  isForbidden(t, await n1.get(`${podPath('p2')}/status`), 'get the status of a pod on n2');
  isForbidden(t, await n1.get(podPath('p3')), 'get an unbound pod');
  // 403, not 404: a node learns nothing about pods not bound to it.
  const missing = await n1.get(podPath('nope'));
  isForbidden(t, missing, 'get a missing pod');
  isForbidden(t, await n1.get(podPath('p1', 'other')), 'get a pod of that name in another namespace');
});

test('a node may write the status of a pod bound to it and nothing else about pods', withNodes, async (t, { admin, n1, pods }) => {
  const patched = await n1.patch(`${podPath('p1')}/status`, { status: { phase: 'Running' } });
  t.is(patched.status, 200, patched.text);
  t.is(patched.body.status.phase, 'Running');
  const put = await n1.put(`${podPath('p1')}/status`, { ...patched.body, status: { phase: 'Succeeded' } });
  t.is(put.status, 200, put.text);

  isForbidden(t, await n1.patch(`${podPath('p2')}/status`, { status: { phase: 'Failed' } }), 'patch status of a pod on n2');
  isForbidden(t, await n1.put(`${podPath('p2')}/status`, { ...pods.onN2, status: { phase: 'Failed' } }), 'put status of a pod on n2');
  isForbidden(t, await n1.patch(`${podPath('p3')}/status`, { status: { phase: 'Failed' } }), 'patch status of an unbound pod');
  isForbidden(t, await n1.patch(`${podPath('nope')}/status`, { status: { phase: 'Failed' } }), 'patch status of a missing pod');
  isForbidden(t, await n1.patch(podPath('p1'), { metadata: { labels: { a: 'b' } } }), 'patch a pod on n1');
  isForbidden(t, await n1.put(podPath('p1'), put.body), 'put a pod on n1');
  isForbidden(t, await n1.delete(podPath('p1')), 'delete a pod on n1');
  isForbidden(t, await n1.post(PODS, pod('new', { spec: { nodeName: 'n1' } })), 'create a pod');

  t.is((await admin.get(podPath('p2'))).body.metadata.resourceVersion, pods.onN2.metadata.resourceVersion);
  t.is((await admin.get(podPath('p3'))).body.metadata.resourceVersion, pods.unbound.metadata.resourceVersion);
  t.is((await admin.get(podPath('new'))).status, 404);
  const p1 = (await admin.get(podPath('p1'))).body;
  t.is(p1.status.phase, 'Succeeded');
  t.falsy(p1.metadata.labels);
});

test('writing a pod\'s status does not let a node move the pod', withNodes, async (t, { admin, n1 }) => {
  const r = await n1.patch(`${podPath('p1')}/status`, { spec: { nodeName: 'n2' }, status: { phase: 'Running' } });
  t.is(r.status, 200, r.text);
  t.is(r.body.status.phase, 'Running');
  t.is((await admin.get(podPath('p1'))).body.spec.nodeName, 'n1');
});

test('a node loses access to a pod once it is unbound from it', withNodes, async (t, { admin, n1 }) => {
  t.is((await n1.get(podPath('p1'))).status, 200);
  t.is((await admin.patch(podPath('p1'), { spec: { nodeName: null } })).status, 200);
  isForbidden(t, await n1.get(podPath('p1')), 'get after unbinding');
  isForbidden(t, await n1.patch(`${podPath('p1')}/status`, { status: { phase: 'Running' } }), 'patch status after unbinding');
});

test('a node token reads discovery and gets 404 for unknown resources', withNodes, async (t, { n1 }) => {
  t.is((await n1.get('/api/v1')).status, 200, 'discovery is open to any authenticated user');
  t.is((await n1.get('/healthz')).status, 200);
  t.is((await n1.get('/api/v1/deployments')).status, 404);
});
