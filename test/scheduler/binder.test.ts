// Background binding (kube-scheduler's binding cycle): a binding that fails
// after its pod was assumed is forgotten and the pod handed back to be
// decided again; one that succeeds writes the pod, the ledger and an event together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Registry } from '../../src/api/registry.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { EventRecorder, eventName } from '../../src/client/events.ts';
import { Informer } from '../../src/client/informer.ts';
import { SchedulerController } from '../../src/controllers/scheduler.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { reservationsOf } from '../../src/scheduler/ledger.ts';
import { MOVED_BECAUSE, MOVED_FROM } from '../../src/client/unbind.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;

/** wrap: what the scheduler writes through (the test's own reads and writes go straight to the registry). */
async function setup(t: ExecutionContext, wrap: (client: KcsClient) => KcsClient = (c) => c) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-binder-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const pods = new Informer<Pod>(client, POD);
  const nodes = new Informer<Node>(client, NODE);
  const requeued: string[] = [];
  const scheduler = new SchedulerController({ client: wrap(client), pods, nodes, events: new EventRecorder(client, 'scheduler'), requeue: (key) => requeued.push(key) });
  t.teardown(async () => { pods.stop(); nodes.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '4' } } });
  await client.patch(NODE, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  const pod = (await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] } })).body;
  await nodes.start();
  await pods.start();
  return { client, scheduler, requeued, pod, pods };
}

