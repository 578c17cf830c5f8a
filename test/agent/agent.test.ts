// The node agent against a real control plane: it talks HTTP with its own
// node token, while its timers run on a FakeClock. Timers fire when the test
// advances the clock, but the HTTP calls they make are real, so results are
// awaited by polling the API (eventually).
import test, { type ExecutionContext } from 'ava';
import { NodeAgent } from '../../src/agent/agent.ts';
import { Client, ClientError } from '../../src/client/http.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { createAll, node, nodePath, NODES, openControlPlane, pod, podPath, PODS, tempStateDir, watch, type TestControlPlane } from '../api/helpers.ts';
import { eventually } from '../support/eventually.ts';

const HEARTBEAT_MS = 1000;
const REFRESH_MS = 10_000;
const leasePath = (name: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`;

interface Fixture {
  admin: TestControlPlane;
  clock: FakeClock;
  /** A started-or-not agent for the node, stopped (and its client closed) at teardown. */
  agent(name?: string, token?: string, clock?: FakeClock): NodeAgent;
}

async function fixture(t: ExecutionContext, nodes: string[] = ['n1']): Promise<Fixture> {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, nodes.map((n) => [NODES, node(n)]));
  const clock = new FakeClock();
  const agent = (name = 'n1', token = admin.cp.nodeTokens.tokenFor(name), agentClock = clock) => {
    const client = new Client({ server: admin.url, token });
    const a = new NodeAgent({ client, nodeName: name, clock: agentClock, heartbeatMs: HEARTBEAT_MS, statusRefreshMs: REFRESH_MS });
    // Registered after the control plane's, so it runs before the server closes.
    t.teardown(() => { a.stop(); client.close(); });
    return a;
  };
  return { admin, clock, agent };
}

async function getNode(admin: TestControlPlane, name = 'n1'): Promise<any> {
  const r = await admin.get(nodePath(name));
  return r.status === 200 ? r.body : undefined;
}

async function getLease(admin: TestControlPlane, name = 'n1'): Promise<any> {
  const r = await admin.get(leasePath(name));
  return r.status === 200 ? r.body : undefined;
}

/** Advances the clock one heartbeat and waits until that heartbeat's lease renewal is done and the next is scheduled. */
async function beat(f: Fixture, agent: NodeAgent): Promise<void> {
  const before = agent.stats.heartbeats;
  const timer = agent['heartbeatTimer'];
  f.clock.advance(HEARTBEAT_MS);
  // The next heartbeat is scheduled when this one settles, a few microtasks after the renewal.
  await eventually('the heartbeat, and the next one scheduled', () => agent.stats.heartbeats > before && agent['heartbeatTimer'] !== timer);
}

const podUids = async (admin: TestControlPlane, name = 'n1') => (await getNode(admin, name))?.status?.pods;

/** Waits until the Node reports exactly these pod UIDs, and returns the Node. */
function reportsPods(admin: TestControlPlane, uids: string[], name = 'n1'): Promise<any> {
  const want = JSON.stringify([...uids].sort());
  return eventually(`node ${name} to report pods ${want}`, async () => {
    const n = await getNode(admin, name);
    return JSON.stringify(n?.status?.pods) === want ? n : undefined;
  });
}

const requesting = (name: string, nodeName: string | undefined, cpu: string, memory: string) =>
  pod(name, { spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu, memory } } }] } });

// ---- registration and heartbeats --------------------------------------------------

test('after start the Node is Ready with its capacity and no pods, and its Lease exists', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const n = await getNode(f.admin);
  t.like(n.status, {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    allocated: { cpu: '0', memory: '0', pods: '0' },
  });
  t.deepEqual(n.status.pods, []);
  t.deepEqual(n.status.conditions, [{
    type: 'Ready', status: 'True', reason: 'KcsAgentReady', message: 'kcs agent is posting ready status',
    lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z',
  }]);
  const lease = await getLease(f.admin);
  t.like(lease, {
    metadata: { name: 'n1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'n1', leaseDurationSeconds: 4, acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:00.000000Z' },
  });
  t.like(agent.stats, { heartbeats: 1, heartbeatFailures: 0 });
});

test('each heartbeat of the clock renews the Lease', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const first = await getLease(f.admin);
  f.clock.advance(HEARTBEAT_MS);
  const renewed = await eventually('the lease renewed', async () => {
    const l = await getLease(f.admin);
    return l?.spec.renewTime !== first.spec.renewTime ? l : undefined;
  });
  t.is(renewed.spec.renewTime, '2026-01-01T00:00:01.000000Z');
  t.is(renewed.spec.acquireTime, first.spec.acquireTime, 'acquired once');
  t.is(renewed.spec.holderIdentity, 'n1');
  t.is(renewed.metadata.uid, first.metadata.uid, 'renewed, not recreated');
  await beat(f, agent);
  await beat(f, agent);
  t.is((await getLease(f.admin)).spec.renewTime, '2026-01-01T00:00:03.000000Z');
  t.is(agent.stats.heartbeatFailures, 0);
});

test('the status is not rewritten while nothing changes, only refreshed every statusRefreshMs', async (t) => {
  const f = await fixture(t);
  const changes = watch(t, f.admin, `${NODES}?watch=true&fieldSelector=metadata.name%3Dn1`);
  await changes.waitFor(1); // the Node as it is: ADDED
  const agent = f.agent();
  await agent.start();
  const [, registered] = await changes.waitFor(2);
  t.is(registered.type, 'MODIFIED');
  const writes = agent.stats.statusWrites;
  for (let i = 0; i < 3; i++) await beat(f, agent);
  t.is(agent.stats.heartbeats, 4);
  t.is(agent.stats.statusWrites, writes, 'heartbeats write the Lease, not the Node');
  t.is((await getNode(f.admin)).metadata.resourceVersion, registered.object.metadata.resourceVersion);
  t.deepEqual(changes.events.map((e) => e.type), ['ADDED', 'MODIFIED'], 'registering changed the Node once');

  f.clock.advance(REFRESH_MS - 3 * HEARTBEAT_MS); // now 00:00:10, when the refresh is due
  const [, , refreshed] = await changes.waitFor(3);
  t.is(agent.stats.statusWrites, writes + 1);
  t.like(refreshed.object.status.conditions[0], { type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:10Z', lastTransitionTime: '2026-01-01T00:00:00Z' });
  t.deepEqual(refreshed.object.status.pods, []);
});

test('a Lease deleted under the agent is created again on the next heartbeat', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const first = await getLease(f.admin);
  t.is((await f.admin.delete(leasePath('n1'))).status, 200);
  await beat(f, agent);
  const again = await getLease(f.admin);
  t.truthy(again, 'the Lease is back');
  t.not(again.metadata.uid, first.metadata.uid);
  t.like(again.spec, { holderIdentity: 'n1', renewTime: '2026-01-01T00:00:01.000000Z' });
  t.is(agent.stats.heartbeatFailures, 0);
});

// ---- the pods it reports ----------------------------------------------------------

test('pods bound to the node show in its status with their requests summed, and others never do', async (t) => {
  const f = await fixture(t, ['n1', 'n2']);
  const agent = f.agent();
  await agent.start();
  const [a, b, elsewhere, unbound] = await createAll(t, f.admin, [
    [PODS, requesting('a', 'n1', '100m', '64Mi')],
    [PODS, requesting('b', 'n1', '250m', '128Mi')],
    [PODS, requesting('elsewhere', 'n2', '1', '1Gi')],
    [PODS, requesting('unbound', undefined, '1', '1Gi')],
  ]);
  const n = await reportsPods(f.admin, [a.metadata.uid, b.metadata.uid]);
  t.deepEqual(n.status.pods, [a.metadata.uid, b.metadata.uid].sort());
  t.deepEqual(n.status.allocated, { cpu: '350m', memory: '192Mi', pods: '2' });
  t.deepEqual(n.status.capacity, { cpu: '4', memory: '8Gi', pods: '110' }, 'capacity is not reduced');
  t.deepEqual(agent.hostedPods().map((p) => p.metadata.name).sort(), ['a', 'b']);
  t.false(n.status.pods.includes(elsewhere.metadata.uid));
  t.false(n.status.pods.includes(unbound.metadata.uid));
  t.falsy((await getNode(f.admin, 'n2')).status, 'n2 has no agent and no status');
});

test('a pod unbound from the node or deleted leaves its status', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const [a, b, c] = await createAll(t, f.admin, [
    [PODS, requesting('a', 'n1', '100m', '64Mi')], [PODS, requesting('b', 'n1', '200m', '64Mi')], [PODS, requesting('c', 'n1', '300m', '64Mi')],
  ]);
  await reportsPods(f.admin, [a.metadata.uid, b.metadata.uid, c.metadata.uid]);

  t.is((await f.admin.patch(podPath('a'), { spec: { nodeName: null } })).status, 200);
  const unbound = await reportsPods(f.admin, [b.metadata.uid, c.metadata.uid]);
  t.deepEqual(unbound.status.allocated, { cpu: '500m', memory: '128Mi', pods: '2' });

  t.is((await f.admin.delete(podPath('b'))).status, 200);
  const deleted = await reportsPods(f.admin, [c.metadata.uid]);
  t.deepEqual(deleted.status.allocated, { cpu: '300m', memory: '64Mi', pods: '1' });
  t.deepEqual(agent.hostedPods().map((p) => p.metadata.name), ['c']);
});

test('a pod moved to the node while it runs is added, with nothing else', async (t) => {
  const f = await fixture(t, ['n1', 'n2']);
  const agent = f.agent();
  await agent.start();
  const [p] = await createAll(t, f.admin, [[PODS, requesting('p', 'n2', '100m', '64Mi')]]);
  t.is((await f.admin.patch(podPath('p'), { spec: { nodeName: 'n1' } })).status, 200);
  const n = await reportsPods(f.admin, [p.metadata.uid]);
  t.deepEqual(n.status.allocated, { cpu: '100m', memory: '64Mi', pods: '1' });
  t.is(agent.stats.heartbeatFailures, 0);
});

test('twenty pods bound at once are all reported, with at most one status write each', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const created = await Promise.all(Array.from({ length: 20 }, (_, i) => f.admin.post(PODS, requesting(`p${i}`, 'n1', '10m', '1Mi'))));
  t.true(created.every((r) => r.status === 201));
  const n = await reportsPods(f.admin, created.map((r) => r.body.metadata.uid));
  t.deepEqual(n.status.allocated, { cpu: '200m', memory: '20Mi', pods: '20' });
  t.true(agent.stats.statusWrites <= 1 + 1 + 20, `${agent.stats.statusWrites} writes for 20 pods`);
});

test('a status someone else overwrites is put right from what the agent sees', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  const [a] = await createAll(t, f.admin, [[PODS, requesting('a', 'n1', '100m', '64Mi')]]);
  await reportsPods(f.admin, [a.metadata.uid]);
  const overwritten = await f.admin.patch(`${nodePath('n1')}/status`, { status: { pods: ['bogus'], allocated: { cpu: '9' }, conditions: [{ type: 'Ready', status: 'False', reason: 'Someone' }] } });
  t.is(overwritten.status, 200);
  const n = await reportsPods(f.admin, [a.metadata.uid]);
  t.deepEqual(n.status.allocated, { cpu: '100m', memory: '64Mi', pods: '1' });
  t.like(n.status.conditions.find((c: any) => c.type === 'Ready'), { status: 'True', reason: 'KcsAgentReady' });
  t.is(agent.stats.heartbeatFailures, 0);
});

// ---- restart and stop -------------------------------------------------------------

test('an agent restarted for the same node rebuilds its pods from the API', async (t) => {
  const f = await fixture(t);
  const first = f.agent();
  await first.start();
  const [a, b] = await createAll(t, f.admin, [[PODS, requesting('a', 'n1', '100m', '64Mi')], [PODS, requesting('b', 'n1', '100m', '64Mi')]]);
  await reportsPods(f.admin, [a.metadata.uid, b.metadata.uid]);
  first.stop();

  // While no agent runs: one more pod is bound, and someone clears the reported pods.
  const [c] = await createAll(t, f.admin, [[PODS, requesting('c', 'n1', '100m', '64Mi')]]);
  t.is((await f.admin.patch(`${nodePath('n1')}/status`, { status: { pods: [], allocated: null } })).status, 200);
  t.deepEqual(await podUids(f.admin), [], 'the stopped agent did not react');

  const second = f.agent();
  await second.start();
  const n = await getNode(f.admin);
  t.deepEqual(n.status.pods, [a.metadata.uid, b.metadata.uid, c.metadata.uid].sort(), 'reported as soon as start resolves');
  t.deepEqual(n.status.allocated, { cpu: '300m', memory: '192Mi', pods: '3' });
  const lease = await getLease(f.admin);
  t.is(lease.spec.holderIdentity, 'n1');
  t.is(second.stats.heartbeatFailures, 0, 'it renewed the Lease the first agent made');
});

test('stop() ends heartbeats and status writes', async (t) => {
  const f = await fixture(t, ['n1', 'n2']);
  const agent = f.agent();
  await agent.start();
  await beat(f, agent);
  // n2's agent runs on, on a clock of its own: what it does below shows what
  // the stopped agent had the chance to do.
  const controlClock = new FakeClock();
  const control = f.agent('n2', undefined, controlClock);
  await control.start();
  agent.stop();
  const lease = await getLease(f.admin);
  const n = await getNode(f.admin);
  const stats = { ...agent.stats };
  // Let any watch the stop closed settle before checking nothing is left to fire.
  await eventually('no timers left', () => f.clock.pending === 0);
  const controlBeats = control.stats.heartbeats;
  f.clock.advance(REFRESH_MS * 3);
  controlClock.advance(REFRESH_MS * 3);
  const [late, lateOnN2] = await createAll(t, f.admin, [[PODS, requesting('late', 'n1', '100m', '64Mi')], [PODS, requesting('late-n2', 'n2', '100m', '64Mi')]]);
  // The running agent has renewed its Lease and reported its new pod.
  await eventually('n2 to renew its Lease', () => control.stats.heartbeats > controlBeats);
  await reportsPods(f.admin, [lateOnN2.metadata.uid], 'n2');
  t.is((await getLease(f.admin)).spec.renewTime, lease.spec.renewTime);
  const after = await getNode(f.admin);
  t.is(after.metadata.resourceVersion, n.metadata.resourceVersion);
  t.false(after.status.pods.includes(late.metadata.uid));
  t.deepEqual(agent.stats, stats);
});

// ---- a node that is not there (yet) -----------------------------------------------

test('an agent whose Node does not exist starts, holds its Lease, and reports once the Node is created', async (t) => {
  const f = await fixture(t, []);
  const agent = f.agent('ghost');
  await agent.start();
  t.is((await f.admin.get(nodePath('ghost'))).status, 404, 'the agent does not create its Node');
  t.is(agent.stats.statusWrites, 0);
  t.like(await getLease(f.admin, 'ghost'), { spec: { holderIdentity: 'ghost' } });
  await beat(f, agent);
  t.is(agent.stats.heartbeatFailures, 0);

  await createAll(t, f.admin, [[NODES, node('ghost')]]);
  const n = await eventually('the node Ready', async () => {
    const got = await getNode(f.admin, 'ghost');
    return got?.status?.conditions?.[0]?.status === 'True' ? got : undefined;
  });
  t.deepEqual(n.status.pods, []);
  t.like(n.status.capacity, { cpu: '4', memory: '8Gi', pods: '110' });
});

test('an agent whose Node is deleted keeps running without writing a status', async (t) => {
  const f = await fixture(t);
  const agent = f.agent();
  await agent.start();
  t.is((await f.admin.delete(nodePath('n1'))).status, 200);
  const writes = agent.stats.statusWrites;
  const checks = agent.stats.healthChecks;
  f.clock.advance(REFRESH_MS);
  // This advance fires the heartbeat, then the status refresh, which queues
  // its write at once; the heartbeat queues its health check behind that
  // write when it is done. So once that check is counted, the refresh has
  // had its go at writing the status.
  await eventually('the heartbeat, and the health check queued after the refresh', () => agent.stats.heartbeats >= 2 && agent.stats.healthChecks > checks);
  t.is((await f.admin.get(nodePath('n1'))).status, 404, 'the Node is not recreated by a status write');
  t.is(agent.stats.statusWrites, writes);
  t.is(agent.stats.heartbeatFailures, 0);
});

test('an agent holding another node\'s token fails to start with 403 Forbidden', async (t) => {
  const f = await fixture(t, ['n1', 'n2']);
  const agent = f.agent('n1', f.admin.cp.nodeTokens.tokenFor('n2'));
  const err = await t.throwsAsync(agent.start(), { instanceOf: ClientError });
  t.is(err.code, 403);
  agent.stop();
  t.falsy((await getNode(f.admin)).status, 'n1 was not written');
  t.is((await f.admin.get(leasePath('n1'))).status, 404);
});
