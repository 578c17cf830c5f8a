// The controllers' identity (controller.token, minted by the control plane)
// and the node identity, over real HTTP against startControlPlane: what the
// controllers may do (read everything; write node and pod status, bindings,
// unbindings, events and commits of those; ask for node tokens) and what
// they may not (create, change or delete Nodes, Pods or the scheduler's
// configuration), with every refusal a 403 that writes nothing and the same
// request from the admin succeeding, so the refusal is the identity's.
import test, { type ExecutionContext } from 'ava';
import {
  client, createAll, node, nodePath, NODES, openControlPlane, pod, podPath, PODS, tempStateDir,
  type Client, type Reply, type TestControlPlane,
} from './helpers.ts';

const COMMITS = '/apis/kcs.io/v1/commits';
const EVENTS = '/api/v1/namespaces/default/events';
const CONFIGS = '/apis/kcs.io/v1/schedulerconfigurations';
const CONTROLLER = 'system:kcs-controller-manager';

const commit = (...operations: unknown[]) => ({ apiVersion: 'kcs.io/v1', kind: 'Commit', operations });
const event = (name: string, about = 'p1') => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: about, namespace: 'default' }, reason: 'Scheduled', message: `assigned ${about}`, type: 'Normal',
});
const bindOp = (p: any, nodeName: string) => ({
  verb: 'update', subresource: 'binding',
  object: { ...p, spec: { ...p.spec, nodeName }, status: { conditions: [{ type: 'PodScheduled', status: 'True', reason: 'Scheduled' }] } },
});
const statusOp = (n: any, cpu = '3') => ({ verb: 'update', subresource: 'status', object: { ...n, status: { allocatable: { cpu } } } });

interface Cluster {
  admin: TestControlPlane;
  /** A client holding the controllers' token. */
  ctl: Client;
  /** A client holding node n1's token. */
  n1: Client;
  /** Nodes n1 and n2; pod p1 pending, pod p2 bound to n1. */
  objects: { n1: any; n2: any; p1: any; p2: any };
}

async function cluster(t: ExecutionContext): Promise<Cluster> {
  const admin = await openControlPlane(t, tempStateDir(t));
  const [n1, n2, p1, p2] = await createAll(t, admin, [
    [NODES, node('n1')], [NODES, node('n2')], [PODS, pod('p1')], [PODS, pod('p2', { spec: { nodeName: 'n1' } })],
  ]);
  return {
    admin,
    ctl: client(admin.url, admin.cp.controllerToken),
    n1: client(admin.url, admin.cp.nodeTokens.tokenFor('n1')),
    objects: { n1, n2, p1, p2 },
  };
}

const withCluster = test.macro<[(t: ExecutionContext, c: Cluster) => Promise<void>]>(async (t, run) => {
  await run(t, await cluster(t));
});

function isForbidden(t: ExecutionContext, r: Reply, what: string, user: string): void {
  t.is(r.status, 403, `${what}: ${r.text}`);
  t.like(r.body, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403 }, what);
  t.true((r.body?.message ?? '').includes(`User "${user}"`), `${what}: the message names the user: ${r.body?.message}`);
}

// ---- what the controllers may do -------------------------------------------------------------

test('the controller token is its own identity, distinct from the admin token', withCluster, async (t, { admin, ctl }) => {
  t.truthy(admin.cp.controllerToken);
  t.not(admin.cp.controllerToken, admin.cp.adminToken);
  isForbidden(t, await ctl.delete(podPath('p1')), 'delete a pod', CONTROLLER);
});

test('the controllers read everything: pods in all namespaces, nodes, events, the scheduler configuration', withCluster, async (t, { admin, ctl }) => {
  const pods = await ctl.get('/api/v1/pods');
  t.is(pods.status, 200, pods.text);
  t.deepEqual(pods.body.items.map((p: any) => p.metadata.name).sort(), ['p1', 'p2']);
  t.deepEqual(pods.body.items, (await admin.get('/api/v1/pods')).body.items, 'the same list the admin sees');
  const onN1 = await ctl.get(`${PODS}?fieldSelector=spec.nodeName%3Dn1`);
  t.deepEqual(onN1.body.items.map((p: any) => p.metadata.name), ['p2']);
  t.is((await ctl.get(podPath('p1'))).status, 200);
  t.deepEqual((await ctl.get(NODES)).body.items.map((n: any) => n.metadata.name), ['n1', 'n2']);
  t.is((await ctl.get(nodePath('n2'))).status, 200);
  t.is((await ctl.get(EVENTS)).status, 200);
  t.is((await ctl.get(CONFIGS)).status, 200);
  t.is((await ctl.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).status, 200);
});

