// The scheduler controller in a real control plane with virtual nodes:
// bind per policy, never overcommit, explain, retry when the cluster changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { CONTROLLERS_USER } from '../../src/api/controller-auth.ts';
import { Client } from '../../src/client/http.ts';
import { EventRecorder } from '../../src/client/events.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;


async function cluster(t: ExecutionContext, nodes: Array<[string, string]>) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-sched-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(cp.registry, { user: ADMIN_USER });
  for (const [name, cpu] of nodes) await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } } });
  await eventually('nodes Ready', async () => (await client.list<Node>(NODE)).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === nodes.length);
  return { cp, client };
}

const pod = (name: string, cpu: string, schedulerName?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { ...(schedulerName ? { schedulerName } : {}), containers: [{ name: 'c', resources: { requests: { cpu } } }] },
});

const boundTo = (client: LocalClient, name: string) => eventually(`${name} bound`, async () => (await client.get<Pod>(POD, 'default', name)).spec.nodeName);

test('each policy named by a pod places it where that policy says', async (t) => {
  // small: 2 CPUs, medium: 4, large: 8; nothing bound yet.
  const { client } = await cluster(t, [['small', '2'], ['medium', '4'], ['large', '8']]);
  await client.create(POD, 'default', pod('ff', '1', 'first-fit'));
  t.is(await boundTo(client, 'ff'), 'large', 'first in name order: large, medium, small');
  await client.create(POD, 'default', pod('bf', '2', 'best-fit'));
  t.is(await boundTo(client, 'bf'), 'small', 'an exact fit leaves nothing');
  await client.create(POD, 'default', pod('wf', '1', 'worst-fit'));
  t.is(await boundTo(client, 'wf'), 'large', 'large has 7 left, medium 4');
});

test('a bound pod becomes Running once its node reports it, with PodScheduled and a Scheduled event', async (t) => {
  const { client } = await cluster(t, [['n1', '4']]);
  await client.create(POD, 'default', pod('web', '500m'));
  const running = await eventually('Running', async () => {
    const p = await client.get<Pod>(POD, 'default', 'web');
    return p.status?.phase === 'Running' ? p : undefined;
  });
  t.is(running.spec.nodeName, 'n1');
  t.is(running.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  const node = await eventually('node reports the pod', async () => {
    const n = await client.get<Node>(NODE, undefined, 'n1');
    return n.status?.pods?.includes(running.metadata.uid!) ? n : undefined;
  });
  t.is(node.status?.allocated?.cpu, '500m');
  const events = (await client.list<KubeObject & { reason: string; message: string }>(EVENT, 'default')).items;
  t.true(events.some((e) => e.reason === 'Scheduled' && /web to n1/.test(e.message)));
});

test('nodes are never overcommitted: 20 one-CPU pods on two 4-CPU nodes bind exactly 8', async (t) => {
  const { client } = await cluster(t, [['a', '4'], ['b', '4']]);
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.create(POD, 'default', pod(`p${i}`, '1'))));
  const pods = await eventually('8 bound and 12 Unschedulable', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    const bound = items.filter((p) => p.spec.nodeName);
    const refused = items.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
    return bound.length === 8 && refused.length === 12 ? items : undefined;
  });
  const perNode = (n: string) => pods.filter((p) => p.spec.nodeName === n).length;
  t.is(perNode('a'), 4);
  t.is(perNode('b'), 4);
});

test('a pod too large stays Pending saying why, and binds as soon as a big enough node is added', async (t) => {
  const { client } = await cluster(t, [['s1', '2'], ['s2', '2'], ['s3', '2']]);
  await client.create(POD, 'default', pod('big', '6'));
  const cond = await eventually('Unschedulable', async () => {
    const p = await client.get<Pod>(POD, 'default', 'big');
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.reason === 'Unschedulable' ? c : undefined;
  });
  t.is(cond.status, 'False');
  t.is(cond.message, '0/3 nodes are available: 3 Insufficient cpu.');
  t.is((await client.get<Pod>(POD, 'default', 'big')).status?.phase, 'Pending');
  // The Event is written after the condition: wait for it too.
  await eventually('a FailedScheduling Event with the same message', async () => (await client.list<KubeObject & { reason: string; message: string }>(EVENT, 'default')).items
    .some((e) => e.reason === 'FailedScheduling' && e.message === cond.message));
  // Not a poll: the resync is 30 s away; the new node's arrival is what brings the retry.
  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'huge' }, spec: { capacity: { cpu: '8' } } });
  t.is(await boundTo(client, 'big'), 'huge');
});

