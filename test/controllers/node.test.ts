// The node controller with the virtual runtime, against a real control
// plane: every agent talks HTTP with its own node token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import type { Machine, MachineSpec, NodeRuntime } from '../../src/runtime/runtime.ts';
import { RuntimeError } from '../../src/runtime/runtime.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { Informer } from '../../src/client/informer.ts';
import { eventually } from '../support/eventually.ts';
import { countingClient } from '../support/counting-client.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const node = (name: string, cpu = '4') => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu, memory: '8Gi' } } });


async function cluster(t: ExecutionContext, runtime: NodeRuntime, dir = mkdtempSync(join(tmpdir(), 'kcs-nodectl-')), heartbeatMs = 200) {
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs, log: () => {} });
  t.teardown(async () => {
    await cp.close();
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { cp, client: new LocalClient(cp.registry, { user: ADMIN_USER }), dir };
}

const isReady = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** Ready as its agent reports it, and running as the controller reports it. */
async function readyNode(client: LocalClient, name: string): Promise<Node> {
  return eventually(`node ${name} Ready`, async () => {
    const n = await client.get<Node>(NODE, undefined, name).catch(() => undefined);
    const running = n?.status?.conditions?.find((c) => c.type === 'RuntimeReady')?.status === 'True';
    return isReady(n) && running && n?.status?.containerID ? n : undefined;
  });
}

test('a Node applied becomes a running virtual machine whose agent reports it Ready', async (t) => {
  const runtime = new VirtualRuntime();
  const { client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1', '8'));
  const ready = await readyNode(client, 'n1');
  t.regex(ready.status!.containerID!, /^virtual:\/\/n1\//);
  t.is(ready.status!.capacity!.cpu, '8');
  t.is(ready.status!.conditions!.find((c) => c.type === 'RuntimeReady')?.status, 'True');
  const machines = await runtime.list();
  t.deepEqual(machines.map((m) => [m.name, m.uid, m.running]), [['n1', ready.metadata.uid, true]]);
});

test('deleting a Node removes its machine and sends its pods back to Pending', async (t) => {
  const runtime = new VirtualRuntime();
  const { client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  await readyNode(client, 'n1');
  await client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } });
  await client.delete(NODE, undefined, 'n1');
  await eventually('machine removed', async () => (await runtime.list()).length === 0);
  const pod = await eventually('pod unbound', async () => {
    const p = await client.get<Pod>(POD, 'default', 'p');
    return !p.spec.nodeName && p.status?.phase === 'Pending' ? p : undefined;
  });
  t.is(pod.spec.nodeName, undefined);
});

test('an extra reconcile of a converged Node keeps its machine and RuntimeReady as they were', async (t) => {
  const runtime = new VirtualRuntime();
  const { cp, client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  const before = await readyNode(client, 'n1');
  const machinesBefore = await runtime.list();
  const reconciles = cp.controllers!.nodeRunner.stats.reconciles;
  cp.controllers!.nodeRunner.enqueue('n1');
  await eventually('the extra reconcile', async () => cp.controllers!.nodeRunner.stats.reconciles > reconciles);
  const after = await client.get<Node>(NODE, undefined, 'n1');
  // The agent may refresh its heartbeat meanwhile; the controller's own fields must not move.
  t.deepEqual(after.status?.conditions?.find((c) => c.type === 'RuntimeReady'), before.status?.conditions?.find((c) => c.type === 'RuntimeReady'));
  t.deepEqual(await runtime.list(), machinesBefore, 'the same machine, not a new one');
});

test('a machine left without its Node is removed when the controllers start', async (t) => {
  // A runtime that already holds a machine for a Node that no longer exists
  // (left by an earlier run): it must be found at start, not at a resync.
  const runtime = new VirtualRuntime();
  const removed: string[] = [];
  const leftovers = [{ name: 'ghost', uid: 'gone', id: 'virtual://ghost/gone', running: true }];
  const seeded: NodeRuntime = {
    kind: 'virtual',
    list: async () => [...leftovers, ...(await runtime.list())],
    ensure: (spec) => runtime.ensure(spec),
    remove: async (name) => {
      removed.push(name);
      const i = leftovers.findIndex((m) => m.name === name);
      if (i >= 0) leftovers.splice(i, 1);
      await runtime.remove(name);
    },
    kill: (name) => runtime.kill(name),
    watch: (f) => runtime.watch(f),
    wantedHash: (spec) => runtime.wantedHash(spec),
    close: () => runtime.close(),
  };
  const { client } = await cluster(t, seeded);
  await eventually('the orphan removed', async () => removed.includes('ghost'), 5000);
  t.deepEqual(leftovers, []);
  t.deepEqual((await client.list(NODE)).items, []);
});

/** Fails the first `failures` ensures, like a daemon that is down for a while. */
class FlakyRuntime implements NodeRuntime {
  readonly kind = 'virtual' as const;
  readonly inner = new VirtualRuntime();
  failures: number;
  attempts = 0;
  constructor(failures: number) { this.failures = failures; }
  list(): Promise<Machine[]> { return this.inner.list(); }
  async ensure(spec: MachineSpec): Promise<Machine> {
    this.attempts++;
    if (this.failures-- > 0) throw new RuntimeError('RuntimeUnavailable', 'the runtime is down');
    return this.inner.ensure(spec);
  }
  remove(name: string): Promise<void> { return this.inner.remove(name); }
  kill(name: string): Promise<void> { return this.inner.kill(name); }
  watch(onChange: (name: string) => void): () => void { return this.inner.watch(onChange); }
  wantedHash(spec: MachineSpec): Promise<string> { return this.inner.wantedHash(spec); }
  close(): Promise<void> { return this.inner.close(); }
}

test('a runtime failure shows on the Node as RuntimeReady=False and is retried until it works', async (t) => {
  const runtime = new FlakyRuntime(2);
  const { client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  const failed = await eventually('RuntimeReady=False', async () => {
    const n = await client.get<Node>(NODE, undefined, 'n1');
    const c = n.status?.conditions?.find((x) => x.type === 'RuntimeReady');
    return c?.status === 'False' ? c : undefined;
  });
  t.is(failed.reason, 'RuntimeUnavailable');
  t.regex(failed.message!, /runtime is down/);
  const ready = await readyNode(client, 'n1');
  t.is(ready.status!.conditions!.find((c) => c.type === 'RuntimeReady')?.status, 'True');
  t.is(runtime.attempts, 3);
});

test('200 virtual nodes all become Ready', async (t) => {
  t.timeout(60_000);
  const runtime = new VirtualRuntime();
  // Heartbeats at the default 1 s: 200 nodes renewing every 200 ms would be the load under test.
  const { client } = await cluster(t, runtime, undefined, 1000);
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.create(NODE, undefined, node(`v${i}`, '2'))));
  const ready = await eventually('200 Ready', async () => {
    const list = await client.list<Node>(NODE);
    const n = list.items.filter(isReady).length;
    return n === 200 ? n : undefined;
  }, 45_000);
  t.is(ready, 200);
  t.is((await runtime.list()).filter((m) => m.running).length, 200);
});

test('a machine that dies is noticed at once and started again', async (t) => {
  const runtime = new VirtualRuntime();
  const { client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  const first = await readyNode(client, 'n1');
  const agentBefore = runtime.agentOf('n1');
  runtime.crash('n1');
  await eventually('a new agent running', async () => {
    const m = (await runtime.list()).find((x) => x.name === 'n1');
    return m?.running && runtime.agentOf('n1') !== agentBefore;
  }, 5000);
  const again = await readyNode(client, 'n1');
  t.is(again.metadata.uid, first.metadata.uid);
});

test('in-process virtual nodes become Ready, and are held to their node like a token over HTTP', async (t) => {
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const { cp, client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  await client.create(NODE, undefined, node('n2'));
  const ready = await readyNode(client, 'n1');
  t.regex(ready.status!.containerID!, /^virtual:\/\/n1\//);
  await readyNode(client, 'n2');
  // The same identity the runtime gives n1's agent: it may not write n2.
  const { clusterAuthorizer, NODES_GROUP } = await import('../../src/api/node-auth.ts');
  const asN1 = new LocalClient(cp.registry, { user: { name: 'system:node:n1', groups: [NODES_GROUP] }, authorize: clusterAuthorizer(cp.registry) });
  const err = await t.throwsAsync(asN1.patch(NODE, undefined, 'n2', { status: { pods: [] } }, { subresource: 'status' }));
  t.is((err as { code?: number }).code, 403);
  await t.notThrowsAsync(asN1.patch(NODE, undefined, 'n1', { metadata: {} }, { subresource: 'status' }));
});

test('a second reconcile of a converged Node makes zero writes', async (t) => {
  const runtime = new VirtualRuntime();
  const { cp, client } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  await readyNode(client, 'n1');
  // The same controller logic, driven by hand through a client that counts writes.
  const { NodeController } = await import('../../src/controllers/node.ts');
  const { client: counting, writes } = countingClient(client);
  const controller = new NodeController({
    client: counting, runtime, nodes: cp.controllers!.nodes, server: cp.url, tokenFor: (n) => cp.nodeTokens.tokenFor(n), heartbeatMs: 200,
  });
  await controller.reconcile('n1');
  await controller.reconcile('n1');
  t.deepEqual(writes, []);
  t.is((await runtime.list()).length, 1);
});

test('a Node with remediation turned off keeps its stopped machine stopped, and says so', async (t) => {
  const runtime = new VirtualRuntime();
  const { client } = await cluster(t, runtime);
  await client.create(NODE, undefined, { ...node('n1'), metadata: { name: 'n1', annotations: { 'kcs.io/remediation': 'off' } } });
  await readyNode(client, 'n1');
  runtime.crash('n1');
  const cond = await eventually('RuntimeReady=False RemediationOff', async () => {
    const n = await client.get<Node>(NODE, undefined, 'n1');
    const c = n.status?.conditions?.find((x) => x.type === 'RuntimeReady');
    return c?.reason === 'RemediationOff' ? c : undefined;
  });
  t.is(cond.status, 'False');
  t.false((await runtime.list()).find((m) => m.name === 'n1')!.running, 'still stopped');
  // Turned back on: restarted.
  await client.patch(NODE, undefined, 'n1', { metadata: { annotations: { 'kcs.io/remediation': null } } });
  await eventually('running again', async () => (await runtime.list()).find((m) => m.name === 'n1')?.running);
});

test('a failure asked for through the API (kcs.io/fail-requested) kills the machine once, marks it carried out, and the node then fails and recovers as any crashed one', async (t) => {
  const runtime = new VirtualRuntime();
  const { client, cp } = await cluster(t, runtime);
  await client.create(NODE, undefined, node('n1'));
  const before = await readyNode(client, 'n1');
  const asked = new Date().toISOString();
  await client.patch(NODE, undefined, 'n1', { metadata: { annotations: { 'kcs.io/fail-requested': asked } } });
  // Carried out: the request is gone, and an Event says what was done.
  const events = await eventually('the NodeFailureRequested event', async () => {
    const list = await client.list(kindByName('Event')!, 'default');
    const e = list.items.filter((x) => x.reason === 'NodeFailureRequested' && (x.involvedObject as { name: string }).name === 'n1');
    return e.length ? e : undefined;
  });
  t.is(events.length, 1);
  t.regex(String(events[0]!.message), /killed virtual machine .* as asked/);
  await eventually('the request marked carried out', async () => {
    const n = await client.get<Node>(NODE, undefined, 'n1');
    return n.status?.failureCarriedOut === asked ? n : undefined;
  });
  // Then the ordinary course: a new machine runs, and its agent reports the node Ready again.
  await eventually('the machine restarted', async () => {
    const list = await client.list(kindByName('Event')!, 'default');
    return list.items.some((x) => x.reason === 'MachineRestarted' && (x.involvedObject as { name: string }).name === 'n1') || undefined;
  }, 15_000);
  const after = await readyNode(client, 'n1');
  t.is(after.metadata.uid, before.metadata.uid);
  // Once only: the restarted machine is not killed again when the Node is reconciled again.
  const runner = cp.controllers!.nodeRunner;
  const reconciled = runner.stats.reconciles;
  await client.patch(NODE, undefined, 'n1', { metadata: { annotations: { 'kcs.io/note': 'reconcile me' } } });
  await eventually('another reconcile of n1', async () => runner.stats.reconciles > reconciled || undefined);
  const machine = (await runtime.list()).find((m) => m.name === 'n1');
  t.true(machine?.running);
  const again = (await client.list(kindByName('Event')!, 'default')).items.filter((x) => x.reason === 'NodeFailureRequested');
  t.is(again.length, 1);
});

test('a machine that keeps dying is restarted at once, then after 1 s, 2 s ... counted from each death, even when starting it takes longer than the delay', async (t) => {
  // The controller alone, driven by hand on a fake clock, over a runtime whose machine takes 3 s to start.
  const dir = mkdtempSync(join(tmpdir(), 'kcs-nodectl-'));
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = new LocalClient(cp.registry, { user: ADMIN_USER });
  const created = (await client.create<Node>(NODE, undefined, node('n1'))).body;
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const START_MS = 3000;
  let machine: Machine | undefined;
  const starts: number[] = [];
  const runtime = {
    kind: 'virtual',
    list: async () => (machine ? [machine] : []),
    ensure: async (spec: MachineSpec) => {
      clock.advance(START_MS);
      starts.push(clock.now().getTime());
      machine = { name: spec.name, uid: spec.uid, id: `virtual://n1/${starts.length}`, running: true, specHash: 'h' };
      return machine;
    },
    wantedHash: async () => 'h',
  } as unknown as NodeRuntime;
  const die = () => { machine = { ...machine!, running: false, stopReason: 'was killed (exit code 137, SIGKILL)' }; };
  const { NodeController } = await import('../../src/controllers/node.ts');
  const nodes = { get: (name: string) => (name === 'n1' ? created : undefined), keys: () => ['n1'] } as unknown as Informer<Node>;
  const controller = new NodeController({ client, runtime, nodes, server: cp.url, tokenFor: () => 't', clock });
  const runtimeReady = async () => (await client.get<Node>(NODE, undefined, 'n1')).status?.conditions?.find((c) => c.type === 'RuntimeReady');

  await controller.reconcile('n1');
  t.is(starts.length, 1, 'started');
  die();
  await controller.reconcile('n1');
  t.is(starts.length, 2, 'the first death: restarted at once');

  die();
  t.deepEqual(await controller.reconcile('n1'), { requeueAfterMs: 1000 }, 'the second: 1 s from the death, though the start took 3 s');
  t.is(starts.length, 2);
  const waiting = await runtimeReady();
  t.is(waiting?.reason, 'CrashLoopBackOff');
  t.regex(waiting!.message!, /exit code 137.*restarting it in 1 s \(restart 2\)/);
  clock.advance(999);
  t.deepEqual(await controller.reconcile('n1'), { requeueAfterMs: 1 }, 'an early reconcile waits out the rest');
  t.is(starts.length, 2);
  clock.advance(1);
  await controller.reconcile('n1');
  t.is(starts.length, 3, 'restarted once the delay is over');
  t.is((await runtimeReady())?.reason, 'MachineRunning');

  die();
  t.deepEqual(await controller.reconcile('n1'), { requeueAfterMs: 2000 }, 'the third: 2 s');
  t.regex((await runtimeReady())!.message!, /restarting it in 2 s \(restart 3\)/);
});