test("the controllers write a node's status and a pod's status", withCluster, async (t, { admin, ctl, objects }) => {
  const patched = await ctl.patch(`${nodePath('n1')}/status`, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'NodeFailed' }] } });
  t.is(patched.status, 200, patched.text);
  t.is((await admin.get(nodePath('n1'))).body.status.conditions[0].reason, 'NodeFailed');
  const current = (await admin.get(nodePath('n2'))).body;
  const put = await ctl.put(`${nodePath('n2')}/status`, { ...current, status: { allocatable: { cpu: '2' } } });
  t.is(put.status, 200, put.text);
  t.deepEqual((await admin.get(nodePath('n2'))).body.status.allocatable, { cpu: '2' });
  t.deepEqual((await admin.get(nodePath('n2'))).body.spec, objects.n2.spec, 'a status write leaves spec alone');
  const podStatus = await ctl.patch(`${podPath('p2')}/status`, { status: { phase: 'Failed' } });
  t.is(podStatus.status, 200, podStatus.text);
  t.is((await admin.get(podPath('p2'))).body.status.phase, 'Failed');
});

test('the controllers commit a binding with its event, and an unbinding', withCluster, async (t, { admin, ctl, objects }) => {
  const r = await ctl.post(COMMITS, commit(bindOp(objects.p1, 'n2'), { verb: 'create', object: event('p1.bound') }, statusOp(objects.n2)));
  t.is(r.status, 201, r.text);
  t.deepEqual(r.body.results.map((o: any) => `${o.kind}/${o.metadata.name}`), ['Pod/p1', 'Event/p1.bound', 'Node/n2']);
  const p1 = (await admin.get(podPath('p1'))).body;
  t.is(p1.spec.nodeName, 'n2');
  t.is(p1.status.conditions[0].type, 'PodScheduled');
  t.is((await admin.get(`${EVENTS}/p1.bound`)).body.involvedObject.name, 'p1');
  t.deepEqual((await admin.get(nodePath('n2'))).body.status.allocatable, { cpu: '3' });

  const unbind = await ctl.post(COMMITS, commit({ verb: 'update', subresource: 'unbinding', object: { ...objects.p2, status: { phase: 'Pending' } } }));
  t.is(unbind.status, 201, unbind.text);
  t.is((await admin.get(podPath('p2'))).body.spec.nodeName, undefined, 'p2 is off n1');
});

