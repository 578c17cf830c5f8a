// The namespace controller: a deleted namespace is emptied of every
// namespaced kind, finalized only once nothing is left, and then gone; it
// acts as the controllers' identity, which may empty only a namespace
// being deleted. Time (the look again while content remains) runs on an
// injected clock.
import test, { type ExecutionContext } from 'ava';
import type { KcsClient } from '../../src/client/interface.ts';
import { startNamespaceController } from '../../src/controllers/manager.ts';
import { CONTENT_REMAINING_RETRY_MS, NamespaceController } from '../../src/controllers/namespace.ts';
import { Informer } from '../../src/client/informer.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Namespace } from '../../src/objects/types.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';
import { registryClients } from '../support/registry-clients.ts';

const NAMESPACE = kindByName('Namespace')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
const LEASE = kindByName('Lease')!;

const open = (t: ExecutionContext) => registryClients(t);

async function fill(admin: KcsClient, ns: string): Promise<void> {
  await admin.create(NAMESPACE, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const name of ['a', 'b']) await admin.create(POD, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c' }] } });
  await admin.create(EVENT, ns, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'a' }, reason: 'R', message: 'm', type: 'Normal' });
  await admin.create(LEASE, ns, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } });
}

const contents = async (client: KcsClient, ns: string) => {
  const out: string[] = [];
  for (const kind of [POD, EVENT, LEASE]) for (const o of (await client.list(kind, ns)).items) out.push(`${kind.singular}/${o.metadata.name}`);
  return out;
};

test('a deleted namespace is emptied of every namespaced kind and then goes; the others are untouched', async (t) => {
  const { admin, controllers } = await open(t);
  await fill(admin, 'team');
  await fill(admin, 'keep');
  const running = await startNamespaceController({ client: controllers, clock: new FakeClock() });
  t.teardown(() => running.stop());

  await admin.delete(NAMESPACE, undefined, 'team');
  await eventually('namespace team to be gone', async () => !(await admin.list(NAMESPACE)).items.some((n) => n.metadata.name === 'team'));
  t.deepEqual(await contents(admin, 'team'), []);
  t.deepEqual(await contents(admin, 'keep'), ['pod/a', 'pod/b', 'event/e', 'lease/l']);
  t.deepEqual((await admin.list(NAMESPACE)).items.map((n) => n.metadata.name), ['default', 'keep', 'kube-node-lease', 'kube-public', 'kube-system']);
});

test('while anything is left the namespace is not finalized, and is looked at again after a while on the clock', async (t) => {
  const { admin, controllers } = await open(t);
  await fill(admin, 'team');
  // One pass's deletecollection of pods misses them, as it would miss a pod
  // created in the same commit as the Terminating mark.
  let skipped = 0;
  const lagging: KcsClient = Object.assign(Object.create(controllers) as KcsClient, {
    deleteCollection: (kind: typeof POD, ns: string | undefined, q?: object) => (kind === POD && skipped++ === 0 ? Promise.resolve({ items: [] }) : controllers.deleteCollection(kind, ns, q)),
  });
  const clock = new FakeClock();
  const running = await startNamespaceController({ client: lagging, clock });
  t.teardown(() => running.stop());

  await admin.delete(NAMESPACE, undefined, 'team');
  await eventually('the first pass to find the pods left', () => running.runner.stats.reconciles >= 1 && skipped === 1);
  const ns = await admin.get<Namespace>(NAMESPACE, undefined, 'team');
  t.deepEqual(ns.spec?.finalizers, ['kubernetes'], 'not finalized with pods still there');
  t.is(ns.status?.phase, 'Terminating');
  t.deepEqual(await contents(admin, 'team'), ['pod/a', 'pod/b']);

  clock.advance(CONTENT_REMAINING_RETRY_MS);
  await eventually('namespace team to be gone', async () => !(await admin.list(NAMESPACE)).items.some((n) => n.metadata.name === 'team'));
  t.deepEqual(await contents(admin, 'team'), []);
});

test('a reconcile of a namespace not being deleted, or gone, does nothing', async (t) => {
  const { admin, controllers, registry } = await open(t);
  await fill(admin, 'team');
  const namespaces = new Informer<Namespace>(controllers, NAMESPACE);
  const controller = new NamespaceController({ client: controllers, namespaces });
  const rev = await registry.store.currentRevision();
  await controller.reconcile('team');
  await controller.reconcile('ghost');
  t.is(await registry.store.currentRevision(), rev);
  t.deepEqual(await contents(admin, 'team'), ['pod/a', 'pod/b', 'event/e', 'lease/l']);
});

test('the controllers may empty only a namespace being deleted, and may not delete namespaces', async (t) => {
  const { admin, controllers } = await open(t);
  await fill(admin, 'team');
  await t.throwsAsync(controllers.deleteCollection(POD, 'team'), { message: /forbidden/ });
  await t.throwsAsync(controllers.deleteCollection(POD, 'default'), { message: /forbidden/ });
  await t.throwsAsync(controllers.delete(NAMESPACE, undefined, 'team'), { message: /forbidden/ });
  t.deepEqual(await contents(admin, 'team'), ['pod/a', 'pod/b', 'event/e', 'lease/l']);
  await admin.delete(NAMESPACE, undefined, 'team');
  t.is((await controllers.deleteCollection(POD, 'team')).items.length, 2);
});
