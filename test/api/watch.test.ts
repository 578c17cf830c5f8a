import test from 'ava';
import { eventually } from '../support/eventually.ts';
import { createAll, eventsBefore, FRESH_REVISION, namespace, NAMESPACES, node, nodePath, NODES, pod, podPath, PODS, watch, withApp, withAppOptions } from './helpers.ts';

const summary = (events: Array<{ type: string; object: any }>) => events.map((e) => `${e.type} ${e.object.metadata?.name}`);

test('a watch without resourceVersion first sends ADDED for existing objects, then live events', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('a')], [NODES, node('b')]]);
  const w = watch(t, api, `${NODES}?watch=true`);
  t.deepEqual(summary(await w.waitFor(2)).sort(), ['ADDED a', 'ADDED b']);
  t.is(w.status, 200);

  await createAll(t, api, [[NODES, node('c')]]);
  t.is((await api.patch(nodePath('a'), { metadata: { labels: { x: 'y' } } })).status, 200);
  t.is((await api.delete(nodePath('b'))).status, 200);
  const events = await w.waitFor(5);
  t.deepEqual(summary(events.slice(2)), ['ADDED c', 'MODIFIED a', 'DELETED b']);
  t.deepEqual(events[3].object.metadata.labels, { x: 'y' });
  const rvs = events.slice(2).map((e) => Number(e.object.metadata.resourceVersion));
  t.deepEqual(rvs, [3, 4, 5].map((n) => FRESH_REVISION + n));
  t.is((await eventsBefore(t, api, w, NODES, node('later'))).length, 5, 'no duplicate or extra events');
});

test('a watch from resourceVersion N replays exactly the events after N, in order, then continues live', withApp, async (t, api) => {
  const [a] = await createAll(t, api, [[NODES, node('a')]]);
  const from = a.metadata.resourceVersion;
  await createAll(t, api, [[NODES, node('b')], [PODS, pod('not-a-node')]]);
  t.is((await api.patch(nodePath('a'), { spec: { unschedulable: true } })).status, 200);
  t.is((await api.delete(nodePath('b'))).status, 200);

  const w = watch(t, api, `${NODES}?watch=1&resourceVersion=${from}`);
  const replay = await w.waitFor(3);
  t.deepEqual(summary(replay), ['ADDED b', 'MODIFIED a', 'DELETED b']);
  t.deepEqual(replay.map((e) => e.object.metadata.resourceVersion), [2, 4, 5].map((n) => String(FRESH_REVISION + n)));
  t.is(replay[1].object.spec.unschedulable, true);

  await createAll(t, api, [[NODES, node('c')]]);
  const all = await w.waitFor(4);
  t.deepEqual(summary(all.slice(3)), ['ADDED c']);
  t.is(all[3].object.metadata.resourceVersion, String(FRESH_REVISION + 6));
  t.is((await eventsBefore(t, api, w, NODES, node('later'))).length, 4);
});

test('a watch on pods in one namespace sees nothing from other namespaces', withApp, async (t, api) => {
  // Watches start from a known revision, so no write can race their registration.
  const [, seed] = await createAll(t, api, [[NAMESPACES, namespace('other')], ['/api/v1/namespaces/other/pods', pod('seed')]]);
  const rv = seed.metadata.resourceVersion;
  const w = watch(t, api, `${PODS}?watch=true&resourceVersion=${rv}`);
  const all = watch(t, api, `/api/v1/pods?watch=true&resourceVersion=${rv}`);
  await createAll(t, api, [['/api/v1/namespaces/other/pods', pod('elsewhere')], [PODS, pod('here')]]);
  t.deepEqual(summary(await w.waitFor(1)), ['ADDED here']);
  t.deepEqual(summary(await all.waitFor(2)), ['ADDED elsewhere', 'ADDED here']);
  t.is((await eventsBefore(t, api, w, PODS, pod('later'))).length, 1);
});

test('a spec.nodeName field-selector watch sees a pod ADDED when it moves onto the node and DELETED when it moves away', withApp, async (t, api) => {
  const [, q] = await createAll(t, api, [[PODS, pod('p')], [PODS, pod('q', { spec: { nodeName: 'n2' } })]]);
  const w = watch(t, api, `${PODS}?watch=true&resourceVersion=${q.metadata.resourceVersion}&fieldSelector=${encodeURIComponent('spec.nodeName=n1')}`);
  t.deepEqual(await eventsBefore(t, api, w, PODS, pod('first', { spec: { nodeName: 'n1' } })), [], 'no pod is on n1 yet');

  t.is((await api.patch(podPath('p'), { spec: { nodeName: 'n1' } })).status, 200);
  t.is((await api.patch(podPath('p'), { metadata: { labels: { seen: 'yes' } } })).status, 200);
  t.is((await api.patch(podPath('q'), { metadata: { labels: { other: 'node' } } })).status, 200);
  t.is((await api.patch(podPath('p'), { spec: { nodeName: 'n3' } })).status, 200);
  const events = await w.waitFor(4);
  t.deepEqual(summary(events), ['ADDED first', 'ADDED p', 'MODIFIED p', 'DELETED p']);
  t.is(events[1].object.spec.nodeName, 'n1');
  // As Kubernetes' watch cache sends it: the object as it was when it last
  // matched (on the node), at the revision of the write that moved it away.
  t.is(events[3].object.spec.nodeName, 'n1');
  t.deepEqual(events[3].object.metadata.labels, { seen: 'yes' });
  t.true(Number(events[3].object.metadata.resourceVersion) > Number(events[2].object.metadata.resourceVersion));
  t.is((await eventsBefore(t, api, w, PODS, pod('later', { spec: { nodeName: 'n1' } }))).length, 4, 'the pod on n2 and the pod after it left are not seen');
});