test('the controllers bind a pod with POST pods/binding', withCluster, async (t, { admin, ctl }) => {
  const r = await ctl.post(`${podPath('p1')}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } });
  t.is(r.status, 201, r.text);
  t.like(r.body, { kind: 'Status', status: 'Success', code: 201 });
  const p1 = (await admin.get(podPath('p1'))).body;
  t.is(p1.spec.nodeName, 'n1');
  t.like(p1.status.conditions.find((c: any) => c.type === 'PodScheduled'), { status: 'True' });
});

test("the controllers request a node's token, and it is that node's", withCluster, async (t, { admin, ctl }) => {
  const r = await ctl.post(`${nodePath('n1')}/token`, {});
  t.is(r.status, 201, r.text);
  t.like(r.body, { kind: 'TokenRequest', metadata: { name: 'n1' } });
  t.is(r.body.status.token, admin.cp.nodeTokens.tokenFor('n1'));
  const asNode = client(admin.url, r.body.status.token);
  t.regex((await asNode.delete(nodePath('n1'))).body.message, /User "system:node:n1"/, 'it authenticates as node n1');
  t.is((await ctl.post(`${nodePath('ghost')}/token`, {})).status, 404, 'only for a Node that exists');
});

// ---- what the controllers may not do ---------------------------------------------------------

interface Attempt {
  what: string;
  send: (c: Client) => Promise<Reply>;
}

test("the controllers may not create, change or delete Nodes, Pods or the scheduler's configuration (403, nothing written; the admin may)", withCluster, async (t, { admin, ctl }) => {
  const currentNode = async () => (await admin.get(nodePath('n1'))).body;
  const attempts: Attempt[] = [
    { what: 'create a Pod', send: (c) => c.post(PODS, pod('new')) },
    { what: 'delete a Pod', send: (c) => c.delete(podPath('new')) },
    { what: "change a Pod's labels", send: (c) => c.patch(podPath('p1'), { metadata: { labels: { team: 'x' } } }) },
    { what: "set a Pod's nodeName by patching its spec", send: (c) => c.patch(podPath('p1'), { spec: { nodeName: 'n1' } }) },
    { what: 'create a Node', send: (c) => c.post(NODES, node('n9')) },
    { what: 'delete a Node', send: (c) => c.delete(nodePath('n9')) },
    { what: "patch a Node's spec", send: (c) => c.patch(nodePath('n1'), { spec: { unschedulable: true } }) },
    { what: "replace a Node's spec", send: async (c) => c.put(nodePath('n1'), { ...(await currentNode()), spec: { capacity: { cpu: '8', memory: '8Gi' } } }) },
    { what: 'create the scheduler configuration', send: (c) => c.post(CONFIGS, { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'spread' } }) },
    { what: 'change the scheduler configuration', send: (c) => c.patch(`${CONFIGS}/default`, { spec: { defaultPolicy: 'binpack' } }) },
    { what: 'delete the scheduler configuration', send: (c) => c.delete(`${CONFIGS}/default`) },
  ];
  for (const a of attempts) {
    const before = await admin.cp.store.currentRevision();
    isForbidden(t, await a.send(ctl), `controllers ${a.what}`, CONTROLLER);
    t.is(await admin.cp.store.currentRevision(), before, `controllers ${a.what}: nothing written`);
    const control = await a.send(admin);
    t.true(control.status === 200 || control.status === 201, `the admin may ${a.what}: ${control.status} ${control.text}`);
  }
});

test('the controllers make, cordon and delete only the Nodes a NodePool owns (the autoscaler\'s part)', withCluster, async (t, { admin, ctl }) => {
  const pool = await admin.post('/apis/kcs.io/v1/nodepools', { apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'np' }, spec: { maxNodes: 3, template: { spec: { capacity: { cpu: '1' } } } } });
  t.is(pool.status, 201);
  const owned = node('np-1', { metadata: { name: 'np-1', ownerReferences: [{ apiVersion: 'kcs.io/v1', kind: 'NodePool', name: 'np', uid: pool.body.metadata.uid, controller: true }] } });
  t.is((await ctl.post(NODES, owned)).status, 201);
  t.is((await ctl.patch(nodePath('np-1'), { spec: { unschedulable: true } })).status, 200);
  t.is((await ctl.put('/apis/kcs.io/v1/nodepools/np/status', { ...(await admin.get('/apis/kcs.io/v1/nodepools/np')).body, status: { currentNodes: 1 } })).status, 200);
  t.is((await ctl.delete(nodePath('np-1'))).status, 200);
  // A commit creating a Node no pool owns is refused whole.
  const before = await admin.cp.store.currentRevision();
  isForbidden(t, await ctl.post(COMMITS, commit({ verb: 'create', object: node('loose') })), 'controllers commit a Node no pool owns', CONTROLLER);
  t.is(await admin.cp.store.currentRevision(), before);
});

test('a commit mixing allowed writes with a forbidden one (create a Pod) is 403 and writes nothing', withCluster, async (t, { admin, ctl, objects }) => {
  const before = await admin.cp.store.currentRevision();
  const mixed = await ctl.post(COMMITS, commit(
    bindOp(objects.p1, 'n1'), { verb: 'create', object: event('p1.bound') }, statusOp(objects.n1),
    { verb: 'create', object: pod('sneaky') },
  ));
  isForbidden(t, mixed, 'a commit creating a Pod', CONTROLLER);
  t.regex(mixed.body.message, /cannot create resource "pods"/);
  t.is(await admin.cp.store.currentRevision(), before, 'nothing written');
  t.is((await admin.get(podPath('p1'))).body.spec.nodeName, undefined, 'p1 is not bound');
  t.is((await admin.get(`${EVENTS}/p1.bound`)).status, 404, 'the event was not created');
  t.is((await admin.get(podPath('sneaky'))).status, 404);

  const nodeSpec = await ctl.post(COMMITS, commit(statusOp(objects.n2), { verb: 'update', object: { ...objects.n1, spec: { ...objects.n1.spec, unschedulable: true } } }));
  isForbidden(t, nodeSpec, "a commit changing a Node's spec", CONTROLLER);
  t.regex(nodeSpec.body.message, /cannot update resource "nodes"/);
  const podSpec = await ctl.post(COMMITS, commit({ verb: 'update', object: { ...objects.p1, spec: { ...objects.p1.spec, nodeName: 'n1' } } }));
  isForbidden(t, podSpec, "a commit updating a Pod (not its binding)", CONTROLLER);
  t.is(await admin.cp.store.currentRevision(), before, 'nothing written');

  // Without the forbidden write, the same commit goes through.
  const allowed = await ctl.post(COMMITS, commit(bindOp(objects.p1, 'n1'), { verb: 'create', object: event('p1.bound') }, statusOp(objects.n1)));
  t.is(allowed.status, 201, allowed.text);
});

// ---- node tokens and commits -----------------------------------------------------------------

test("a node token commits its own node's status, but not a binding nor another node's status (403, nothing written)", withCluster, async (t, { admin, n1, objects }) => {
  const before = await admin.cp.store.currentRevision();
  const withBinding = await n1.post(COMMITS, commit(statusOp(objects.n1), bindOp(objects.p1, 'n1')));
  isForbidden(t, withBinding, 'a node committing a binding', 'system:node:n1');
  t.regex(withBinding.body.message, /pods\/binding/);
  const other = await n1.post(COMMITS, commit(statusOp(objects.n2)));
  isForbidden(t, other, "a node committing another node's status", 'system:node:n1');
  t.regex(other.body.message, /nodes\/status/);
  const withEvent = await n1.post(COMMITS, commit(statusOp(objects.n1), { verb: 'create', object: event('e1') }));
  isForbidden(t, withEvent, 'a node committing an event', 'system:node:n1');
  t.is(await admin.cp.store.currentRevision(), before, 'nothing written');
  t.is((await admin.get(podPath('p1'))).body.spec.nodeName, undefined);
  t.is((await admin.get(nodePath('n1'))).body.status, undefined);

  const own = await n1.post(COMMITS, commit(statusOp(objects.n1, '2')));
  t.is(own.status, 201, own.text);
  t.deepEqual((await admin.get(nodePath('n1'))).body.status.allocatable, { cpu: '2' });
  isForbidden(t, await n1.post(`${podPath('p1')}/binding`, { apiVersion: 'v1', kind: 'Binding', target: { kind: 'Node', name: 'n1' } }), 'a node posting pods/binding', 'system:node:n1');
  t.is((await admin.get(podPath('p1'))).body.spec.nodeName, undefined);
});

// ---- no token ----------------------------------------------------------------------------------

test('without a valid token, commits, bindings, reads and token requests are 401', withCluster, async (t, { admin, objects }) => {
  const before = await admin.cp.store.currentRevision();
  for (const token of [null, 'not-a-token', `${admin.cp.controllerToken}x`]) {
    const anon = client(admin.url, token ?? '');
    const opts = { token };
    const replies: Array<[string, Reply]> = [
      ['commit', await anon.post(COMMITS, commit(bindOp(objects.p1, 'n1')), opts)],
      ['binding', await anon.post(`${podPath('p1')}/binding`, { apiVersion: 'v1', kind: 'Binding', target: { kind: 'Node', name: 'n1' } }, opts)],
      ['list pods', await anon.get('/api/v1/pods', opts)],
      ['node token', await anon.post(`${nodePath('n1')}/token`, {}, opts)],
      ['discovery', await anon.get('/apis/kcs.io/v1', opts)],
    ];
    for (const [what, r] of replies) {
      t.is(r.status, 401, `${what} with token ${String(token)}: ${r.text}`);
      t.like(r.body, { kind: 'Status', reason: 'Unauthorized', code: 401 });
      t.regex(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  }
  t.is(await admin.cp.store.currentRevision(), before, 'nothing written');
});
