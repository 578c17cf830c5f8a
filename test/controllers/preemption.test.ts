// Preemption in a real control plane with virtual nodes: a pod that fits
// nowhere evicts the fewest, least important pods of lower priority on the
// best node, waits for their room (nominated) and binds there; each victim
// is told, an owned one deleted and a bare one sent back to Pending. A pod
// whose policy is Never, or of no higher priority, evicts nobody.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { isNotFound } from '../../src/client/interface.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import type { SchedulingRecord } from '../../src/scheduler/explain.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
const SERVICE = kindByName('Service')!;
const PRIORITY_CLASS = kindByName('PriorityClass')!;
type Event = KubeObject & { reason: string; message: string; type: string; involvedObject: { name: string; uid?: string } };

const CLASSES = { low: 10, mid: 100, high: 1000 } as const;
type ClassName = keyof typeof CLASSES | 'high-never';

/** Nodes labelled slot=<name>, so a pod can be put on one with a selector; the PriorityClasses every test uses. */
async function cluster(t: ExecutionContext, nodes: Array<[string, string]>) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-preempt-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(cp.registry, { user: ADMIN_USER });
  for (const [name, value] of Object.entries(CLASSES)) {
    await client.create(PRIORITY_CLASS, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
  }
  await client.create(PRIORITY_CLASS, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high-never' }, value: CLASSES.high, preemptionPolicy: 'Never' });
  for (const [name, cpu] of nodes) await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { slot: name } }, spec: { capacity: { cpu } } });
  await eventually('nodes Ready', async () => (await client.list<Node>(NODE)).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === nodes.length);
  // Every version of every pod, in order: what happened on the way, not only where it ended.
  const history: Pod[] = [];
  const watch = client.watch(POD, 'default', { resourceVersion: '0' }, (e) => { if (e.type !== 'BOOKMARK' && e.type !== 'ERROR') history.push(e.object as Pod); });
  t.teardown(() => watch.stop());
  return { client, history, cp };
}

interface PodOptions { cls: ClassName; cpu: string; on?: string; owner?: KubeObject }

/** A pod of a PriorityClass; its priority (and policy) stated as admission computes them, so it reads the same with or without it. */
function pod(name: string, { cls, cpu, on, owner }: PodOptions): Pod {
  const never = cls === 'high-never';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name,
      ...(owner ? { ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }] } : {}),
    },
    spec: {
      priorityClassName: cls, priority: never ? CLASSES.high : CLASSES[cls], preemptionPolicy: never ? 'Never' : 'PreemptLowerPriority',
      ...(on ? { nodeSelector: { slot: on } } : {}),
      containers: [{ name: 'c', resources: { requests: { cpu } } }],
    },
  };
}

