// Which watch events queue which keys, as each controller says (its
// nodeHandlers, podHandlers, ...): the rules alone, on fake informers.
import test from 'ava';
import { objectKey, type Informer } from '../../src/client/informer.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { HealthController, type Lease } from '../../src/controllers/health.ts';
import { LedgerCollector } from '../../src/controllers/ledger.ts';
import { NodeController } from '../../src/controllers/node.ts';
import { SchedulerController } from '../../src/controllers/scheduler.ts';
import type { Condition, KubeObject, Node, Pod } from '../../src/objects/types.ts';
import type { NodeRuntime } from '../../src/runtime/runtime.ts';
import { FakeClock } from '../../src/util/clock.ts';

/** An informer holding these objects, telling no one: handlers are called by hand. */
function informer<T extends KubeObject>(items: T[] = []): Informer<T> {
  return { on() {}, list: () => items, keys: () => items.map(objectKey), get: (key: string) => items.find((o) => objectKey(o) === key) } as unknown as Informer<T>;
}
const client = {} as KcsClient;

function node(name: string, ready: Condition['status'], extra: Partial<Node> = {}): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, uid: `uid-${name}` }, spec: { capacity: { cpu: '4' } },
    status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: '2026-01-01T00:00:00Z' }], pods: [] },
    ...extra,
  };
}

function pod(name: string, nodeName?: string, phase: NonNullable<Pod['status']>['phase'] = 'Pending', schedulerName?: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { ...(nodeName ? { nodeName } : {}), ...(schedulerName ? { schedulerName } : {}), containers: [{ name: 'c' }] },
    status: { phase },
  };
}

/** Resolves once every microtask queued before it has run (setImmediate comes after them all): no time passes. */
const afterMicrotasks = () => new Promise((resolve) => setImmediate(resolve));

test('node controller: a status-only Node update queues nothing; identity, spec, annotations and readiness do', (t) => {
  const controller = new NodeController({ client, runtime: {} as NodeRuntime, nodes: informer<Node>(), server: 'http://x', tokenFor: () => 't' });
  const queued: string[] = [];
  const h = controller.nodeHandlers((key) => queued.push(key));
  const n = node('n1', 'True');
  h.add!(n);
  h.delete!(n);
  t.deepEqual(queued.splice(0), ['n1', 'n1'], 'added and deleted Nodes');

  const heartbeat = node('n1', 'True', { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:10Z' }], pods: ['p'] } });
  h.update!(n, heartbeat);
  h.update!(n, { ...n, metadata: { ...n.metadata, labels: { zone: 'a' } } });
  t.deepEqual(queued, [], 'the agent\'s own status writes and labels: nothing to do for the machine');

  h.update!(n, node('n1', 'Unknown'));
  h.update!(n, { ...n, spec: { capacity: { cpu: '8' } } });
  h.update!(n, { ...n, metadata: { ...n.metadata, annotations: { 'kcs.io/remediation': 'off' } } });
  h.update!(n, { ...n, metadata: { ...n.metadata, uid: 'another' } });
  t.deepEqual(queued, ['n1', 'n1', 'n1', 'n1'], 'readiness, spec, annotations, a new Node of the same name');
});

test('scheduler: pending pods are queued; cluster changes that can change a decision retry every pending pod, once per burst', async (t) => {
  const pending = [pod('a'), pod('b')];
  const pods = informer<Pod>([...pending, pod('bound', 'n1', 'Running'), pod('theirs', undefined, 'Pending', 'someone-else')]);
  const scheduler = new SchedulerController({ client, pods, nodes: informer<Node>() });
  const queued: string[] = [];
  const enqueue = (key: string) => queued.push(key);
  const onPods = scheduler.podHandlers(enqueue);
  const onNodes = scheduler.nodeHandlers(enqueue);
  const onConfigurations = scheduler.configurationHandlers(enqueue);

  onPods.add!(pod('a'));
  onPods.add!(pod('bound', 'n1', 'Running'));
  onPods.add!(pod('theirs', undefined, 'Pending', 'someone-else'));
  t.deepEqual(queued.splice(0), ['default/a'], 'only a pending pod of ours');

  // A heartbeat refresh changes no decision.
  onNodes.update!(node('n1', 'True'), node('n1', 'True', { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:10Z' }] } }));
  onPods.update!(pod('bound', 'n1', 'Running'), pod('bound', 'n1', 'Running'));
  await afterMicrotasks();
  t.deepEqual(queued, []);

  // A burst: a node added, one made Ready, a pod finished, a pod deleted, a new configuration.
  onNodes.add!(node('n2', 'True'));
  onNodes.update!(node('n3', 'False'), node('n3', 'True'));
  onPods.update!(pod('bound', 'n1', 'Running'), pod('bound', 'n1', 'Succeeded'));
  onPods.delete!(pod('gone', 'n1', 'Running'));
  onConfigurations.update!({ apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: {} }, { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'best-fit' } });
  t.deepEqual(queued, [], 'asked on a microtask, after the burst');
  await afterMicrotasks();
  t.deepEqual(queued.splice(0), ['default/a', 'default/b'], 'each pending pod once');

  // An unbound pod is pending again, and its room is a retry for the others.
  onPods.update!(pod('b', 'n1', 'Running'), pod('b'));
  await afterMicrotasks();
  t.deepEqual(queued, ['default/b', 'default/a', 'default/b']);
});

test('reservation collector: the node a pod gave room back on is looked at; a pod that never had a node asks nothing', (t) => {
  const collector = new LedgerCollector({ client, nodes: informer<Node>(), pods: informer<Pod>() });
  const queued: string[] = [];
  const h = collector.podHandlers((key) => queued.push(key));
  h.update!(pod('a', 'n1', 'Running'), pod('a'));
  h.update!(pod('b', 'n2', 'Running'), pod('b', 'n2', 'Failed'));
  h.delete!(pod('c', 'n3', 'Running'));
  h.update!(pod('d', 'n1', 'Running'), pod('d', 'n1', 'Running'));
  h.update!(pod('e'), pod('e', undefined, 'Failed'));
  h.delete!(pod('f'));
  t.deepEqual(queued, ['n1', 'n2', 'n3']);
});

test('health: a new Node is judged at once, and each Lease renewal re-arms its node\'s check', (t) => {
  const clock = new FakeClock();
  const health = new HealthController({ client, nodes: informer<Node>(), leases: informer<Lease>(), pods: informer<Pod>(), clock });
  t.teardown(() => health.stop());
  const queued: string[] = [];
  const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime: '2026-01-01T00:00:00.000000Z' } };
  health.nodeHandlers((key) => queued.push(key)).add!(node('n1', 'True'));
  const onLeases = health.leaseHandlers((key) => queued.push(key));
  onLeases.add!(lease);
  onLeases.update!(lease, { ...lease, spec: { renewTime: '2026-01-01T00:00:01.000000Z' } });
  t.deepEqual(queued, ['n1', 'n1', 'n1'], 'by node name, not namespace/name');
});
