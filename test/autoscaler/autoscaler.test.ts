// The autoscaler's decisions on the injected clock, over fixed cluster
// states: what it creates, cordons, unbinds and deletes, and the Events that
// say why. (The real thing, with Docker nodes, is in nodepool-docker.test.ts.)
import test from 'ava';
import type { EventRecorder } from '../../src/client/events.ts';
import type { Informer } from '../../src/client/informer.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { AutoscalerController, SCALE_DOWN_ANNOTATION, type NodePool } from '../../src/controllers/autoscaler.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { NODEPOOL_LABEL } from '../../src/scheduler/autoscaling.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { Metrics } from '../../src/util/metrics.ts';

interface Recorded { verb: string; kind?: string; name?: string; body?: unknown }

function world(opts: { pool?: Partial<NodePool['spec']>; nodes?: Node[]; pods?: Pod[]; metrics?: Metrics; informerLags?: boolean } = {}) {
  const clock = new FakeClock('2026-06-01T00:00:00Z');
  const pool: NodePool = {
    apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'small', uid: 'pool-uid', creationTimestamp: '2026-06-01T00:00:00Z' },
    spec: { minNodes: 1, maxNodes: 4, template: { spec: { capacity: { cpu: '2', memory: '4Gi' } } }, scaleDown: { unneededSeconds: 30, delayAfterAddSeconds: 0 }, ...opts.pool },
  };
  const nodes = [...(opts.nodes ?? [])];
  const pods = [...(opts.pods ?? [])];
  const calls: Recorded[] = [];
  const events: Array<{ type: string; reason: string; message: string }> = [];
  let made = 0;
  const client = {
    async create(kind: { kind: string }, _ns: unknown, obj: KubeObject) {
      const name = `${obj.metadata.generateName}${made++}`;
      calls.push({ verb: 'create', kind: kind.kind, name, body: obj });
      const stored = { ...(obj as Node), metadata: { ...obj.metadata, name, creationTimestamp: clock.now().toISOString() } };
      // The informer shows it at once, or (informerLags) not yet.
      if (!opts.informerLags) nodes.push(stored);
      return { body: stored, warnings: [] };
    },
    async patch(kind: { kind: string }, _ns: unknown, name: string, body: unknown) { calls.push({ verb: 'patch', kind: kind.kind, name, body }); return { body: {}, warnings: [] }; },
    async delete(kind: { kind: string }, _ns: unknown, name: string) {
      calls.push({ verb: 'delete', kind: kind.kind, name });
      const i = nodes.findIndex((n) => n.metadata.name === name);
      if (kind.kind === 'Node' && i >= 0) nodes.splice(i, 1);
      return {};
    },
    async update(kind: { kind: string }, _ns: unknown, name: string, body: KubeObject) { calls.push({ verb: 'update-status', kind: kind.kind, name, body }); pool.status = (body as NodePool).status; return { body, warnings: [] }; },
    async commit(ops: Array<{ subresource?: string; object: KubeObject }>) { for (const op of ops) if (op.subresource === 'unbinding') calls.push({ verb: 'unbind', name: op.object.metadata.name }); return []; },
  } as unknown as KcsClient;
  const informer = <T>(items: T[]) => ({ list: () => items }) as unknown as Informer<T & KubeObject>;
  const recorder = { record: async (_about: unknown, type: string, reason: string, message: string) => { events.push({ type, reason, message }); } } as unknown as EventRecorder;
  const controller = new AutoscalerController({ client, pools: informer([pool]) as unknown as Informer<NodePool>, nodes: informer(nodes), pods: informer(pods), events: recorder, clock, metrics: opts.metrics?.autoscaler });
  return { clock, pool, nodes, pods, calls, events, controller };
}

const poolOwner = [{ apiVersion: 'kcs.io/v1', kind: 'NodePool', name: 'small', uid: 'pool-uid', controller: true, blockOwnerDeletion: true }];
function poolNode(name: string, ready = true): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [NODEPOOL_LABEL]: 'small' }, ownerReferences: poolOwner, creationTimestamp: '2026-06-01T00:00:00Z' },
    spec: { capacity: { cpu: '2', memory: '4Gi' } }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}
function pod(name: string, cpu: string, nodeName?: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name, resourceVersion: '1' },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', resources: { requests: { cpu } } }] },
    status: nodeName ? { phase: 'Running' } : { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] },
  };
}

test('a pool below its min is grown to it at once, with nodes it owns and labels', async (t) => {
  const w = world({ pool: { minNodes: 2 } });
  await w.controller.reconcile();
  const created = w.calls.filter((c) => c.verb === 'create');
  t.is(created.length, 2);
  const meta = (created[0]!.body as Node).metadata;
  t.is(meta.generateName, 'small-');
  t.is(meta.labels?.[NODEPOOL_LABEL], 'small');
  t.like(meta.ownerReferences?.[0], { kind: 'NodePool', name: 'small', uid: 'pool-uid', controller: true });
  t.deepEqual(w.events, [{ type: 'Normal', reason: 'ScaledUp', message: 'scaled up nodepool/small from 0 to 2: below its minimum of 2' }]);
  t.like(w.pool.status, { currentNodes: 0, desiredNodes: 2 });
});

test('unschedulable pods get all the nodes they need in one step, up to max, and the event says why', async (t) => {
  const w = world({ nodes: [poolNode('small-a')], pods: [pod('p1', '1500m'), pod('p2', '1500m'), pod('p3', '1500m'), pod('busy', '2', 'small-a')] });
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 3);
  t.is(w.events[0]!.message, 'scaled up nodepool/small from 1 to 4: 3 pods unschedulable, each fits a 2-CPU, 4Gi node');
  t.like(w.pool.status, { currentNodes: 1, desiredNodes: 4 });
  // The new nodes are on their way (not Ready): the next pass asks for nothing more.
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 3);
});

