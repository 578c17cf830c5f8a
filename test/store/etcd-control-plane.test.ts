// A control plane keeping its objects in etcd (what `kcs up --store
// etcd://...` starts): the API over HTTP creates, lists and watches pods
// there, two API servers over one etcd see each other's writes, and the
// objects outlive the API server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { EtcdStore } from '../../src/store/etcd.ts';
import { StoreError } from '../../src/store/store.ts';
import { client, pod, PODS, watch } from '../api/helpers.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const etcd = sharedEtcd();

function stateDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-cp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function apiServer(t: ExecutionContext, dir: string): Promise<ControlPlane> {
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(() => cp.close());
  return cp;
}

etcdTest('a control plane on etcd: pods created through one API server are listed and watched through another, at etcd\'s revisions', async (t) => {
  const dir = stateDir(t); // shared: both servers take the same tokens from it
  const first = await apiServer(t, dir);
  const second = await apiServer(t, dir);
  const a = client(first.url, first.adminToken);
  const b = client(second.url, second.adminToken);

  const listed = await b.get(PODS);
  t.is(listed.status, 200, listed.text);
  const w = watch(t, b, `${PODS}?watch=1&resourceVersion=${listed.body.metadata.resourceVersion}`);

  const created = await a.post(PODS, pod('on-etcd'));
  t.is(created.status, 201, created.text);
  const rv = created.body.metadata.resourceVersion;

  // resourceVersion is etcd's mod revision of the key.
  const direct = await EtcdStore.open({ endpoints: [(await etcd()).endpoint] });
  t.teardown(() => direct.close());
  const kv = await direct.get('/registry/pods/default/on-etcd');
  t.is(String(kv!.modRevision), rv);

  const [added] = await w.waitFor(1);
  t.is(added!.type, 'ADDED');
  t.is(added!.object.metadata.name, 'on-etcd');
  t.is(added!.object.metadata.resourceVersion, rv);

  const fromB = await b.get(`${PODS}/on-etcd`);
  t.is(fromB.status, 200, fromB.text);
  t.is(fromB.body.metadata.resourceVersion, rv);
  const list = await b.get(PODS);
  t.deepEqual(list.body.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['on-etcd']);

  // A write through the second server, seen by a watch on the first.
  const wa = watch(t, a, `${PODS}?watch=1&resourceVersion=${rv}`);
  const deleted = await b.delete(`${PODS}/on-etcd?gracePeriodSeconds=0`);
  t.is(deleted.status, 200, deleted.text);
  await eventually('the first server\'s watch to see the delete', () => wa.events.some((e) => e.type === 'DELETED' && e.object.metadata.name === 'on-etcd'));
  t.is((await a.get(`${PODS}/on-etcd`)).status, 404);
});

etcdTest('a control plane on etcd: the objects outlive the API server', async (t) => {
  const dir = stateDir(t);
  const before = await apiServer(t, dir);
  const created = await client(before.url, before.adminToken).post(PODS, pod('survivor'));
  t.is(created.status, 201, created.text);
  await before.close();
  const after = await apiServer(t, dir);
  const got = await client(after.url, after.adminToken).get(`${PODS}/survivor`);
  t.is(got.status, 200, got.text);
  t.is(got.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
});

test('a control plane refuses a store URL it does not know, and an etcd that does not answer', async (t) => {
  const dir = stateDir(t);
  await t.throwsAsync(startControlPlane({ stateDir: dir, store: 'mysql://127.0.0.1:3306', host: '127.0.0.1', port: 0 }), { instanceOf: StoreError, message: /etcd:\/\/host:port/ });
  await t.throwsAsync(startControlPlane({ stateDir: dir, store: 'etcd://127.0.0.1:1', host: '127.0.0.1', port: 0 }), { instanceOf: StoreError, message: /no etcd answers at 127\.0\.0\.1:1/ });
});
