// Missed heartbeats: detection, moving pods, fencing a node that returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { Informer } from '../../src/client/informer.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { HealthController, heartbeatsMissed, lastHeard, type Lease } from '../../src/controllers/health.ts';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { specHash, type Machine, type MachineSpec, type NodeRuntime } from '../../src/runtime/runtime.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock, rfc3339Micro } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';
import { countingClient } from '../support/counting-client.ts';
import { StallingClock } from './stalling-clock.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;


test('heartbeats are missed only past the grace period, judged from when the controller last began observing', (t) => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { capacity: { cpu: '1' } } } as Node;
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n' }, spec: { renewTime: '2026-01-01T00:01:00.000000Z' } };
  const renewed = Date.parse('2026-01-01T00:01:00Z');
  t.is(lastHeard(lease, node, 0), renewed);
  t.false(heartbeatsMissed(renewed, renewed + 3000, 3000));
  t.true(heartbeatsMissed(renewed, renewed + 3001, 3000));
  // A control plane that starts (or restarts, or stalls) later gives every node a full grace from then.
  t.is(lastHeard(lease, node, renewed + 60_000), renewed + 60_000);
  t.is(lastHeard(undefined, node, 0), Date.parse('2026-01-01T00:00:00Z'), 'never heard: counted from creation');
  // A renewal that reached this controller after it was sent (a queue in the API server) counts from its arrival.
  t.is(lastHeard(lease, node, 0, renewed + 2500), renewed + 2500);
  t.is(lastHeard(lease, node, 0, renewed - 1000), renewed, 'an arrival before the renewTime (clock skew) does not move it back');
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

// ---- stalls of the control plane ----------------------------------------------------

const LEASE = kindByName('Lease')!;

/** One Ready node whose Lease was renewed now, and a health controller (grace 3 s) on the given clock, writing through a client that counts its writes. */
async function judged(t: ExecutionContext, clock: FakeClock) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-health-stall-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
  const { client: counting, writes } = countingClient(client);
  const nodes = new Informer<Node>(client, NODE);
  const leases = new Informer<Lease>(client, LEASE, { namespace: 'kube-node-lease' });
  const pods = new Informer<Pod>(client, POD);
  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } });
  await client.patch(NODE, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  await client.create(LEASE, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', renewTime: rfc3339Micro(clock.now()) } });
  await Promise.all([nodes.start(), leases.start(), pods.start()]);
  const health = new HealthController({ client: counting, nodes, leases, pods, graceMs: 3000, clock });
  t.teardown(async () => { health.stop(); nodes.stop(); leases.stop(); pods.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const ready = async () => (await client.get<Node>(NODE, undefined, 'n1')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return { health, nodes, writes, ready };
}

test('time passing while this process runs is no stall: a node silent past the grace is failed', async (t) => {
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const { health, ready } = await judged(t, clock);
  clock.advance(3001);
  await health.reconcile('n1');
  t.is(await ready(), 'Unknown');
});

test('after a stall of this process a node whose Lease is older than the grace is not failed, but is a full grace later if no renewal comes', async (t) => {
  const clock = new StallingClock('2026-01-01T00:00:00Z');
  const { health, nodes, writes, ready } = await judged(t, clock);
  clock.advance(1000);
  t.deepEqual(await health.reconcile('n1'), { requeueAfterMs: 2001 }, 'renewed 1 s ago: looked at again when the Lease expires');

  // Stalled for 5 s: its renewals may be waiting, unread, on the sockets.
  clock.stall(5000);
  t.deepEqual(await health.reconcile('n1'), { requeueAfterMs: 3001 }, 'a full grace from the end of the stall');
  t.is(await ready(), 'True');
  clock.advance(3000);
  await health.reconcile('n1');
  t.is(await ready(), 'True', 'not before the grace is over');
  t.deepEqual(writes, [], 'a healthy node is judged without a write');

  clock.advance(1);
  await health.reconcile('n1');
  t.is(await ready(), 'Unknown');
  // Once failed, judging it again changes nothing.
  await eventually('the informer to see it failed', async () => nodes.get('n1')?.status?.conditions?.some((c) => c.status === 'Unknown'));
  const failedWith = writes.length;
  await health.reconcile('n1');
  t.is(writes.length, failedWith, 'a second reconcile of a failed node makes zero writes');
});

const AGENT_MAIN = fileURLToPath(new URL('../../src/agent/main.ts', import.meta.url));

/** Agents in processes of their own, as in containers: while this process stalls, their renewals wait on its sockets. */
class ProcessRuntime implements NodeRuntime {
  readonly kind = 'virtual' as const;
  private readonly agents = new Map<string, { machine: Machine; child: ChildProcess }>();
  async list(): Promise<Machine[]> { return [...this.agents.values()].map((a) => a.machine); }
  async ensure(spec: MachineSpec): Promise<Machine> {
    const running = this.agents.get(spec.name);
    if (running) return running.machine;
    const child = spawn(process.execPath, [AGENT_MAIN], {
      stdio: 'ignore',
      env: { ...process.env, KCS_NODE_NAME: spec.name, KCS_SERVER: spec.server, KCS_TOKEN: spec.token, KCS_HEARTBEAT_MS: String(spec.heartbeatMs) },
    });
    const machine = { name: spec.name, uid: spec.uid, id: `process://${spec.name}/${child.pid}`, running: true };
    this.agents.set(spec.name, { machine, child });
    return machine;
  }
  async remove(name: string): Promise<void> {
    this.agents.get(name)?.child.kill();
    this.agents.delete(name);
  }
  async kill(name: string): Promise<void> { this.agents.get(name)?.child.kill('SIGKILL'); }
  watch(): () => void { return () => {}; }
  async wantedHash(spec: MachineSpec): Promise<string> { return specHash(spec); }
  async close(): Promise<void> { for (const name of [...this.agents.keys()]) await this.remove(name); }
}

test('a control plane whose event loop is held for longer than the grace fails no node whose renewals wait on its sockets', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'kcs-health-busy-'));
  const runtime = new ProcessRuntime();
  const graceMs = 1000;
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 100, nodeGraceMs: graceMs, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const client = cp.adminClient();
  await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } });
  await eventually('n1 Ready, reported by its agent process', async () => isReady(await client.get<Node>(NODE, undefined, 'n1')), 15_000);

  // Held 1.5 graces: the health check armed by the last renewal falls due
  // meanwhile, and runs after the stall before the waiting renewals are read.
  const held = Date.now();
  while (Date.now() - held < 1.5 * graceMs) { /* a busy machine, a slow disk: nothing else runs */ }
  const stallEnd = Date.now();
  const health = cp.controllers!.healthRunner;
  const judgedBefore = health.stats.reconciles;
  await eventually('n1 judged after the stall, and renewed since', async () => {
    const lease = await client.get<Lease>(LEASE, 'kube-node-lease', 'n1');
    return health.stats.reconciles > judgedBefore + 1 && Date.parse(lease.spec!.renewTime!) > stallEnd;
  }, 15_000);
  t.true(isReady(await client.get<Node>(NODE, undefined, 'n1')), 'still Ready');
  const events = (await client.list<KubeObject & { reason: string }>(EVENT)).items;
  t.false(events.some((e) => e.reason === 'NodeNotReady'), 'never declared failed');
});
