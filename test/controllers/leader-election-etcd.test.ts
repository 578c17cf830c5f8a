// Two control planes on one real etcd, each with its controllers and its
// own virtual nodes: only the one holding the kube-system Lease runs its
// controllers, so a pod is bound exactly once; when it closes, the other
// takes the Lease within a lease duration, runs the controllers, keeps the
// node the old leader ran, and binds the next pod.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { CONTROLLER_LEASE_NAME, CONTROLLER_LEASE_NAMESPACE, DEFAULT_LEASE_DURATION_MS, type LeaderLease } from '../../src/controllers/leader-election.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
const LEASE = kindByName('Lease')!;

const etcd = sharedEtcd();

/** A control plane with virtual nodes; closed (with its nodes) once, by the test or at its end. */
async function controlPlane(t: ExecutionContext, dir: string): Promise<{ cp: ControlPlane; close: () => Promise<void> }> {
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500, log: () => {} });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => { await cp.close(); await runtime.close(); })());
  t.teardown(close);
  return { cp, close };
}

const holder = async (client: KcsClient) => (await client.get<LeaderLease>(LEASE, CONTROLLER_LEASE_NAMESPACE, CONTROLLER_LEASE_NAME)).spec?.holderIdentity;
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] } });
const boundTo = (client: KcsClient, name: string) => eventually(`${name} bound`, async () => (await client.get<Pod>(POD, 'default', name)).spec.nodeName);
const eventsFor = async (client: KcsClient, name: string, reason: string) =>
  (await client.list<KubeObject & { reason?: string; involvedObject?: { name?: string } }>(EVENT, 'default')).items.filter((e) => e.reason === reason && e.involvedObject?.name === name);

etcdTest('two control planes on one etcd: only the leader runs the controllers, and the other takes over when it closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-leader-etcd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await controlPlane(t, dir);
  const second = await controlPlane(t, dir);
  const admin = first.cp.adminClient();

  t.true(first.cp.leaderElector!.isLeader, 'the first takes the absent Lease at once');
  t.truthy(first.cp.controllers);
  t.false(second.cp.leaderElector!.isLeader);
  t.is(second.cp.controllers, undefined, 'the second runs no controllers');
  t.is(await holder(admin), first.cp.leaderElector!.identity);

  await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '4' } } });
  await eventually('n1 Ready', async () => (await admin.get<Node>(NODE, undefined, 'n1')).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  await admin.create(POD, 'default', pod('before'));
  t.is(await boundTo(admin, 'before'), 'n1');
  await eventually('before Running', async () => (await admin.get<Pod>(POD, 'default', 'before')).status?.phase === 'Running');
  t.is((await eventsFor(admin, 'before', 'Scheduled')).length, 1, 'bound once, by one scheduler');
  t.is(second.cp.controllers, undefined);

  const closedAt = Date.now();
  await first.close();
  const survivor = second.cp.adminClient();
  await eventually('the second to hold the Lease', async () => (await holder(survivor)) === second.cp.leaderElector!.identity);
  t.true(Date.now() - closedAt < DEFAULT_LEASE_DURATION_MS, 'taken over within a lease duration (the first released it)');
  await eventually('the second to run the controllers', () => second.cp.controllers);
  const lease = await survivor.get<LeaderLease>(LEASE, CONTROLLER_LEASE_NAMESPACE, CONTROLLER_LEASE_NAME);
  t.is(lease.spec?.leaseTransitions, 1);

  await survivor.create(POD, 'default', pod('after'));
  t.is(await boundTo(survivor, 'after'), 'n1');
  await eventually('after Running on the new leader\'s node', async () => (await survivor.get<Pod>(POD, 'default', 'after')).status?.phase === 'Running');
  // The new leader gave n1 a full grace from its start: not failed, its pod not moved.
  t.is((await survivor.get<Pod>(POD, 'default', 'before')).spec.nodeName, 'n1');
  t.deepEqual(await eventsFor(survivor, 'n1', 'NodeNotReady').then((e) => e.length), 0);
  t.is((await eventsFor(survivor, 'after', 'Scheduled')).length, 1);
});
