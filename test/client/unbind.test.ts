import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { MOVED_BECAUSE, MOVED_FROM, unbindPod, unbindPods } from '../../src/client/unbind.ts';
import { EventRecorder } from '../../src/client/events.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Pod } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const POD = kindByName('Pod')!;

test('unbindPod sends a bound pod back to Pending, but not a finished one nor one changed since it was read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-unbind-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const make = async (name: string) => (await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } })).body;

  const bound = await make('bound');
  t.true(await unbindPod(client, bound, 'n1 was drained'));
  const after = await client.get<Pod>(POD, 'default', 'bound');
  t.is(after.spec.nodeName, undefined);
  t.is(after.status?.phase, 'Pending');
  t.deepEqual(after.metadata.annotations, { [MOVED_FROM]: 'n1', [MOVED_BECAUSE]: 'n1 was drained' });

  await make('done');
  const done = (await client.patch<Pod>(POD, 'default', 'done', { status: { phase: 'Succeeded' } }, { subresource: 'status' })).body;
  t.false(await unbindPod(client, done, 'n1 was drained'));
  t.is((await client.get<Pod>(POD, 'default', 'done')).spec.nodeName, 'n1', 'a finished pod stays as it ended');

  const stale = await make('moved');
  await client.patch(POD, 'default', 'moved', { spec: { nodeName: 'n2' } });
  t.false(await unbindPod(client, stale, 'n1 was drained'));
  t.is((await client.get<Pod>(POD, 'default', 'moved')).spec.nodeName, 'n2', 'moved meanwhile: left alone');
});

test('unbindPods takes a thousand pods and their events in one transaction, and only those still at the version read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-unbind-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const pods: Pod[] = [];
  for (let i = 0; i < 1000; i++) pods.push((await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } })).body);
  const before = await store.currentRevision();
  const recorder = new EventRecorder(client, 'health');
  const done = await unbindPods(client, pods, 'n1 missed heartbeats for 3.2 s', (p) => recorder.build(p, 'Warning', 'NodeFailed', `${p.metadata.name} off n1`));
  t.is(done.length, 1000);
  t.is(await store.currentRevision(), before + 2000, 'one write per pod and per event, nothing more');
  const after = (await client.list<Pod>(POD, 'default')).items;
  t.true(after.every((p) => !p.spec.nodeName && p.status?.phase === 'Pending' && p.metadata.annotations?.[MOVED_FROM] === 'n1'));
  t.is((await client.list(kindByName('Event')!, 'default')).items.length, 1000);

  // A batch where one pod changed meanwhile: the others still move, one at a time.
  const again: Pod[] = [];
  for (let i = 0; i < 3; i++) again.push((await client.patch<Pod>(POD, 'default', `p${i}`, { spec: { nodeName: 'n2' } })).body);
  await client.patch(POD, 'default', 'p1', { metadata: { labels: { edited: 'yes' } } });
  const moved = await unbindPods(client, again, 'n2 was drained');
  t.deepEqual(moved.map((p) => p.metadata.name), ['p0', 'p2']);
  t.is((await client.get<Pod>(POD, 'default', 'p1')).spec.nodeName, 'n2');
});

test('an unbound pod leaves behind what its node reported about its containers, and takes the extra annotations it is given', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-unbind-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  // In a batch, and alone (what a batch that failed falls back to).
  await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stale' }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } });
  for (const name of ['batched', 'alone']) {
    await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } });
    const failing = (await client.patch<Pod>(POD, 'default', name, { status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, { type: 'ContainersReady', status: 'False' }, { type: 'Initialized', status: 'True' }],
      containerStatuses: [{ name: 'c', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    } }, { subresource: 'status' })).body;
    // A stale pod in the batch fails the batch; each pod is then tried alone.
    const stale = name === 'alone' ? [await client.get<Pod>(POD, 'default', 'stale')] : [];
    if (stale.length) await client.patch(POD, 'default', 'stale', { metadata: { labels: { edited: 'since-read' } } });
    t.is((await unbindPods(client, [failing, ...stale], 'it kept failing on n1', undefined, { 'kcs.io/avoid-node': 'n1' })).length, 1, name);
    const after = await client.get<Pod>(POD, 'default', name);
    t.is(after.status?.phase, 'Pending', name);
    t.is(after.status?.containerStatuses, undefined, name);
    t.deepEqual(after.status?.conditions?.map((c) => c.type), ['PodScheduled'], name);
    t.deepEqual(after.metadata.annotations, { 'kcs.io/avoid-node': 'n1', [MOVED_FROM]: 'n1', [MOVED_BECAUSE]: 'it kept failing on n1' }, name);
  }
});

test('a pod in a namespace being deleted is still unbound, without its event (refused there), and the batch\'s other pods keep theirs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-unbind-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const NAMESPACE = kindByName('Namespace')!;
  const EVENT = kindByName('Event')!;
  await client.create(NAMESPACE, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'leaving' } });
  const make = async (ns: string, name: string) => (await client.create<Pod>(POD, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } })).body;
  const pods = [await make('default', 'a'), await make('leaving', 'b'), await make('default', 'c')];
  await client.delete(NAMESPACE, undefined, 'leaving');

  const recorder = new EventRecorder(client, 'health');
  const done = await unbindPods(client, pods, 'n1 failed', (p) => recorder.build(p, 'Warning', 'NodeFailed', `${p.metadata.name} off n1`));
  t.deepEqual(done.map((p) => p.metadata.name), ['a', 'b', 'c']);
  t.is((await client.get<Pod>(POD, 'leaving', 'b')).spec.nodeName, undefined);
  t.deepEqual((await client.list(EVENT, 'default')).items.map((e) => (e as any).involvedObject.name).sort(), ['a', 'c']);
  t.deepEqual((await client.list(EVENT, 'leaving')).items, []);
  // The recorder's own writes are refused there too, and recording never fails the caller.
  const logs: string[] = [];
  await new EventRecorder(client, 'health', { log: (m) => logs.push(m) }).record(pods[1]!, 'Normal', 'Seen', 'seen');
  t.regex(logs.join('\n'), /could not record event Seen for pod\/b: .*being terminated/);
});
