import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import type { KcsClient, WatchHandle } from '../../src/client/interface.ts';
import { Informer } from '../../src/client/informer.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const node = (name: string, cpu = '4') => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } } });

function setup(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-informer-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  return client;
}

function record(informer: Informer) {
  const events: string[] = [];
  informer.on({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (_p, o) => events.push(`update ${o.metadata.name} cpu=${(o.spec as any).capacity.cpu}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return events;
}

test('an informer lists what exists, then follows creates, updates and deletes', async (t) => {
  const client = setup(t);
  await client.create(NODE, undefined, node('a'));
  const informer = new Informer(client, NODE);
  const events = record(informer);
  await informer.start();
  t.true(informer.hasSynced);
  t.deepEqual(events, ['add a']);
  await client.create(NODE, undefined, node('b'));
  await client.patch(NODE, undefined, 'a', { spec: { capacity: { cpu: '8' } } });
  await client.delete(NODE, undefined, 'b');
  await eventually('the delete', () => events.includes('delete b'));
  t.deepEqual(informer.keys(), ['a']);
  // Events come in revision order: once a later write is seen, nothing more
  // can come of the ones before it.
  await client.create(NODE, undefined, node('z'));
  await eventually('the later write', () => events.includes('add z'));
  t.deepEqual(events, ['add a', 'add b', 'update a cpu=8', 'delete b', 'add z']);
  informer.stop();
});

test('after its watch ends, an informer lists again and reports only what changed meanwhile', async (t) => {
  const local = setup(t);
  let current: WatchHandle | undefined;
  // The same client, but the test can cut the watch, as a server restart would.
  const client: KcsClient = Object.assign(Object.create(local) as KcsClient, {
    watch: (...args: Parameters<KcsClient['watch']>) => (current = local.watch(...args)),
  });
  const clock = new FakeClock();
  await local.create(NODE, undefined, node('a'));
  await local.create(NODE, undefined, node('b'));
  const informer = new Informer(client, NODE, { clock, relistDelayMs: 1000 });
  const events = record(informer);
  await informer.start();
  current!.stop();
  await eventually('the informer to see its watch end and set a relist timer', () => clock.pending === 1);
  // While nobody watches: b goes, c comes, a changes. A watch of our own
  // sees them, so the informer's (stopped) watch had its chance to as well.
  const seen: string[] = [];
  const control = local.watch(NODE, undefined, { resourceVersion: (await local.list(NODE, undefined)).metadata.resourceVersion }, (e) => seen.push(e.type));
  t.teardown(() => control.stop());
  await local.delete(NODE, undefined, 'b');
  await local.create(NODE, undefined, node('c'));
  await local.patch(NODE, undefined, 'a', { spec: { capacity: { cpu: '2' } } });
  await eventually('our watch to see the three writes', () => seen.length === 3);
  t.deepEqual(events, ['add a', 'add b']);
  clock.advance(0);
  await eventually('the relist', () => events.length === 5);
  t.deepEqual(events.slice(2).sort(), ['add c', 'delete b', 'update a cpu=2']);
  t.deepEqual(informer.keys().sort(), ['a', 'c']);
  // And it watches again, reporting nothing twice.
  await local.create(NODE, undefined, node('d'));
  await eventually('the watch again', () => events.includes('add d'));
  t.deepEqual(events.slice(5), ['add d']);
  informer.stop();
});

test('cached objects carry the resourceVersion the store gave them', async (t) => {
  const client = setup(t);
  const { body } = await client.create<KubeObject>(NODE, undefined, node('a'));
  const informer = new Informer(client, NODE);
  await informer.start();
  t.is(informer.get('a')?.metadata.resourceVersion, body.metadata.resourceVersion);
  informer.stop();
});
