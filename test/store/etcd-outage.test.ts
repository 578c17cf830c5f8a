// A control plane whose etcd goes away and comes back: while it is away the
// API answers 503 ServiceUnavailable (a Status naming the store) within the
// etcd call deadline and keeps running, nothing is written, and once etcd is
// back on its data the API serves again by itself, with the watches either
// ended (so clients list again) or carrying on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { CALL_DEADLINE_MS, EtcdStore } from '../../src/store/etcd.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { startEtcd, type EtcdProcess } from '../../tools/etcd-process.ts';
import { client, pod, PODS, watch, type Client, type Reply } from '../api/helpers.ts';
import { etcdTest } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

/** An etcd of the test's own (it goes away), and a control plane on it. */
async function clusterOnEtcd(t: ExecutionContext): Promise<{ etcd: EtcdProcess; api: Client }> {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-outage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${etcd.endpoint}`, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(() => cp.close());
  return { etcd, api: client(cp.url, cp.adminToken) };
}

/** Sends the request, and asserts it was answered 503 with the store's Status within the deadline of one etcd call (and some slack). */
async function unavailableWithinDeadline(t: ExecutionContext, etcd: EtcdProcess, send: () => Promise<Reply>): Promise<void> {
  const started = Date.now();
  const res = await send();
  t.true(Date.now() - started < 2 * CALL_DEADLINE_MS, `answered after ${Date.now() - started} ms`);
  t.is(res.status, 503, res.text);
  t.like(res.body, { kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
  t.true(res.body.message.startsWith(`the store (etcd at ${etcd.endpoint}) is unavailable: `), res.body.message);
}

/** Creates the pod again and again until the API answers 201: each refusal in between must be the outage's 503. */
async function createOnceBack(api: Client, name: string): Promise<Reply> {
  return eventually(`the API to create ${name} again`, async () => {
    const res = await api.post(PODS, pod(name));
    if (res.status !== 503) return res;
    return undefined;
  });
}

function names(list: Reply): string[] {
  return list.body.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort();
}

etcdTest('etcd killed: writes, gets and lists answer 503 ServiceUnavailable, open watches end with it, nothing is written, and the API serves again once etcd restarts on its data', async (t) => {
  const { etcd, api } = await clusterOnEtcd(t);
  t.is((await api.post(PODS, pod('before'))).status, 201);
  const listed = await api.get(PODS);
  const before = watch(t, api, `${PODS}?watch=1&resourceVersion=${listed.body.metadata.resourceVersion}`);

  const direct = await EtcdStore.open({ endpoints: [etcd.endpoint] });
  t.teardown(() => direct.close());

  await etcd.kill();
  const commit = [{ type: 'create', key: '/registry/pods/default/a', value: '{}' }, { type: 'create', key: '/registry/pods/default/b', value: '{}' }] as const;
  await t.throwsAsync(direct.txn([...commit]), { instanceOf: StoreUnavailableError, message: /^the store \(etcd at 127\.0\.0\.1:\d+\) is unavailable: / });
  await unavailableWithinDeadline(t, etcd, () => api.post(PODS, pod('during')));
  await unavailableWithinDeadline(t, etcd, () => api.get(`${PODS}/before`));
  await unavailableWithinDeadline(t, etcd, () => api.get(PODS));
  // The open watch ends with the outage's Status: the client lists again.
  await before.waitForEnd();
  t.deepEqual(before.events.map((e) => [e.type, e.object.reason, e.object.code]), [['ERROR', 'ServiceUnavailable', 503]]);

  await etcd.restart();
  const written = await eventually('the store to answer again', () => direct.list('/registry/pods/').catch(() => undefined));
  t.deepEqual(written.items.map((kv) => kv.key), ['/registry/pods/default/before'], 'neither the refused create nor the refused commit wrote anything');

  const during = await createOnceBack(api, 'during');
  t.is(during.status, 201, during.text);
  const got = await api.get(`${PODS}/during`);
  t.is(got.status, 200, got.text);
  t.is(got.body.metadata.resourceVersion, during.body.metadata.resourceVersion);
  const relisted = await api.get(PODS);
  t.is(relisted.status, 200, relisted.text);
  t.deepEqual(names(relisted), ['before', 'during']);

  // A watch from the new list sees what is written after it.
  const after = watch(t, api, `${PODS}?watch=1&resourceVersion=${relisted.body.metadata.resourceVersion}`);
  t.is((await api.post(PODS, pod('after'))).status, 201);
  const [added] = await after.waitFor(1);
  t.deepEqual([added!.type, added!.object.metadata.name], ['ADDED', 'after']);
});

etcdTest('etcd hung: a create answers 503 ServiceUnavailable within the call deadline, and once etcd answers again a watch opened before carries on, agreeing with a list', async (t) => {
  const { etcd, api } = await clusterOnEtcd(t);
  t.is((await api.post(PODS, pod('before'))).status, 201);
  const listed = await api.get(PODS);
  const before = watch(t, api, `${PODS}?watch=1&resourceVersion=${listed.body.metadata.resourceVersion}`);

  // Stopped, not gone: connections stay open, and only the deadline ends a call.
  process.kill(etcd.pid, 'SIGSTOP');
  try {
    await unavailableWithinDeadline(t, etcd, () => api.post(PODS, pod('during')));
  } finally {
    process.kill(etcd.pid, 'SIGCONT');
  }

  // A write whose answer never came may still be applied, whole, once
  // etcd goes on (as with Kubernetes on etcd): the watch and the lists
  // agree on whether it was.
  const after = await createOnceBack(api, 'after');
  t.is(after.status, 201, after.text);
  await eventually('the watch opened before the outage to see the write after it', () => before.events.some((e) => e.object.metadata?.name === 'after'));
  const watched = before.events.map((e) => [e.type, e.object.metadata.name]);
  t.true(watched.length === 1 || (watched.length === 2 && watched[0]![1] === 'during'), JSON.stringify(watched));
  t.deepEqual(watched.at(-1), ['ADDED', 'after']);
  t.deepEqual(names(await api.get(PODS)), ['before', ...watched.map(([, name]) => name)].sort());
});
