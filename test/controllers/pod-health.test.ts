// Pod health end to end in a real control plane with virtual nodes: a pod
// made unhealthy restarts on its node, and after its limit moves to another
// node; one that recovers in time stays. Plus the pure rules around it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { RestartBackoff } from '../../src/agent/pod-status.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { mustMove, PodHealthController, restartedContainers } from '../../src/controllers/pod-health.ts';
import { ControllerRunner } from '../../src/controllers/runner.ts';
import { Informer } from '../../src/client/informer.ts';
import { Registry } from '../../src/api/registry.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { decide } from '../../src/scheduler/framework.ts';
import { DEFAULT_FILTERS } from '../../src/scheduler/plugins/filters.ts';
import { firstFit } from '../../src/scheduler/plugins/policies.ts';
import { buildSnapshot } from '../../src/scheduler/snapshot.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
type Event = KubeObject & { reason: string; message: string; type: string };

// ---- pure rules -------------------------------------------------------------------

function pod(annotations: Record<string, string>, restarts: number[], nodeName: string | null = 'a'): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u', annotations },
    spec: { ...(nodeName ? { nodeName } : {}), containers: restarts.map((_, i) => ({ name: `c${i}` })) },
    status: { phase: 'Running', containerStatuses: restarts.map((n, i) => ({ name: `c${i}`, ready: false, restartCount: n })) },
  };
}

test('a pod must move once its most restarted container reaches the limit: its own, else the cluster\'s', (t) => {
  t.false(mustMove(pod({}, [2, 1])));
  t.true(mustMove(pod({}, [3, 0])));
  t.false(mustMove(pod({}, [3]), 4), 'the cluster-wide default');
  t.true(mustMove(pod({ 'kcs.io/max-restarts': '1' }, [1])));
  t.false(mustMove(pod({ 'kcs.io/max-restarts': 'off' }, [50])), '"off": restarted forever on its node');
  t.false(mustMove(pod({}, [3], null)), 'not on a node: nothing to move');
  t.false(mustMove({ ...pod({}, [3]), status: { phase: 'Failed', containerStatuses: [] } }));
  for (const restartPolicy of ['OnFailure', 'Never']) {
    const batch = pod({}, [3]);
    t.false(mustMove({ ...batch, spec: { ...batch.spec, restartPolicy } }), `${restartPolicy}: its restarts are its Job's failures, not a reason to move`);
  }
});

test('restarts are counted on the same node only', (t) => {
  t.deepEqual(restartedContainers(pod({}, [1, 0]), pod({}, [2, 0])), ['c0']);
  t.deepEqual(restartedContainers(pod({}, [1, 0]), pod({}, [1, 0])), []);
  t.deepEqual(restartedContainers(pod({}, [2]), pod({}, [1], 'b')), [], 'a new node is a new count');
  t.deepEqual(restartedContainers(undefined, pod({}, [1])), []);
});

test('the scheduler still keeps a pod off the node named by the old kcs.io/avoid-node, and says so', (t) => {
  const nodes: Node[] = ['a', 'b'].map((name) => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  }));
  const p = { ...pod({ 'kcs.io/avoid-node': 'a' }, [0], null) };
  const req = { pod: p, requests: { milliCpu: 100, memory: 0 } };
  t.is(decide(req, buildSnapshot(nodes, []), DEFAULT_FILTERS, firstFit).node, 'b', 'first-fit would take a');
  const alone = decide(req, buildSnapshot(nodes.slice(0, 1), []), DEFAULT_FILTERS, firstFit);
  t.is(alone.node, undefined);
  t.is(alone.message, '0/1 nodes are available: 1 node(s) the pod failed its health check on.');
});

// ---- in a control plane -----------------------------------------------------------

async function cluster(t: ExecutionContext, restartBackoff: RestartBackoff) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-pod-health-'));
  const runtime = new VirtualRuntime({ transport: 'in-process', restartBackoff });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 100, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(cp.registry, { user: ADMIN_USER });
  // first-fit places every pod on "a" (first by name); "b" is where a failing one goes.
  for (const name of ['a', 'b']) await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4' } } });
  await eventually('nodes Ready', async () => (await client.list<Node>(NODE)).items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')));
  // Every version of every pod, in order: what happened, not only where it ended.
  const history: Pod[] = [];
  const watch = client.watch(POD, 'default', { resourceVersion: '0' }, (e) => { if (e.type !== 'BOOKMARK' && e.type !== 'ERROR') history.push(e.object as Pod); });
  t.teardown(() => watch.stop());
  return { client, history };
}

