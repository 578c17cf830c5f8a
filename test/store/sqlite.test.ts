import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SqliteStore, StateLockedError } from '../../src/store/sqlite.ts';
import { RevisionCompactedError } from '../../src/store/store.ts';
import { harness, watchInto } from './contract.ts';
import { eventually } from '../support/eventually.ts';
import { storeContract } from './contract.ts';

storeContract('sqlite', async (dir) => new SqliteStore(join(dir, 'kcs.db')), {
  compact: async (store, revision) => (store as SqliteStore).compact(revision),
});

const withHistory = (historyLimit: number) => async (dir: string) => new SqliteStore(join(dir, 'kcs.db'), { historyLimit });

test('sqlite: history beyond historyLimit is compacted; watches from before it are refused', async (t) => {
  const h = harness(t, withHistory(10));
  let store = await h.open();
  const rev0 = await store.currentRevision();
  let kv = await store.create('/registry/counter', '0');
  for (let i = 1; i < 100; i++) kv = await store.update('/registry/counter', String(i), kv.modRevision);
  await store.create('/registry/other', 'x');
  const current = await store.currentRevision();
  t.is(current, rev0 + 101);

  const err = await t.throwsAsync(store.watch('/registry/', rev0 + 1, { onEvent: () => {} }), { instanceOf: RevisionCompactedError });
  t.is(err!.requested, rev0 + 1);
  t.true(err!.compacted > rev0 + 1 && err!.compacted <= current - 10, `compacted at ${err!.compacted}`);

  // Within the window, replay works and is exact.
  const c = await watchInto(store, '/registry/', current - 5);
  await c.waitFor(5);
  t.deepEqual(c.events.map((e) => e.revision), [current - 4, current - 3, current - 2, current - 1, current]);
  t.deepEqual(c.events.map((e) => e.value), ['96', '97', '98', '99', 'x']);
  t.deepEqual(c.events.slice(0, 4).map((e) => e.prevValue), ['95', '96', '97', '98']);
  const next = await store.create('/registry/live', 'y');
  await c.waitFor(6);
  t.is(c.events.length, 6);
  t.is(c.events[5].revision, next.modRevision);

  // Compaction drops history only: the data is intact, and it survives a restart.
  t.deepEqual(await store.get('/registry/counter'), { key: '/registry/counter', value: '99', createRevision: rev0 + 1, modRevision: rev0 + 100 });
  const last = await store.currentRevision();
  await h.close(store);
  store = await h.open();
  t.is(await store.currentRevision(), last);
  t.is((await store.get('/registry/counter'))!.value, '99');
  await t.throwsAsync(store.watch('/registry/', rev0 + 1, { onEvent: () => {} }), { instanceOf: RevisionCompactedError });
  const after = await watchInto(store, '/registry/', last - 2);
  await after.waitFor(2);
  t.deepEqual(after.events.map((e) => e.revision), [last - 1, last]);
  t.is((await store.create('/registry/post', 'z')).modRevision, last + 1);
});

test('sqlite: a second store on the same file is refused with StateLockedError', async (t) => {
  const h = harness(t, async (dir) => new SqliteStore(join(dir, 'kcs.db')));
  const first = await h.open();
  const a = await first.create('/registry/a', '1');
  t.throws(() => new SqliteStore(join(h.dir, 'kcs.db')), { instanceOf: StateLockedError });
  // The refused opener must not disturb the first one.
  const a2 = await first.update('/registry/a', '2', a.modRevision);
  t.deepEqual(await first.get('/registry/a'), a2);
  const c = await watchInto(first, '/registry/', a.modRevision);
  await c.waitFor(1);
  t.is(c.events[0].value, '2');
  // Once the first is closed, the file opens again with its data.
  await h.close(first);
  const second = await h.open();
  t.deepEqual(await second.get('/registry/a'), a2);
});