const get = (client: LocalClient, name: string) => client.get<Pod>(POD, 'default', name);
const events = async (client: LocalClient) => (await client.list<Event>(EVENT, 'default')).items;
const unschedulable = (client: LocalClient, name: string) => eventually(`${name} Unschedulable`, async () => {
  const c = (await get(client, name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.reason === 'Unschedulable' ? c : undefined;
});

/** Creates the pods and waits until each is Running where its selector put it. */
async function running(client: LocalClient, pods: Pod[]): Promise<void> {
  for (const p of pods) await client.create(POD, 'default', p);
  await eventually('the pods Running', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    return pods.every((p) => items.some((i) => i.metadata.name === p.metadata.name && i.status?.phase === 'Running'));
  });
}

test('a pod that fits nowhere evicts the fewest, least important pods on the best node, and binds there once they are gone', async (t) => {
  const { client, history, cp } = await cluster(t, [['n1', '4'], ['n2', '4']]);
  // Any controller owner will do: kcs has no ReplicaSets, and a Service without a selector makes nothing.
  const owner = (await client.create(SERVICE, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'owner' }, spec: { ports: [{ port: 80 }] } })).body;
  // n1: four pods of priority 100, one CPU each. n2: two of priority 10 (one owned, one bare) and one of 100 taking two CPUs.
  await running(client, [
    ...[1, 2, 3, 4].map((i) => pod(`mid-${i}`, { cls: 'mid', cpu: '1', on: 'n1' })),
    pod('low-bare', { cls: 'low', cpu: '1', on: 'n2' }),
    pod('low-owned', { cls: 'low', cpu: '1', on: 'n2', owner }),
    pod('mid-big', { cls: 'mid', cpu: '2', on: 'n2' }),
  ]);

  const urgent = (await client.create<Pod>(POD, 'default', pod('urgent', { cls: 'high', cpu: '2' }))).body;
  const bound = await eventually('urgent bound', async () => { const p = await get(client, 'urgent'); return p.spec.nodeName ? p : undefined; });
  t.is(bound.spec.nodeName, 'n2', 'n2 costs two pods of priority 10; n1 would cost two of 100');
  t.true(history.some((p) => p.metadata.name === 'urgent' && !p.spec.nodeName && p.status?.nominatedNodeName === 'n2'), 'it waited nominated to n2');
  t.is(bound.status?.nominatedNodeName, undefined, 'the nomination is done with once bound');

  // The decision, as `kcs describe pod` prints it.
  const preemption = (bound.status?.scheduling as SchedulingRecord).preemption!;
  t.is(preemption.node, 'n2');
  t.is(preemption.reason, 'node n2: 2 victims of max priority 10 (n1 would need 2 victims of max priority 100)');
  t.deepEqual(preemption.victims.map((v) => [v.pod, v.priority, v.outcome]).sort(), [['default/low-bare', 10, 'unbound'], ['default/low-owned', 10, 'deleted']]);

  // Exactly those two: the pods of priority 100 all stay where they were.
  for (const name of ['mid-1', 'mid-2', 'mid-3', 'mid-4']) t.is((await get(client, name)).spec.nodeName, 'n1', name);
  t.is((await get(client, 'mid-big')).spec.nodeName, 'n2', 'reprieved: the pod fits beside it');

  // The owned victim is deleted (its owner would make another)...
  const ownedErr = await t.throwsAsync(get(client, 'low-owned'));
  t.true(isNotFound(ownedErr));
  const ownedLast = history.filter((p) => p.metadata.name === 'low-owned').at(-1)!;
  t.like(ownedLast.status?.conditions?.find((c) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod' });
  // ... the bare one goes back to Pending, and with the room on n2 held for nobody else, waits there.
  const bare = await get(client, 'low-bare');
  t.is(bare.spec.nodeName, undefined);
  t.is(bare.status?.phase, 'Pending');
  t.like(bare.status?.conditions?.find((c) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'PreemptionByScheduler' });
  t.regex(bare.metadata.annotations?.['kcs.io/moved-because'] ?? '', /^preempted by default\/urgent \(priority 1000\) on n2$/);
  await unschedulable(client, 'low-bare');

  // Each victim is told, in Kubernetes' words, by whom and where.
  const preempted = await eventually('two Preempted events', async () => {
    const list = (await events(client)).filter((e) => e.reason === 'Preempted');
    return list.length === 2 ? list : undefined;
  });
  t.deepEqual(preempted.map((e) => e.involvedObject.name).sort(), ['low-bare', 'low-owned']);
  for (const e of preempted) {
    t.is(e.type, 'Normal');
    t.is(e.message, `Preempted by pod ${urgent.metadata.uid} on node n2 (default/urgent, priority 1000)`);
  }

  // And counted, under kube-scheduler's metric names: the bare victim, Pending again, may try too (and evict nobody).
  const exposition = await cp.metrics.exposition();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition)?.[1]);
  t.true(value('scheduler_preemption_attempts_total') >= 1);
  t.is(value('scheduler_preemption_victims_sum'), 2, 'two victims, in one attempt that evicted');
  t.is(value('scheduler_preemption_victims_count'), 1);
});

test('a pod whose preemptionPolicy is Never evicts nobody: it waits its turn and binds when room is freed', async (t) => {
  const { client } = await cluster(t, [['n1', '2']]);
  await running(client, [pod('low-1', { cls: 'low', cpu: '1' }), pod('low-2', { cls: 'low', cpu: '1' })]);
  await client.create(POD, 'default', pod('patient', { cls: 'high-never', cpu: '2' }));
  const cond = await unschedulable(client, 'patient');
  t.is(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  // The decision was made (the condition above): nobody was evicted.
  for (const name of ['low-1', 'low-2']) t.is((await get(client, name)).spec.nodeName, 'n1', name);
  t.false((await events(client)).some((e) => e.reason === 'Preempted'));
  t.is((await get(client, 'patient')).status?.nominatedNodeName, undefined);
  // Its turn comes when room is given back.
  await client.delete(POD, 'default', 'low-1');
  await client.delete(POD, 'default', 'low-2');
  t.is(await eventually('patient bound', async () => (await get(client, 'patient')).spec.nodeName), 'n1');
});

test('a pod never preempts pods of its own priority or higher, only says why not', async (t) => {
  // n1 is full of pods of priority 100; n2 holds one of priority 10 but is too small for the pod even empty.
  const { client } = await cluster(t, [['n1', '2'], ['n2', '1']]);
  await running(client, [pod('mid-1', { cls: 'mid', cpu: '1', on: 'n1' }), pod('mid-2', { cls: 'mid', cpu: '1', on: 'n1' }), pod('low', { cls: 'low', cpu: '1', on: 'n2' })]);
  await client.create(POD, 'default', pod('peer', { cls: 'mid', cpu: '2' }));
  const cond = await unschedulable(client, 'peer');
  t.is(cond.message, '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  for (const [name, node] of [['mid-1', 'n1'], ['mid-2', 'n1'], ['low', 'n2']]) t.is((await get(client, name)).spec.nodeName, node, name);
  t.false((await events(client)).some((e) => e.reason === 'Preempted'));
  t.is((await get(client, 'peer')).status?.nominatedNodeName, undefined);
});