test('a background binding writes the pod, its node ledger and a Scheduled event in one go', async (t) => {
  const { client, scheduler, requeued, pod } = await setup(t);
  await scheduler.reconcile('default/web');
  t.true(scheduler.cache.isAssumed(pod.metadata.uid!), 'assumed at once, before the binding is written');
  const bound = await eventually('bound', async () => {
    const p = await client.get<Pod>(POD, 'default', 'web');
    return p.spec.nodeName ? p : undefined;
  });
  t.is(bound.spec.nodeName, 'n1');
  t.is(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  const node = await client.get<Node>(NODE, undefined, 'n1');
  t.deepEqual(reservationsOf(node).map((r) => [r.uid, r.milliCpu]), [[pod.metadata.uid, 1000]]);
  const events = (await client.list(EVENT, 'default')).items as unknown as Array<{ reason: string; involvedObject: { name: string } }>;
  t.deepEqual(events.map((e) => [e.reason, e.involvedObject.name]), [['Scheduled', 'web']]);
  t.deepEqual(requeued, []);
});

test('a binding whose Node changed under it (its agent reporting status) is written on the Node as it is, not decided again', async (t) => {
  let commits = 0;
  // Before each of the scheduler's first three commits the Node's status changes, as an agent's write would.
  const { client, scheduler, requeued } = await setup(t, (inner) => Object.assign(Object.create(inner) as KcsClient, {
    commit: async (ops: Parameters<KcsClient['commit']>[0]) => {
      if (++commits <= 3) await inner.patch(NODE, undefined, 'n1', { status: { agentSaid: commits } }, { subresource: 'status' });
      return inner.commit(ops);
    },
  }));
  await scheduler.reconcile('default/web');
  const bound = await eventually('bound', async () => {
    const p = await client.get<Pod>(POD, 'default', 'web');
    return p.spec.nodeName ? p : undefined;
  });
  t.is(bound.spec.nodeName, 'n1');
  t.is(commits, 4, 'three commits conflicted on the Node; the fourth, on a fresh read, went through');
  t.deepEqual(requeued, [], 'never handed back to be decided again');
  const node = await client.get<Node>(NODE, undefined, 'n1');
  t.is(reservationsOf(node).length, 1);
  t.is((node.status as { agentSaid?: number }).agentSaid, 3, 'the agent\'s writes were kept');
});

test('a background binding that fails forgets the assumed pod and hands it back to be decided again', async (t) => {
  const { client, scheduler, requeued, pod, pods } = await setup(t);
  await scheduler.reconcile('default/web');
  t.true(scheduler.cache.isAssumed(pod.metadata.uid!));
  // The node goes before the batch is written: the binding cannot happen.
  await client.delete(NODE, undefined, 'n1');
  await eventually('requeued', async () => requeued.length > 0);
  t.deepEqual(requeued, ['default/web']);
  t.false(scheduler.cache.isAssumed(pod.metadata.uid!), 'no longer counted on the node');
  t.is((await client.get<Pod>(POD, 'default', 'web')).spec.nodeName, undefined);
  t.true(scheduler.isPending(pods.get('default/web')!), 'pending again');
});

test('a pod taken off a node is bound with a Moved event naming both nodes and why, and the note of its move is dropped', async (t) => {
  const { client, scheduler, pod } = await setup(t);
  await client.patch(POD, 'default', 'web', { metadata: { annotations: { [MOVED_FROM]: 'n0', [MOVED_BECAUSE]: 'n0 missed heartbeats for 3.2 s', keep: 'me' } } });
  await eventually('informer sees the note', async () => scheduler['opts'].pods.get('default/web')?.metadata.annotations?.[MOVED_FROM]);
  await scheduler.reconcile('default/web');
  const bound = await eventually('bound', async () => {
    const p = await client.get<Pod>(POD, 'default', 'web');
    return p.spec.nodeName ? p : undefined;
  });
  t.deepEqual(bound.metadata.annotations, { keep: 'me' });
  const events = (await client.list(EVENT, 'default')).items as unknown as Array<{ reason: string; message: string; involvedObject: { uid: string } }>;
  t.deepEqual(events.map((e) => [e.reason, e.message, e.involvedObject.uid]), [['Moved', 'pod web moved from n0 to n1 after n0 missed heartbeats for 3.2 s (policy first-fit)', pod.metadata.uid]]);
});

test('event names stay valid however long the object name: cut to fit 253 characters', (t) => {
  const long = 'a'.repeat(250);
  const name = eventName(long, new Date('2026-01-01T00:00:00Z'));
  t.true(name.length <= 253, `${name.length} characters`);
  t.regex(name, /^a+\.[0-9a-f]+$/);
  t.is(eventName('web', new Date('2026-01-01T00:00:00Z')).split('.')[0], 'web');
});

test('a refused event costs only itself: its pod and the pods of other nodes are bound all the same', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-binder-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const pods = new Informer<Pod>(client, POD);
  const nodes = new Informer<Node>(client, NODE);
  t.teardown(async () => { pods.stop(); nodes.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  // A recorder that builds a broken event for one pod.
  class Picky extends EventRecorder {
    override build(...args: Parameters<EventRecorder['build']>) {
      const e = super.build(...args);
      return e.involvedObject.name === 'bad' ? { ...e, count: -1 } : e;
    }
  }
  const scheduler = new SchedulerController({ client, pods, nodes, events: new Picky(client, 'scheduler'), defaultPolicy: 'spread', requeue: () => {} });
  for (const n of ['n1', 'n2']) {
    await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: n }, spec: { capacity: { cpu: '4' } } });
    await client.patch(NODE, undefined, n, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  }
  for (const name of ['bad', 'good']) await client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] } });
  await nodes.start();
  await pods.start();
  await scheduler.reconcile('default/bad');
  await scheduler.reconcile('default/good');
  const bound = await eventually('both bound', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    return items.every((p) => p.spec.nodeName) ? items : undefined;
  });
  t.not(bound[0]!.spec.nodeName, bound[1]!.spec.nodeName, 'spread put them on different nodes');
  const events = (await client.list(EVENT, 'default')).items as unknown as Array<{ involvedObject: { name: string } }>;
  t.deepEqual(events.map((e) => e.involvedObject.name), ['good']);
});

test('a binding that loses to a change of the pod hands the pod back to be decided again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-binder-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const local = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const client = local;
  const pods = new Informer<Pod>(client, POD);
  const nodes = new Informer<Node>(client, NODE);
  t.teardown(async () => { pods.stop(); nodes.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const requeued: Array<[string, number]> = [];
  const scheduler = new SchedulerController({ client, pods, nodes, requeue: (key, failures) => requeued.push([key, failures]) });
  await local.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '4' } } });
  await local.patch(NODE, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  await local.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c' }] } });
  await nodes.start();
  await pods.start();
  await scheduler.reconcile('default/web'); // decided and assumed; the binding waits for the next flush
  await local.patch(POD, 'default', 'web', { metadata: { labels: { edited: 'meanwhile' } } }); // before the commit's compare-and-swap
  await eventually('requeued', async () => requeued.length > 0);
  t.deepEqual(requeued, [['default/web', 1]]);
  t.is((await local.get<Pod>(POD, 'default', 'web')).spec.nodeName, undefined);
  t.true(scheduler.isPending(pods.get('default/web') ?? (await local.get<Pod>(POD, 'default', 'web'))), 'pending again, not left assumed');
});