test('sqlite: close() ends active watches through onError, and the store refuses further use', async (t) => {
  const h = harness(t, async (dir) => new SqliteStore(join(dir, 'kcs.db')));
  const store = await h.open();
  const rev = await store.currentRevision();
  const pods = await watchInto(store, '/registry/pods/', rev);
  const nodes = await watchInto(store, '/registry/nodes/', rev);
  const stopped = await watchInto(store, '/registry/', rev);
  stopped.stop();
  await store.create('/registry/pods/a', '1');
  await pods.waitFor(1);
  await h.close(store);
  await pods.waitForErrors(1);
  await nodes.waitForErrors(1);
  t.is(pods.errors.length, 1);
  t.true(pods.errors[0] instanceof Error);
  t.is(nodes.errors.length, 1);
  t.deepEqual(stopped.errors, [], 'a watch stopped before close is not failed');
  t.is(pods.events.length, 1);
  await t.throwsAsync(store.get('/registry/pods/a'));
  await t.throwsAsync(store.create('/registry/pods/b', '1'));
  await t.throwsAsync(store.watch('/registry/', rev, { onEvent: () => {} }));
  await t.notThrowsAsync(store.close(), 'close is idempotent');
});

test('sqlite: a watch whose handler throws is ended through onError and gets nothing more', async (t) => {
  const h = harness(t, async (dir) => new SqliteStore(join(dir, 'kcs.db')));
  const store = await h.open();
  const seen: number[] = [];
  const failures: Error[] = [];
  await store.watch('/registry/', await store.currentRevision(), {
    onEvent: (e) => {
      seen.push(e.revision);
      if (seen.length === 1) throw new Error('handler broke');
    },
    onError: (err) => failures.push(err),
  });
  const other = await watchInto(store, '/registry/', await store.currentRevision());
  await store.create('/registry/a', '1');
  await store.create('/registry/b', '1');
  await other.waitFor(2);
  t.is(seen.length, 1);
  t.deepEqual(failures.map((e) => e.message), ['handler broke']);
});

test('sqlite: writes reach the database file through the checkpointer thread; closing twice at once closes once; the state can be opened again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-ckpt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'kcs.db');
  const store = new SqliteStore(path, { checkpointIntervalMs: 20 });
  for (let i = 0; i < 200; i++) await store.create(`/registry/k${i}`, 'x'.repeat(1000));
  // The WAL is folded into the file without the store's own thread doing it.
  await eventually('the database file to hold the writes', async () => statSync(path).size > 200_000);
  await Promise.all([store.close(), store.close()]);
  const again = new SqliteStore(path);
  t.is((await again.list('/registry/')).items.length, 200);
  await again.close();
});

test('sqlite: under steady writes the WAL stays bounded (the writer starts it over when the checkpointer cannot catch up)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-wal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'kcs.db');
  const store = new SqliteStore(path, { checkpointIntervalMs: 10 });
  t.teardown(() => store.close());
  let largest = 0;
  // 30,000 writes of 1 KiB in batches of 100, with no pause for the checkpointer to finish.
  for (let batch = 0; batch < 300; batch++) {
    await store.txn(Array.from({ length: 100 }, (_, i) => ({ type: 'create' as const, key: `/registry/k${batch * 100 + i}`, value: 'x'.repeat(1024) })));
    largest = Math.max(largest, statSync(`${path}-wal`).size);
  }
  t.log(`largest WAL: ${(largest / 2 ** 20).toFixed(1)} MiB`);
  t.true(largest < 128 * 2 ** 20, `the WAL reached ${largest} bytes`);
});

test('sqlite: a store that fails to open releases its lock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-badopen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'kcs.db');
  writeFileSync(path, 'this is not a database, and long enough to be read as a header of one'.repeat(20));
  t.throws(() => new SqliteStore(path));
  rmSync(path);
  const store = new SqliteStore(path); // not StateLockedError: the failed attempt let go of the lock
  t.is((await store.list('/')).items.length, 0);
  await store.close();
});