test('at max the pool does not grow, and says so once', async (t) => {
  const w = world({ pool: { maxNodes: 2 }, nodes: [poolNode('small-a'), poolNode('small-b')], pods: [pod('busy-a', '2', 'small-a'), pod('busy-b', '2', 'small-b'), pod('p1', '1')] });
  await w.controller.reconcile();
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 0);
  t.deepEqual(w.events, [{ type: 'Warning', reason: 'NotScaledUp', message: '1 pod unschedulable would fit a 2-CPU, 4Gi node, but nodepool/small is at its max of 2' }]);
});

test('a node under the threshold for the unneeded time is cordoned, emptied and deleted, and its pods move', async (t) => {
  const w = world({ nodes: [poolNode('small-a'), poolNode('small-b')], pods: [pod('big', '1500m', 'small-a'), pod('small', '200m', 'small-b')] });
  await w.controller.reconcile();
  w.clock.advance(29_000);
  await w.controller.reconcile();
  t.false(w.calls.some((c) => c.verb === 'delete'), 'not before the unneeded time');
  w.clock.advance(2_000);
  await w.controller.reconcile();
  t.deepEqual(w.calls.filter((c) => c.verb !== 'update-status').map((c) => [c.verb, c.name]), [['patch', 'small-b'], ['unbind', 'small'], ['delete', 'small-b']]);
  t.like(w.calls.find((c) => c.verb === 'patch')!.body as object, { spec: { unschedulable: true } });
  t.truthy(((w.calls.find((c) => c.verb === 'patch')!.body as Node).metadata.annotations ?? {})[SCALE_DOWN_ANNOTATION]);
  t.deepEqual(w.events.map((e) => e.reason), ['ScaledDown']);
  t.is(w.events[0]!.message, 'scaled down nodepool/small from 2 to 1: node small-b was under 50% (10%) for 30s and its 1 pod fit elsewhere');
  // At min now: never below it.
  w.clock.advance(60_000);
  await w.controller.reconcile();
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'delete').length, 1);
});

test('a node whose pods would fit nowhere else stays, and a busy node never counts as unneeded', async (t) => {
  const w = world({ nodes: [poolNode('small-a'), poolNode('small-b')], pods: [pod('big', '1900m', 'small-a'), pod('mid', '900m', 'small-b')] });
  await w.controller.reconcile();
  w.clock.advance(60_000);
  await w.controller.reconcile();
  t.false(w.calls.some((c) => c.verb === 'delete' || c.verb === 'patch'), 'small-b (45%) has a pod small-a cannot take; small-a is at 95%');
});

test('no node is removed within the delay after the pool grew', async (t) => {
  const w = world({ pool: { scaleDown: { unneededSeconds: 0, delayAfterAddSeconds: 120 } }, nodes: [poolNode('small-a'), poolNode('small-b')] });
  w.pool.status = { lastScaleUpTime: '2026-06-01T00:00:00Z' };
  await w.controller.reconcile();
  t.false(w.calls.some((c) => c.verb === 'delete'));
  w.clock.advance(121_000);
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'delete').length, 1);
});

test('with a CPU target, a pool hot for the whole window gets one more node', async (t) => {
  const w = world({ pool: { scaleUp: { cpuUtilizationTarget: 70, windowSeconds: 30 } }, nodes: [poolNode('small-a')] });
  const usage = 1800;
  const controller = new AutoscalerController({ ...(w.controller as unknown as { opts: ConstructorParameters<typeof AutoscalerController>[0] }).opts, cpuUsage: () => usage });
  await controller.reconcile();
  w.clock.advance(29_000);
  await controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 0, 'not before the window');
  w.clock.advance(2_000);
  await controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 1);
  t.is(w.events.at(-1)!.message, 'scaled up nodepool/small from 1 to 2: its average CPU use was 90% for 30s, above its target of 70%');
});

test('each decision is counted in /metrics, with the pool\'s current and desired size', async (t) => {
  const metrics = new Metrics();
  const w = world({ pool: { minNodes: 2 }, metrics });
  await w.controller.reconcile();
  const text = await metrics.exposition();
  t.regex(text, /^kcs_autoscaler_decisions_total\{nodepool="small",direction="up"\} 1$/m);
  t.regex(text, /^kcs_nodepool_nodes\{nodepool="small",state="desired"\} 2$/m);
  t.regex(text, /^kcs_nodepool_nodes\{nodepool="small",state="current"\} 0$/m);
});

test('a pass right after a scale-up counts the nodes it made even before the informer shows them', async (t) => {
  const w = world({ nodes: [poolNode('small-a')], pods: [pod('p1', '1500m'), pod('p2', '1500m'), pod('busy', '2', 'small-a')], informerLags: true });
  await w.controller.reconcile();
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 2, 'two nodes for two pods, not four');
  t.like(w.pool.status, { currentNodes: 3, desiredNodes: 3 });
});

test('a pod still marked unschedulable that now fits a Ready node asks for no node', async (t) => {
  const w = world({ nodes: [poolNode('small-a')], pods: [pod('p1', '1')] });
  await w.controller.reconcile();
  t.is(w.calls.filter((c) => c.verb === 'create').length, 0);
  t.deepEqual(w.events, []);
});