const make = (client: LocalClient, name: string, annotations: Record<string, string> = {}) =>
  client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations }, spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m' } } }] } });

const restartsOf = (p: Pod) => p.status?.containerStatuses?.[0]?.restartCount;
const isReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const events = async (client: LocalClient) => (await client.list<Event>(EVENT, 'default')).items;

test('a pod made unhealthy restarts on its node with back-off, and at the limit is moved to another node, where it starts from 0', async (t) => {
  t.timeout(60_000);
  const { client, history } = await cluster(t, { baseMs: 100, maxMs: 400 });
  await make(client, 'web');
  await eventually('web Ready on a', async () => { const p = await client.get<Pod>(POD, 'default', 'web'); return p.spec.nodeName === 'a' && isReady(p); }, 15_000);
  await client.patch(POD, 'default', 'web', { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } });

  const moved = await eventually('a Moved event', async () => (await events(client)).find((e) => e.reason === 'Moved'), 15_000);
  t.is(moved.message, 'pod web moved from a to b after pod web failed its health check 3 times on a (policy first-fit)');
  const all = await events(client);
  const limit = all.find((e) => e.reason === 'TooManyRestarts')!;
  t.is(limit.type, 'Warning');
  t.regex(limit.message, /^pod web failed its health check 3 times on a \(limit 3\)/);
  const backoffs = all.filter((e) => e.reason === 'BackOff' && / on a /.test(e.message)).map((e) => e.message).sort();
  t.deepEqual(backoffs, [1, 2, 3].map((n) => `Back-off restarting failed container app in pod web on a (restart ${n}${n === 3 ? ', limit reached: moving it' : ', moves after 3'})`));

  // What happened on a: counts rising one at a time, each after a CrashLoopBackOff wait.
  const onA = history.filter((p) => p.metadata.name === 'web' && p.spec.nodeName === 'a' && p.status?.containerStatuses);
  const counts = [...new Set(onA.map(restartsOf))];
  t.deepEqual(counts, [0, 1, 2, 3]);
  t.true(onA.some((p) => restartsOf(p) === 2 && p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'));
  // Unbound: Pending with no statuses from a, kept off a.
  const unbound = history.find((p) => p.metadata.name === 'web' && !p.spec.nodeName && p.metadata.annotations?.['kcs.io/moved-from'] === 'a')!;
  t.is(unbound.status?.phase, 'Pending');
  t.is(unbound.status?.containerStatuses, undefined, 'what a reported is not carried to the next node');
  t.false(unbound.status?.conditions?.some((c) => c.type === 'Ready'));
  t.regex(unbound.metadata.annotations?.['kcs.io/failed-nodes'] ?? '', /^a=[0-9TZ:-]+\/[0-9TZ:-]+$/, 'a remembered, with when and until when');
  // On b: a fresh count (b's agent reports it after the Moved event: wait for it).
  const firstOnB = await eventually('web reported by b', () => history.find((p) => p.metadata.name === 'web' && p.spec.nodeName === 'b' && p.status?.containerStatuses), 15_000);
  t.is(firstOnB && restartsOf(firstOnB), 0);
  const now = await client.get<Pod>(POD, 'default', 'web');
  t.true(now.metadata.annotations?.['kcs.io/failed-nodes']?.startsWith('a='), 'kept after binding');
});

test('a pod whose annotation is removed before the limit is Ready again on the same node, and a per-pod limit moves another at once', async (t) => {
  t.timeout(60_000);
  // 1 s back-off: time enough to take the annotation off after the first restart.
  const { client, history } = await cluster(t, { baseMs: 1000, maxMs: 4000 });
  await make(client, 'api');
  await make(client, 'eager', { 'kcs.io/max-restarts': '1' });
  await eventually('both Ready on a', async () => (await client.list<Pod>(POD, 'default')).items.every((p) => p.spec.nodeName === 'a' && isReady(p)), 15_000);
  for (const name of ['api', 'eager']) await client.patch(POD, 'default', name, { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } });

  await eventually('api restarted once', async () => restartsOf(await client.get<Pod>(POD, 'default', 'api')) === 1, 15_000);
  await client.patch(POD, 'default', 'api', { metadata: { annotations: { 'kcs.io/simulate-unhealthy': null } } });
  const recovered = await eventually('api Ready again', async () => { const p = await client.get<Pod>(POD, 'default', 'api'); return isReady(p) ? p : undefined; }, 15_000);
  t.is(recovered.spec.nodeName, 'a', 'it stays where it is');
  t.is(restartsOf(recovered), 1, 'after one restart');
  t.truthy(recovered.status?.containerStatuses?.[0]?.state?.running);

  const moved = await eventually('eager moved', async () => (await events(client)).find((e) => e.reason === 'Moved' && e.message.startsWith('pod eager ')), 15_000);
  t.is(moved.message, 'pod eager moved from a to b after pod eager failed its health check 1 time on a (policy first-fit)');
  const eagerOnA = history.filter((p) => p.metadata.name === 'eager' && p.spec.nodeName === 'a');
  t.is(Math.max(...eagerOnA.map((p) => restartsOf(p) ?? 0)), 1, 'its own limit of 1, not the default 3');
  t.false((await events(client)).some((e) => e.message.startsWith('pod api ') && e.reason === 'Moved'), 'api never moved');
});