test('a label-selector watch sees only matching objects, and objects entering or leaving the selector', withApp, async (t, api) => {
  const [cpu1] = await createAll(t, api, [[NODES, node('cpu1', { metadata: { labels: { pool: 'cpu' } } })]]);
  const w = watch(t, api, `${NODES}?watch=true&resourceVersion=${cpu1.metadata.resourceVersion}&labelSelector=${encodeURIComponent('pool in (gpu)')}`);
  await createAll(t, api, [[NODES, node('gpu1', { metadata: { labels: { pool: 'gpu' } } })]]);
  t.is((await api.patch(nodePath('cpu1'), { metadata: { labels: { pool: 'gpu' } } })).status, 200);
  t.is((await api.patch(nodePath('gpu1'), { metadata: { labels: { pool: null } } })).status, 200);
  t.is((await api.delete(nodePath('gpu1'))).status, 200);
  t.is((await api.delete(nodePath('cpu1'))).status, 200);
  t.deepEqual(summary(await w.waitFor(4)), ['ADDED gpu1', 'ADDED cpu1', 'DELETED gpu1', 'DELETED cpu1']);
  t.is((await eventsBefore(t, api, w, NODES, node('later', { metadata: { labels: { pool: 'gpu' } } }))).length, 4, 'deleting gpu1 after it left the selector is not seen');
});

test('a DELETED event carries the deleted object at the deletion resourceVersion', withApp, async (t, api) => {
  const [created] = await createAll(t, api, [[PODS, pod('p', { metadata: { labels: { app: 'web' } } })]]);
  const w = watch(t, api, `${PODS}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
  const deleted = await api.delete(podPath('p'));
  t.is(deleted.status, 200);
  const [e] = await w.waitFor(1);
  t.is(e.type, 'DELETED');
  t.is(e.object.kind, 'Pod');
  t.is(e.object.apiVersion, 'v1');
  t.is(e.object.metadata.uid, created.metadata.uid);
  t.deepEqual(e.object.metadata.labels, { app: 'web' });
  t.deepEqual(e.object.spec, created.spec);
  t.is(e.object.metadata.resourceVersion, deleted.body.metadata.resourceVersion);
  t.true(Number(e.object.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
});

test('timeoutSeconds ends the watch stream', withApp, async (t, api) => {
  const [a] = await createAll(t, api, [[NODES, node('a')]]);
  const started = Date.now();
  const w = watch(t, api, `${NODES}?watch=true&timeoutSeconds=1`);
  await w.waitFor(1);
  await w.waitForEnd();
  const took = Date.now() - started;
  t.true(took >= 900 && took < 5000, `ended after ${took} ms`);
  t.deepEqual(summary(w.events), ['ADDED a']);
  await eventually('the timed-out watch stopped in the cache', () => api.registry.cache.watcherCount === 0);
  // The server forgot the watcher: later writes still work and reach new watches.
  await createAll(t, api, [[NODES, node('b')]]);
  const again = watch(t, api, `${NODES}?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
  t.deepEqual(summary(await again.waitFor(1)), ['ADDED b']);
});

test('a client that disconnects has its watch stopped while other watches go on', withApp, async (t, api) => {
  const cacheWatchers = () => api.registry.cache.watcherCount;
  const [seed] = await createAll(t, api, [[NODES, node('seed')]]);
  const first = watch(t, api, `${NODES}?watch=true`);
  const second = watch(t, api, `${NODES}?watch=true&resourceVersion=${seed.metadata.resourceVersion}`);
  await first.waitFor(1);
  await eventually('both watches registered in the cache', () => cacheWatchers() === 2);
  first.close();
  await eventually('the disconnected watch stopped in the cache', () => cacheWatchers() === 1);
  await createAll(t, api, [[NODES, node('a')]]);
  t.deepEqual(summary(await second.waitFor(1)), ['ADDED a']);
  t.deepEqual(summary(first.events), ['ADDED seed']);
});

test('watching from a compacted resourceVersion yields an ERROR event with a 410 Expired Status', withAppOptions({ historyLimit: 5, cache: { windowSize: 5 } }), async (t, api) => {
  const [created] = await createAll(t, api, [[NODES, node('a')]]);
  for (let i = 0; i < 20; i++) {
    t.is((await api.patch(nodePath('a'), { metadata: { labels: { i: String(i) } } })).status, 200);
  }
  const w = watch(t, api, `${NODES}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
  const [e] = await w.waitFor(1);
  t.is(w.status, 200);
  t.is(e.type, 'ERROR');
  t.like(e.object, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' });
  t.regex(e.object.message, /too old resource version/);
  await w.waitForEnd();
  t.is(w.events.length, 1);

  // A recent revision is still within the window.
  const recent = watch(t, api, `${NODES}?watch=true&resourceVersion=${Number(created.metadata.resourceVersion) + 18}`);
  const events = await recent.waitFor(2);
  t.deepEqual(events.map((x) => x.type), ['MODIFIED', 'MODIFIED']);
  t.deepEqual(events.map((x) => x.object.metadata.labels.i), ['18', '19']);
});

test('an invalid watch resourceVersion answers 400 and a bad selector on a watch answers 400', withApp, async (t, api) => {
  const bad = await api.get(`${NODES}?watch=true&resourceVersion=abc`);
  t.is(bad.status, 400);
  t.is(bad.body.reason, 'BadRequest');
  const sel = await api.get(`${PODS}?watch=true&fieldSelector=spec.image%3Dx`);
  t.is(sel.status, 400);
  t.is(sel.body.reason, 'BadRequest');
});
