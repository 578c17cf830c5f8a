// The scheduler controller over a real registry, on the injected clock, its
// runner wired as the control plane wires it: pods of higher priority are
// decided first; a node full of finished pods takes new ones; a pod that
// failed its health check on every node waits, says so, and is placed when
// the first of those nodes is free to take it again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { EventRecorder } from '../../src/client/events.ts';
import { Informer } from '../../src/client/informer.ts';
import { ControllerRunner } from '../../src/controllers/runner.ts';
import { SchedulerController } from '../../src/controllers/scheduler.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { FAILED_NODES, withFailure } from '../../src/objects/pod-health.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import type { SchedulingRecord } from '../../src/scheduler/explain.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const PRIORITY_CLASS = kindByName('PriorityClass')!;
const EVENT = kindByName('Event')!;
const MIN = 60_000;

async function setup(t: ExecutionContext, nodes: Array<[string, string]>) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-sched-queue-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const clock = new FakeClock('2026-05-01T10:00:00Z');
  const pods = new Informer<Pod>(client, POD);
  const nodeInformer = new Informer<Node>(client, NODE);
  const scheduler = new SchedulerController({ client, pods, nodes: nodeInformer, events: new EventRecorder(client, 'scheduler', { clock }), clock });
  const runner = new ControllerRunner(scheduler, { clock, workers: 1 });
  const enqueue = (key: string) => runner.enqueue(key);
  pods.on(scheduler.podHandlers(enqueue));
  nodeInformer.on(scheduler.nodeHandlers(enqueue));
  t.teardown(async () => { await runner.stop(); pods.stop(); nodeInformer.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  for (const [name, cpu] of nodes) {
    await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } } });
    await client.patch(NODE, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  }
  await nodeInformer.start();
  await pods.start();
  return { client, clock, runner, scheduler };
}

const pod = (name: string, cpu: string, spec: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(annotations ? { annotations } : {}) },
  spec: { ...spec, containers: [{ name: 'c', resources: { requests: { cpu } } }] },
});
const get = (client: LocalClient, name: string) => client.get<Pod>(POD, 'default', name);
const scheduledCondition = async (client: LocalClient, name: string) => (await get(client, name)).status?.conditions?.find((c) => c.type === 'PodScheduled');

test('pods of higher priority are decided first, and pods of equal priority in the order they came', async (t) => {
  const { client, runner } = await setup(t, [['n1', '1']]);
  await client.create(PRIORITY_CLASS, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'polite' }, value: 10, preemptionPolicy: 'Never' });
  // Room for one. Created (and queued) low first; the two of priority 10 may not preempt,
  // so whoever is decided first keeps the node.
  const polite = { priorityClassName: 'polite' };
  for (const p of [pod('first-low', '1'), pod('second-high', '1', polite), pod('third-high', '1', polite)]) {
    await client.create(POD, 'default', p);
  }
  await eventually('the three pods queued', () => runner.queue.length === 3);
  runner.start();
  await eventually('one bound, two Unschedulable', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    return items.filter((p) => p.spec.nodeName).length === 1
      && items.filter((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable')).length === 2;
  });
  t.is((await get(client, 'second-high')).spec.nodeName, 'n1', 'the higher priority, and of the two the first queued');
  t.is((await get(client, 'third-high')).spec.nodeName, undefined);
  t.is((await get(client, 'first-low')).spec.nodeName, undefined);
  t.is((await get(client, 'second-high')).spec.priority, 10, 'admission gave it its class\'s priority');
});

test('a node full of finished pods takes new ones: Succeeded and Failed pods hold no room', async (t) => {
  const { client, runner } = await setup(t, [['n1', '2']]);
  runner.start();
  for (const name of ['done', 'broke']) await client.create(POD, 'default', pod(name, '1'));
  await eventually('both bound', async () => (await client.list<Pod>(POD, 'default')).items.every((p) => p.spec.nodeName === 'n1'));
  await client.create(POD, 'default', pod('waiting', '1'));
  await eventually('waiting Unschedulable', async () => (await scheduledCondition(client, 'waiting'))?.reason === 'Unschedulable');
  // They end (as their agent reports it); they stay on the node, finished.
  await client.patch(POD, 'default', 'done', { status: { phase: 'Succeeded' } }, { subresource: 'status' });
  await client.patch(POD, 'default', 'broke', { status: { phase: 'Failed' } }, { subresource: 'status' });
  t.is(await eventually('waiting bound', async () => (await get(client, 'waiting')).spec.nodeName), 'n1');
  await client.create(POD, 'default', pod('another', '1'));
  t.is(await eventually('another bound', async () => (await get(client, 'another')).spec.nodeName), 'n1', 'the node holds two finished pods and two running: room for exactly two');
  t.is((await client.list<Pod>(POD, 'default')).items.filter((p) => p.spec.nodeName === 'n1').length, 4);
});

test('a pod that failed its health check on every node stays Pending saying so, and is placed when the first node may take it again', async (t) => {
  const { client, clock, runner } = await setup(t, [['n1', '4'], ['n2', '4']]);
  const now = clock.now();
  // As the pod-health controller leaves it: n1 avoided for 10 minutes, n2 (failed on at the same moment) for 5.
  const failed = `${withFailure(pod('x', '0'), 'n1', now, 10 * MIN)},${withFailure(pod('x', '0'), 'n2', now, 5 * MIN)}`;
  await client.create(POD, 'default', pod('flaky', '100m', {}, { [FAILED_NODES]: failed }));
  runner.start();
  const cond = await eventually('flaky Unschedulable', () => scheduledCondition(client, 'flaky').then((c) => (c?.reason === 'Unschedulable' ? c : undefined)));
  t.is(cond.message, '0/2 nodes are available: 2 node(s) the pod failed its health check on. Failed its health check on every node: n1, n2; retrying after 2026-05-01T10:05:00Z.');
  const waiting = await get(client, 'flaky');
  t.is(waiting.status?.phase, 'Pending');
  t.deepEqual((waiting.status?.scheduling as SchedulingRecord).nodes.map((n) => n.reasons), [
    ['the pod failed its health check here at 2026-05-01T10:00:00Z (kept off until 2026-05-01T10:10:00Z)'],
    ['the pod failed its health check here at 2026-05-01T10:00:00Z (kept off until 2026-05-01T10:05:00Z)'],
  ]);
  await eventually('a FailedScheduling event saying so', async () => (await client.list<KubeObject & { reason: string; message: string }>(EVENT, 'default')).items
    .some((e) => e.reason === 'FailedScheduling' && e.message === cond.message));

  // Nothing in the cluster changes; time alone frees n2 (first-fit would take n1, still excluded).
  const reconciles = runner.stats.reconciles;
  clock.advance(5 * MIN);
  t.is(await eventually('flaky bound', async () => (await get(client, 'flaky')).spec.nodeName), 'n2');
  t.true(runner.stats.reconciles > reconciles, 'tried again at the expiry');
});