test('a pod failing on every node stops moving: it waits Pending, saying where it failed and when it will try again', async (t) => {
  t.timeout(60_000);
  const { client, history } = await cluster(t, { baseMs: 100, maxMs: 400 });
  await make(client, 'doomed', { 'kcs.io/simulate-unhealthy': 'true', 'kcs.io/max-restarts': '1' });
  const cond = await eventually('doomed Unschedulable after failing on a and b', async () => {
    const c = (await client.get<Pod>(POD, 'default', 'doomed')).status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.reason === 'Unschedulable' ? c : undefined;
  }, 30_000);
  t.regex(cond.message ?? '', /^0\/2 nodes are available: 2 node\(s\) the pod failed its health check on\. Failed its health check on every node: a, b; retrying after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.$/);
  const doomed = await client.get<Pod>(POD, 'default', 'doomed');
  t.is(doomed.spec.nodeName, undefined);
  t.is(doomed.status?.phase, 'Pending');
  t.deepEqual(doomed.metadata.annotations?.['kcs.io/failed-nodes']?.split(',').map((e) => e.split('=')[0]), ['a', 'b']);
  // It went a -> b once, and never back.
  const placements = history.filter((p) => p.metadata.name === 'doomed' && p.spec.nodeName).map((p) => p.spec.nodeName);
  t.deepEqual([...new Set(placements)], ['a', 'b']);
  t.is((await events(client)).filter((e) => e.reason === 'Moved' && e.message.startsWith('pod doomed ')).length, 1);
});

test('the pod-health controller remembers each node for the configured time, on its clock, and replaces the old annotation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-pod-health-clock-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const clock = new FakeClock('2026-05-01T10:00:00Z');
  const pods = new Informer<Pod>(client, POD);
  const controller = new PodHealthController({ client, pods, clock, failedNodeMemoryMs: 2 * 60_000, maxRestarts: 1 });
  const runner = new ControllerRunner(controller, { clock });
  pods.on(controller.podHandlers((key) => runner.enqueue(key)));
  t.teardown(async () => { await runner.stop(); pods.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await pods.start();
  runner.start();
  const failOn = async (node: string) => {
    const p = await client.get<Pod>(POD, 'default', 'web');
    await client.commit([{ verb: 'update', kind: POD, subresource: 'binding', object: { ...p, spec: { ...p.spec, nodeName: node } } }]);
    await client.patch(POD, 'default', 'web', { status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 1 }] } }, { subresource: 'status' });
    return eventually(`web moved off ${node}`, async () => { const q = await client.get<Pod>(POD, 'default', 'web'); return q.spec.nodeName ? undefined : q; });
  };
  await client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', annotations: { 'kcs.io/avoid-node': 'old' } }, spec: { containers: [{ name: 'app' }] } });

  const first = await failOn('a');
  t.is(first.metadata.annotations?.['kcs.io/failed-nodes'], 'old=2026-05-01T10:00:00Z/2026-05-01T10:02:00Z,a=2026-05-01T10:00:00Z/2026-05-01T10:02:00Z');
  t.is(first.metadata.annotations?.['kcs.io/avoid-node'], undefined, 'folded into the list');

  clock.advance(60_000);
  const second = await failOn('b');
  t.is(second.metadata.annotations?.['kcs.io/failed-nodes'], 'old=2026-05-01T10:00:00Z/2026-05-01T10:02:00Z,a=2026-05-01T10:00:00Z/2026-05-01T10:02:00Z,b=2026-05-01T10:01:00Z/2026-05-01T10:03:00Z');

  clock.advance(90_000);
  const third = await failOn('c');
  t.is(third.metadata.annotations?.['kcs.io/failed-nodes'], 'b=2026-05-01T10:01:00Z/2026-05-01T10:03:00Z,c=2026-05-01T10:02:30Z/2026-05-01T10:04:30Z', 'old and a expired at 10:02');
});
