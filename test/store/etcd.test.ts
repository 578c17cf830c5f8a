// The Store contract against a real etcd (one per file, each test under its
// own key prefix, the tests one at a time: etcd's revision is shared by all
// its keys), and what only the etcd backend does.
import { basename } from 'node:path';
import { EtcdStore, etcdEndpointsOf } from '../../src/store/etcd.ts';
import { KeyExistsError, RevisionCompactedError, StoreError } from '../../src/store/store.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { startEtcd } from '../../tools/etcd-process.ts';
import { eventually } from '../support/eventually.ts';
import { harness, storeContract, watchInto } from './contract.ts';
import test from 'ava';

const etcd = sharedEtcd();
const openIn = async (dir: string) => EtcdStore.open({ endpoints: [(await etcd()).endpoint], keyPrefix: `/${basename(dir)}` });

storeContract('etcd', openIn, {
  compact: (store, revision) => (store as EtcdStore).compact(revision),
  define: etcdTest,
});

etcdTest('etcd: stores under different key prefixes share the revision but not the keys', async (t) => {
  const h = harness(t, openIn);
  const mine = await h.open();
  const other = await EtcdStore.open({ endpoints: [(await etcd()).endpoint], keyPrefix: `/other-${basename(h.dir)}` });
  t.teardown(() => other.close());
  const a = await mine.create('/registry/a', 'mine');
  const b = await other.create('/registry/a', 'other');
  t.is(b.modRevision, a.modRevision + 1);
  t.is((await mine.get('/registry/a'))!.value, 'mine');
  t.deepEqual((await other.list('')).items.map((kv) => kv.value), ['other']);
  const c = await watchInto(mine, '', a.modRevision - 1);
  await c.waitFor(1);
  await mine.create('/registry/b', 'mine');
  await c.waitFor(2);
  t.deepEqual(c.events.map((e) => e.value), ['mine', 'mine'], 'the other prefix\'s write is not seen');
});

etcdTest('etcd: a commit the size of a batch of bindings fits the limits kcs starts etcd with; etcd\'s defaults refuse it, saying which flags to set', async (t) => {
  const ops = Array.from({ length: 2100 }, (_, i) => ({ type: 'create' as const, key: `/registry/big/${i}`, value: 'x'.repeat(200) }));
  const store = await harness(t, openIn).open();
  t.is((await store.txn(ops)).length, 2100);
  const small = await startEtcd({ defaultLimits: true });
  t.teardown(() => small.stop());
  const strict = await EtcdStore.open({ endpoints: [small.endpoint] });
  t.teardown(() => strict.close());
  await t.throwsAsync(strict.txn(ops), { instanceOf: StoreError, message: /etcd refused a transaction of 2100 operations .*start etcd with --max-txn-ops=4096 --max-request-bytes=33554432/ });
  t.deepEqual((await strict.list('')).items, [], 'nothing written');
});

etcdTest('etcd: a txn writing one key twice is refused before it reaches etcd', async (t) => {
  const store = await harness(t, openIn).open();
  const rev = await store.currentRevision();
  await t.throwsAsync(store.txn([{ type: 'create', key: '/registry/a', value: '1' }, { type: 'delete', key: '/registry/a' }]), { instanceOf: StoreError, message: /twice/ });
  t.is(await store.currentRevision(), rev);
  await store.create('/registry/a', '1');
  await t.throwsAsync(store.create('/registry/a', '2'), { instanceOf: KeyExistsError });
});

etcdTest('etcd: a watch overtaken by compaction is refused at once, and close() ends live watches through onError', async (t) => {
  const h = harness(t, openIn);
  const store = await h.open();
  const first = await store.create('/registry/a', '1');
  await store.update('/registry/a', '2', first.modRevision);
  await (store as EtcdStore).compact(await store.currentRevision());
  await t.throwsAsync(store.watch('/registry/', first.modRevision - 1, { onEvent: () => {} }), { instanceOf: RevisionCompactedError });
  const live = await watchInto(store, '/registry/', await store.currentRevision());
  await store.create('/registry/b', '1');
  await live.waitFor(1);
  await h.close(store);
  await live.waitForErrors(1);
  t.is(live.events.length, 1);
  await t.throwsAsync(store.get('/registry/a'), { message: /closed/ });
});

etcdTest('etcd: history beyond historyLimit is compacted as writes go on; watches from before it are refused, later ones replay', async (t) => {
  const h = harness(t, async (dir) => EtcdStore.open({ endpoints: [(await etcd()).endpoint], keyPrefix: `/${basename(dir)}`, historyLimit: 10 }));
  const store = await h.open();
  const rev0 = await store.currentRevision();
  let kv = await store.create('/registry/counter', '0');
  for (let i = 1; i < 30; i++) kv = await store.update('/registry/counter', String(i), kv.modRevision);
  const err = await eventually('etcd to have compacted the early history', async () => {
    try {
      (await store.watch('/registry/', rev0 + 1, { onEvent: () => {} })).stop();
      return undefined;
    } catch (e) {
      if (e instanceof RevisionCompactedError) return e;
      throw e;
    }
  });
  t.true(err.compacted > rev0 + 1 && err.compacted <= kv.modRevision - 10, `compacted at ${err.compacted}`);
  const c = await watchInto(store, '/registry/', kv.modRevision - 5);
  await c.waitFor(5);
  t.deepEqual(c.events.map((e) => e.value), ['25', '26', '27', '28', '29']);
  t.is((await store.get('/registry/counter'))!.value, '29');
});

etcdTest('etcd: open fails, naming the endpoints, when no etcd answers', async (t) => {
  await t.throwsAsync(EtcdStore.open({ endpoints: ['127.0.0.1:1'] }), { instanceOf: StoreError, message: /127\.0\.0\.1:1/ });
});

test('etcd: store URLs name host:port endpoints', (t) => {
  t.deepEqual(etcdEndpointsOf('etcd://127.0.0.1:2379'), ['127.0.0.1:2379']);
  t.deepEqual(etcdEndpointsOf('etcd://10.0.0.1:2379,10.0.0.2:2379,[::1]:2379'), ['10.0.0.1:2379', '10.0.0.2:2379', '[::1]:2379']);
  t.is(etcdEndpointsOf('/var/lib/kcs/kcs.db'), undefined);
  t.throws(() => etcdEndpointsOf('etcd://127.0.0.1'), { instanceOf: StoreError });
  t.throws(() => etcdEndpointsOf('etcd://'), { instanceOf: StoreError });
});
