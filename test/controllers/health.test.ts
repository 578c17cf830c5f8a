// Missed heartbeats: detection, moving pods, fencing a node that returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { heartbeatsMissed, lastHeard } from '../../src/controllers/health.ts';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;


test('heartbeats are missed only past the grace period, judged from when the controller started watching', (t) => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { capacity: { cpu: '1' } } } as Node;
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n' }, spec: { renewTime: '2026-01-01T00:01:00.000000Z' } };
  const renewed = Date.parse('2026-01-01T00:01:00Z');
  t.is(lastHeard(lease, node, 0), renewed);
  t.false(heartbeatsMissed(renewed, renewed + 3000, 3000));
  t.true(heartbeatsMissed(renewed, renewed + 3001, 3000));
  // A control plane that starts (or restarts) later gives every node a full grace from then.
  t.is(lastHeard(lease, node, renewed + 60_000), renewed + 60_000);
  t.is(lastHeard(undefined, node, 0), Date.parse('2026-01-01T00:00:00Z'), 'never heard: counted from creation');
});

const isReady = (n: Node | undefined, s = 'True') => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === s;

test('a frozen node is declared Unknown, its pods move to a healthy node, and when it returns it holds none of them', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'kcs-health-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 200, nodeGraceMs: 2000, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = new LocalClient(cp.registry, { user: ADMIN_USER });
  // first-fit puts both pods on "a" (first by name); "b" is the healthy spare.
  for (const name of ['a', 'b']) await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4' } } });
  await eventually('both Ready', async () => (await client.list<Node>(NODE)).items.every((n) => isReady(n)));
  for (const name of ['web-1', 'web-2']) {
    await client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] } });
  }
  const onA = await eventually('pods Running on a', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    return items.every((p) => p.spec.nodeName === 'a' && p.status?.phase === 'Running') ? items : undefined;
  }, 15_000);
  t.is(onA.length, 2);

  runtime.freeze('a');
  const failed = await eventually('a Unknown', async () => {
    const n = await client.get<Node>(NODE, undefined, 'a');
    return isReady(n, 'Unknown') ? n : undefined;
  }, 15_000);
  const cond = failed.status!.conditions!.find((c) => c.type === 'Ready')!;
  t.is(cond.reason, 'NodeStatusUnknown');
  t.deepEqual(failed.status!.pods, [], 'its array is emptied before its pods move');
  t.regex(cond.message!, /last heartbeat at/);
  const moved = await eventually('pods Running on b', async () => {
    const items = (await client.list<Pod>(POD, 'default')).items;
    return items.every((p) => p.spec.nodeName === 'b' && p.status?.phase === 'Running') ? items : undefined;
  }, 15_000);
  t.deepEqual(moved.map((p) => p.metadata.uid).sort(), onA.map((p) => p.metadata.uid).sort(), 'the same pods, moved');
  const events = (await client.list<KubeObject & { reason: string; message: string }>(EVENT, 'default')).items;
  t.true(events.some((e) => e.reason === 'NodeNotReady' && /missed heartbeats/.test(e.message)));
  t.true(events.some((e) => e.reason === 'NodeFailed' && /web-1 unbound from a/.test(e.message)));

  // The node returns: Ready again, and fenced: it reports none of the moved pods.
  await runtime.thaw('a');
  const back = await eventually('a Ready again', async () => {
    const n = await client.get<Node>(NODE, undefined, 'a');
    return isReady(n) ? n : undefined;
  }, 15_000);
  t.deepEqual(back.status?.pods, []);
  const b = await client.get<Node>(NODE, undefined, 'b');
  t.deepEqual([...(b.status?.pods ?? [])].sort(), moved.map((p) => p.metadata.uid).sort(), 'each pod ID in exactly one node array');
  const problems = await eventually('a quiet, consistent cluster', async () => {
    const found = checkInvariants((await client.list<Node>(NODE)).items, (await client.list<Pod>(POD)).items);
    return found.length === 0 ? found : undefined;
  }, 15_000);
  t.deepEqual(problems, []);
});

test('a renewal the API has not taken yet (queued while this process stalled) saves the node from being failed', async (t) => {
  const { Registry } = await import('../../src/api/registry.ts');
  const { SqliteStore } = await import('../../src/store/sqlite.ts');
  const { Informer } = await import('../../src/client/informer.ts');
  const { HealthController } = await import('../../src/controllers/health.ts');
  const { FakeClock, rfc3339Micro } = await import('../../src/util/clock.ts');
  const LEASE = kindByName('Lease')!;
  const dir = mkdtempSync(join(tmpdir(), 'kcs-health-stall-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const nodes = new Informer<Node>(client, NODE);
  const leases = new Informer<KubeObject>(client, LEASE, { namespace: 'kube-node-lease' });
  const pods = new Informer<Pod>(client, POD);
  t.teardown(async () => { nodes.stop(); leases.stop(); pods.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } });
  await client.patch(NODE, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  const lease = (await client.create(LEASE, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', renewTime: rfc3339Micro(clock.now()) } })).body;
  await Promise.all([nodes.start(), leases.start(), pods.start()]);
  const health = new HealthController({ client, nodes, leases, pods, graceMs: 3000, clock });

  clock.advance(5000); // this process was stalled for 5 s ...
  // ... while the node's renewal, sent in time, waited on its socket: it is taken on the next turn.
  setImmediate(() => void client.update(LEASE, 'kube-node-lease', 'n1', { ...lease, spec: { ...(lease as { spec: object }).spec, renewTime: rfc3339Micro(new Date(clock.now().getTime() - 500)) } }));
  const result = await health.reconcile('n1');
  t.true(isReady(await client.get<Node>(NODE, undefined, 'n1')), 'still Ready');
  t.truthy(result && result.requeueAfterMs! > 0, 'looked at again when the renewed Lease would expire');

  // With no renewal coming, the same check fails it.
  clock.advance(5000);
  await health.reconcile('n1');
  t.true(isReady(await client.get<Node>(NODE, undefined, 'n1'), 'Unknown'));
});
