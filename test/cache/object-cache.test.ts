// The object cache through the Registry (what both transports call), on a
// real SQLite store: indexed watch delivery, paginated lists with their
// snapshots, resourceVersion semantics, bookmarks and shared objects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Registry, type WatchSink } from '../../src/api/registry.ts';
import type { ApiError } from '../../src/api/errors.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, WatchEvent } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { ObjectCacheOptions } from '../../src/cache/object-cache.ts';
import { CachedObject } from '../../src/cache/cached-object.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

async function open(t: ExecutionContext, cache: Omit<ObjectCacheOptions, 'clock'> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-cache-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const clock = new FakeClock();
  const registry = new Registry(store, clock, cache);
  t.teardown(async () => {
    registry.cache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, clock, registry };
}

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } } });
const pod = (name: string, nodeName?: string, namespace = 'default') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

function recorder(): WatchSink & { events: WatchEvent[]; ended?: ApiError | true } {
  const r: WatchSink & { events: WatchEvent[]; ended?: ApiError | true } = {
    events: [],
    event: (type, view) => r.events.push({ type, object: view.object() }),
    end: (err) => { r.ended = err ?? true; },
  };
  return r;
}

/** The call fails with this HTTP code (and a message matching re). */
async function refuses(t: ExecutionContext, call: Promise<unknown>, code: number, re?: RegExp): Promise<void> {
  const err = await t.throwsAsync(call);
  t.is((err as ApiError | undefined)?.code, code, err?.message);
  if (re) t.regex(err?.message ?? '', re);
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a pod event is offered only to the watchers of its node, not to every node\'s', async (t) => {
  const { registry } = await open(t);
  const sinks = new Map<string, ReturnType<typeof recorder>>();
  for (let i = 0; i < 500; i++) {
    const sink = recorder();
    sinks.set(`n${i}`, sink);
    await registry.watch(POD, undefined, { fieldSelector: `spec.nodeName=n${i}` }, sink);
  }
  const before = registry.cache.stats.offered;
  for (let i = 0; i < 20; i++) await registry.create(POD, 'default', pod(`p${i}`, `n${i % 5}`));
  await settle();
  // Each create is offered to the one watcher of its node: 20 offers, not 20 x 500.
  t.is(registry.cache.stats.offered - before, 20);
  t.deepEqual(sinks.get('n0')!.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED p0', 'ADDED p5', 'ADDED p10', 'ADDED p15']);
  t.is(sinks.get('n7')!.events.length, 0);
});

test('a pod that moves between nodes is DELETED for the old node\'s watcher and ADDED for the new one\'s', async (t) => {
  const { registry } = await open(t);
  const created = (await registry.create(POD, 'default', pod('p', 'a'))).object;
  const [a, b] = [recorder(), recorder()];
  await registry.watch(POD, undefined, { fieldSelector: 'spec.nodeName=a', resourceVersion: created.metadata.resourceVersion }, a);
  await registry.watch(POD, undefined, { fieldSelector: 'spec.nodeName=b', resourceVersion: created.metadata.resourceVersion }, b);
  await registry.patch(POD, 'default', 'p', 'application/merge-patch+json', { spec: { nodeName: 'b' } });
  await settle();
  t.deepEqual(a.events.map((e) => `${e.type} ${e.object.spec?.nodeName}`), ['DELETED a']);
  t.deepEqual(b.events.map((e) => `${e.type} ${e.object.spec?.nodeName}`), ['ADDED b']);
});

test('in-process readers share one frozen object per write', async (t) => {
  const { registry } = await open(t);
  const [x, y] = [recorder(), recorder()];
  await registry.watch(NODE, undefined, {}, x);
  await registry.watch(NODE, undefined, {}, y);
  await registry.create(NODE, undefined, node('a'));
  await settle();
  t.is(x.events[0]!.object, y.events[0]!.object);
  const listed = (await registry.list(NODE, undefined)).items[0]!;
  t.is(listed, x.events[0]!.object);
  t.true(Object.isFrozen(listed) && Object.isFrozen(listed.metadata));
  t.throws(() => { (listed.metadata as { name?: string }).name = 'b'; }, { instanceOf: TypeError });
});

test('limit and continue page through a list at one revision, with remainingItemCount', async (t) => {
  const { registry } = await open(t);
  for (let i = 0; i < 25; i++) await registry.create(POD, 'default', pod(`p${String(i).padStart(2, '0')}`));
  const first = await registry.list(POD, 'default', { limit: 10 });
  t.deepEqual(first.items.map((p) => p.metadata.name), Array.from({ length: 10 }, (_, i) => `p${String(i).padStart(2, '0')}`));
  t.is(first.metadata.remainingItemCount, 15);
  t.truthy(first.metadata.continue);
  // Writes after the first page do not show in the later pages: they read the first page's revision.
  await registry.create(POD, 'default', pod('p00a'));
  await registry.delete(POD, 'default', 'p20');
  const second = await registry.list(POD, 'default', { limit: 10, continue: first.metadata.continue });
  t.is(second.metadata.resourceVersion, first.metadata.resourceVersion);
  t.deepEqual(second.items.map((p) => p.metadata.name), Array.from({ length: 10 }, (_, i) => `p${i + 10}`));
  t.is(second.metadata.remainingItemCount, 5);
  const third = await registry.list(POD, 'default', { limit: 10, continue: second.metadata.continue });
  t.deepEqual(third.items.map((p) => p.metadata.name), ['p20', 'p21', 'p22', 'p23', 'p24']);
  t.is(third.metadata.continue, undefined);
  t.is(third.metadata.remainingItemCount, undefined);
  // A new list sees the writes.
  const fresh = await registry.list(POD, 'default');
  t.is(fresh.items.length, 25);
  t.true(fresh.items.some((p) => p.metadata.name === 'p00a'));
});

test('a continue token whose snapshot expired is 410 Expired; a malformed one is 400; one cannot carry a resourceVersion', async (t) => {
  const { registry, clock } = await open(t, { snapshotTtlMs: 1000 });
  for (let i = 0; i < 3; i++) await registry.create(NODE, undefined, node(`n${i}`));
  const first = await registry.list(NODE, undefined, { limit: 1 });
  await registry.create(NODE, undefined, node('later'));
  clock.advance(1001);
  const expired = await t.throwsAsync(registry.list(NODE, undefined, { limit: 1, continue: first.metadata.continue }));
  t.like(expired, { code: 410, reason: 'Expired' });
  await refuses(t, registry.list(NODE, undefined, { continue: 'bm90LWEtdG9rZW4' }), 400);
  await refuses(t, registry.list(NODE, undefined, { continue: first.metadata.continue, resourceVersion: '5' }), 400, /resource version is not allowed/);
  await refuses(t, registry.list(NODE, undefined, { limit: -1 }), 400, /limit/);
  // A token for nodes does not page through pods.
  await refuses(t, registry.list(POD, 'default', { continue: first.metadata.continue }), 400, /another list/);
});

test('resourceVersionMatch: NotOlderThan waits for the cache, Exact reads a kept snapshot or answers 410, and each is checked', async (t) => {
  const { registry, clock } = await open(t, { freshnessTimeoutMs: 500 });
  const a = (await registry.create(NODE, undefined, node('a'))).object;
  await registry.create(NODE, undefined, node('b'));
  const page = await registry.list(NODE, undefined, { limit: 1 });
  await registry.create(NODE, undefined, node('c'));
  await registry.create(NODE, undefined, node('d'));
  const rv = a.metadata.resourceVersion!;
  t.is((await registry.list(NODE, undefined, { resourceVersion: rv, resourceVersionMatch: 'NotOlderThan' })).items.length, 4);
  // The snapshot kept for the paginated list is a revision Exact can read.
  const exact = await registry.list(NODE, undefined, { resourceVersion: page.metadata.resourceVersion, resourceVersionMatch: 'Exact' });
  t.deepEqual(exact.items.map((n) => n.metadata.name), ['a', 'b']);
  await refuses(t, registry.list(NODE, undefined, { resourceVersion: '1', resourceVersionMatch: 'Exact' }), 410);
  await refuses(t, registry.list(NODE, undefined, { resourceVersionMatch: 'Exact' }), 400, /unless resourceVersion/);
  await refuses(t, registry.list(NODE, undefined, { resourceVersion: '1', resourceVersionMatch: 'Sometime' }), 400);
  // A revision nothing has reached yet: 504 once the wait runs out (on the clock).
  const future = registry.list(NODE, undefined, { resourceVersion: '999999' });
  await settle();
  clock.advance(500);
  await refuses(t, future, 504);
});

test('a watcher that asked for bookmarks hears the current resourceVersion while nothing happens, and resumes from it', async (t) => {
  const { registry, clock } = await open(t, { bookmarkIntervalMs: 1000, windowSize: 5 });
  const quiet = recorder();
  const plain = recorder();
  await registry.watch(POD, undefined, { fieldSelector: 'spec.nodeName=quiet', allowWatchBookmarks: true }, quiet);
  await registry.watch(POD, undefined, { fieldSelector: 'spec.nodeName=quiet' }, plain);
  for (let i = 0; i < 30; i++) await registry.create(POD, 'default', pod(`p${i}`, 'busy'));
  clock.advance(1000);
  t.deepEqual(quiet.events.map((e) => e.type), ['BOOKMARK']);
  t.is(plain.events.length, 0, 'no bookmarks unless asked for');
  const bookmark = quiet.events[0]!.object.metadata.resourceVersion!;
  t.is(bookmark, String(await registry.store.currentRevision()));
  // 30 writes went by: a watch from before them is too old for a window of 5, one from the bookmark is not.
  await refuses(t, registry.watch(POD, undefined, { resourceVersion: '1' }, recorder()), 410);
  const resumed = recorder();
  await registry.watch(POD, undefined, { fieldSelector: 'spec.nodeName=quiet', resourceVersion: bookmark }, resumed);
  await registry.create(POD, 'default', pod('mine', 'quiet'));
  await settle();
  t.deepEqual(resumed.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED mine']);
});

test('lists by an indexed field read only what the index holds, in key order', async (t) => {
  const { registry } = await open(t);
  for (const ns of ['x', 'y']) await registry.create(kindByName('Namespace')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const [name, nodeName, ns] of [['b', 'n1', 'x'], ['a', 'n1', 'y'], ['c', 'n2', 'x'], ['d', undefined, 'x']] as const) {
    await registry.create(POD, ns, pod(name, nodeName, ns));
  }
  const names = (l: { items: KubeObject[] }) => l.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  t.deepEqual(names(await registry.list(POD, undefined, { fieldSelector: 'spec.nodeName=n1' })), ['x/b', 'y/a']);
  t.deepEqual(names(await registry.list(POD, 'x', { fieldSelector: 'spec.nodeName=n1' })), ['x/b']);
  t.deepEqual(names(await registry.list(POD, 'x', { fieldSelector: 'spec.nodeName=' })), ['x/d']);
  t.deepEqual(names(await registry.list(POD, 'x', { fieldSelector: 'spec.nodeName=n1', limit: 1 })), ['x/b']);
  await registry.patch(POD, 'x', 'b', 'application/merge-patch+json', { metadata: { labels: { moved: 'no' } } });
  await registry.delete(POD, 'y', 'a');
  t.deepEqual(names(await registry.list(POD, undefined, { fieldSelector: 'spec.nodeName=n1' })), ['x/b']);
  t.deepEqual(names(await registry.list(NODE as never, undefined, { fieldSelector: 'metadata.name=none' })), []);
});

test('the HTTP form of a list is the stored text with each resourceVersion spliced in', async (t) => {
  const { registry } = await open(t);
  await registry.create(POD, 'default', pod('p'));
  await registry.create(NODE, undefined, node('n'));
  for (const kind of [POD, NODE]) {
    const json = JSON.parse(await registry.listJson(kind, kind.namespaced ? 'default' : undefined));
    const objects = await registry.list(kind, kind.namespaced ? 'default' : undefined);
    t.deepEqual(json, JSON.parse(JSON.stringify(objects)));
    t.truthy(json.items[0].metadata.resourceVersion);
  }
});

test('a watch whose handler fails while it is caught up is not left registered', async (t) => {
  const { registry, clock } = await open(t, { bookmarkIntervalMs: 1000 });
  await registry.create(NODE, undefined, node('a'));
  let ended: unknown;
  await registry.watch(NODE, undefined, { allowWatchBookmarks: true }, {
    event: () => { throw new TypeError('a handler that changed a frozen object'); },
    end: (err) => { ended = err ?? true; },
  });
  t.truthy(ended, 'the watch was ended');
  t.is(registry.cache.watcherCount, 0);
  t.is(clock.pending, 0, 'no bookmark timer runs for it');
});

test('a watch from a revision the cache has not reached waits for it, then is 504, never silently skipping', async (t) => {
  const { registry, clock } = await open(t, { freshnessTimeoutMs: 500 });
  const sink = recorder();
  const future = registry.watch(NODE, undefined, { resourceVersion: '1000' }, sink);
  await settle();
  clock.advance(500);
  await refuses(t, future, 504);
  t.is(registry.cache.watcherCount, 0);
});

test('expired snapshots are dropped when another list keeps one, not only when their token comes back', async (t) => {
  const { registry, clock } = await open(t, { snapshotTtlMs: 1000 });
  for (let i = 0; i < 3; i++) await registry.create(NODE, undefined, node(`n${i}`));
  await registry.list(NODE, undefined, { limit: 1 });
  await registry.create(NODE, undefined, node('later'));
  clock.advance(1001);
  await registry.list(NODE, undefined, { limit: 1 });
  t.is((registry.cache as unknown as { snapshots: Map<string, unknown> }).snapshots.size, 1, 'only the new one');
});

test('an object\'s JSON gets its resourceVersion spliced in, empty metadata or not, and one stored in another order the slow way', (t) => {
  const text = (value: string, rv: number) => JSON.parse(new CachedObject('/registry/nodes/n', NODE, value, rv).json());
  t.deepEqual(text('{"apiVersion":"v1","kind":"Node","metadata":{}}', 7), { apiVersion: 'v1', kind: 'Node', metadata: { resourceVersion: '7' } });
  t.deepEqual(text('{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"spec":{}}', 8), { apiVersion: 'v1', kind: 'Node', metadata: { resourceVersion: '8', name: 'n' }, spec: {} });
  t.deepEqual(text('{"kind":"Node","metadata":{"name":"n"},"apiVersion":"v1"}', 9), { kind: 'Node', metadata: { name: 'n', resourceVersion: '9' }, apiVersion: 'v1' });
});