test('deleting a pod frees its node for a pending one', async (t) => {
  const { client } = await cluster(t, [['n1', '2']]);
  await client.create(POD, 'default', pod('first', '2'));
  await boundTo(client, 'first');
  await client.create(POD, 'default', pod('second', '2'));
  await eventually('second Unschedulable', async () => (await client.get<Pod>(POD, 'default', 'second')).status?.conditions?.some((c) => c.reason === 'Unschedulable'));
  await client.delete(POD, 'default', 'first');
  t.is(await boundTo(client, 'second'), 'n1');
});

test('a pod naming a scheduler kcs does not run is left alone', async (t) => {
  const { client } = await cluster(t, [['n1', '4']]);
  await client.create(POD, 'default', pod('theirs', '1', 'someone-else'));
  await client.create(POD, 'default', pod('ours', '1'));
  await boundTo(client, 'ours');
  const theirs = await client.get<Pod>(POD, 'default', 'theirs');
  t.is(theirs.spec.nodeName, undefined);
  t.is(theirs.status?.conditions, undefined);
});

test('the default policy follows the SchedulerConfiguration applied at runtime', async (t) => {
  const { cp, client } = await cluster(t, [['a', '2'], ['b', '8']]);
  const CONF = kindByName('SchedulerConfiguration')!;
  const defaultPolicy = () => cp.controllers!.scheduler.policyFor(pod('probe', '1') as unknown as Pod).name;
  await client.create(POD, 'default', pod('p1', '1'));
  t.is(await boundTo(client, 'p1'), 'a', 'first-fit before any configuration');
  await client.create(CONF, undefined, { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'worst-fit' } });
  // The configuration reaches the scheduler through its informer.
  await eventually('worst-fit in force', async () => defaultPolicy() === 'worst-fit');
  await client.create(POD, 'default', pod('p2', '1'));
  t.is(await boundTo(client, 'p2'), 'b', 'worst-fit: b has 8 left');
  await client.patch(CONF, undefined, 'default', { spec: { defaultPolicy: 'best-fit' } });
  await eventually('best-fit in force', async () => defaultPolicy() === 'best-fit');
  await client.create(POD, 'default', pod('p3', '1'));
  t.is(await boundTo(client, 'p3'), 'a', 'best-fit: a would keep 0');
});

test('the last decision is kept in the pod status: each node, its filter result and score', async (t) => {
  const { client } = await cluster(t, [['small', '1'], ['big', '4']]);
  await client.create(POD, 'default', pod('p', '2', 'best-fit'));
  await boundTo(client, 'p');
  const record = await eventually('scheduling record', async () => (await client.get<Pod>(POD, 'default', 'p')).status?.scheduling as
    { policy: string; node: string; nodes: Array<{ name: string; fits: boolean; reasons?: string[]; score?: number }> } | undefined);
  t.is(record.policy, 'best-fit');
  t.is(record.node, 'big');
  t.deepEqual(record.nodes, [
    { name: 'big', fits: true, score: -2000 },
    { name: 'small', fits: false, reasons: ['Insufficient cpu'] },
  ]);
});

test('a SchedulerConfiguration naming an unknown policy is refused', async (t) => {
  const { client } = await cluster(t, []);
  const err = await t.throwsAsync(client.create(kindByName('SchedulerConfiguration')!, undefined, { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'random' } }));
  t.is((err as { code?: number }).code, 422);
});

