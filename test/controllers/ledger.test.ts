// The reservation collector: what a node's ledger keeps and gives back,
// judged on an injected clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { Informer } from '../../src/client/informer.ts';
import { LedgerCollector } from '../../src/controllers/ledger.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { RESERVATION_GRACE_MS, reservationsOf, type Reservation } from '../../src/scheduler/ledger.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

test('the collector drops entries of pods gone at once, of pods that never arrived and of pods long bound after the grace, and keeps young ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-ledger-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const clock = new FakeClock();
  const nodes = new Informer<Node>(client, NODE);
  const pods = new Informer<Pod>(client, POD);
  t.teardown(async () => { nodes.stop(); pods.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });

  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '4' } } });
  const pod = async (name: string, nodeName?: string) => (await client.create<Pod>(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c' }] } })).body.metadata.uid!;
  const bound = await pod('bound', 'n1');
  const never = await pod('never');
  const gone = await pod('gone', 'n1');
  const at = clock.now().getTime();
  const entry = (uid: string, name: string): Reservation => ({ uid, pod: `default/${name}`, milliCpu: 100, memory: 0, at });
  await client.patch(NODE, undefined, 'n1', { status: { reservations: [entry(bound, 'bound'), entry(never, 'never'), entry(gone, 'gone')] } }, { subresource: 'status' });
  await client.delete(POD, 'default', 'gone');
  await nodes.start();
  await pods.start();

  let freed = 0;
  const collector = new LedgerCollector({ client, nodes, pods, clock, onFreed: () => freed++ });
  collector.podDeleted(gone);
  const kept = async () => reservationsOf(await client.get<Node>(NODE, undefined, 'n1')).map((r) => r.pod).sort();

  const first = await collector.reconcile('n1');
  t.deepEqual(await kept(), ['default/bound', 'default/never'], 'a deleted pod gives its room back at once');
  t.is(freed, 1);
  t.truthy(first && first.requeueAfterMs! > RESERVATION_GRACE_MS, 'and looks again when the young entries come of age');

  clock.advance(RESERVATION_GRACE_MS + 1);
  await eventually('the informer to see the trimmed ledger', async () => reservationsOf(nodes.get('n1')!).length === 2);
  await collector.reconcile('n1');
  t.deepEqual(await kept(), [], 'past the grace: the never-bound entry is freed, the bound one is no longer needed');
  t.is(freed, 2);
});