const raceOverTransport = test.macro(async (t, transport: 'in-process' | 'http') => {
  t.timeout(120_000);
  // 10 nodes of 40 CPUs: room for exactly 400 one-CPU pods.
  const nodes = Array.from({ length: 10 }, (_, i): [string, string] => [`r${i}`, '40']);
  const { cp, client } = await cluster(t, nodes);
  // A second scheduler with its own informers and client, deciding from its
  // own snapshots, acting as the controllers' identity over the transport
  // under test; both bind with the same batched commit operation.
  const { Informer } = await import('../../src/client/informer.ts');
  const { ControllerRunner } = await import('../../src/controllers/runner.ts');
  const { SchedulerController } = await import('../../src/controllers/scheduler.ts');
  const other = transport === 'http' ? new Client({ server: cp.url, token: cp.controllerToken }) : cp.clientAs(CONTROLLERS_USER);
  t.teardown(() => other.close());
  const pods2 = new Informer<Pod>(other, POD);
  const nodes2 = new Informer<Node>(other, NODE);
  const second = new SchedulerController({ client: other, pods: pods2, nodes: nodes2, events: new EventRecorder(other, 'second-scheduler'), schedulerName: 'second-scheduler',
    // Binding in the background, batched, as the control plane's scheduler does.
    requeue: (key) => { refusedBindings++; runner2.queue.addAfter(key, 100); } });
  // Bindings of the second scheduler refused at write time (its view was stale): the race happened.
  let refusedBindings = 0;
  const runner2 = new ControllerRunner(second, { workers: 4 });
  const key = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
  pods2.on({ add: (p) => { if (second.isPending(p)) runner2.enqueue(key(p)); }, update: (_q, p) => { if (second.isPending(p)) runner2.enqueue(key(p)); } });
  await nodes2.start();
  await pods2.start();
  runner2.start();
  t.teardown(async () => { pods2.stop(); nodes2.stop(); await runner2.stop(); });

  // Every other pod is the second scheduler's: each decides from its own
  // cache, blind to what the other has just placed, over the same nodes.
  // Created over HTTP in waves, as users would, so both are deciding and
  // binding while nodes fill.
  const user = new Client({ server: cp.url, token: cp.adminToken });
  t.teardown(() => user.close());
  await user.create(kindByName('Namespace')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'race' } });
  for (let wave = 0; wave < 1000; wave += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => wave + j).map((i) => user.create(POD, 'race', { ...pod(`p${i}`, '1', i % 2 ? 'second-scheduler' : undefined), metadata: { name: `p${i}`, namespace: 'race' } })));
  }
  const settled = await eventually('400 bound, the rest refused', async () => {
    const items = (await client.list<Pod>(POD, 'race')).items;
    const bound = items.filter((p) => p.spec.nodeName).length;
    const refused = items.filter((p) => !p.spec.nodeName && p.status?.conditions?.some((c) => c.reason === 'Unschedulable')).length;
    return bound === 400 && refused === 600 ? items : undefined;
  }, 90_000);
  for (const [name] of nodes) {
    const cpu = settled.filter((p) => p.spec.nodeName === name).length;
    t.true(cpu <= 40, `${name} holds ${cpu} CPUs of 40`);
  }
  // Once the agents have reported: no overcommit, no pod on two nodes, every bound pod listed.
  await eventually('the invariants hold', async () => checkInvariants((await client.list<Node>(NODE)).items, (await client.list<Pod>(POD)).items).length === 0, 30_000);
  t.deepEqual(checkInvariants((await client.list<Node>(NODE)).items, (await client.list<Pod>(POD)).items), []);
  // They raced for real: both bound pods onto the same nodes (the
  // second's Scheduled events say which), each pod once.
  const secondBound = (await client.list<KubeObject & { reason?: string; source?: { component?: string } }>(EVENT, 'race')).items
    .filter((e) => e.reason === 'Scheduled' && e.source?.component === 'second-scheduler').length;
  t.true(secondBound > 0, `the second scheduler bound ${secondBound} and was refused ${refusedBindings} bindings over ${transport}`);
  t.is(settled.filter((p) => p.spec.schedulerName === 'second-scheduler' && p.spec.nodeName).length, secondBound, 'every pod it bound, it bound once');
});

test('two schedulers racing over 1,000 pods never overcommit a node (the second in-process)', raceOverTransport, 'in-process');
test('two schedulers racing over 1,000 pods never overcommit a node (the second over HTTP)', raceOverTransport, 'http');
