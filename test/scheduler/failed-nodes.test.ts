// The memory of the nodes a pod failed its health check on: how the
// annotation is written (each node with when and until when, expired ones
// dropped, the old single-node annotation folded in), how the scheduler
// filters on it as time passes, and what it says when no node is left.
import test from 'ava';
import { AVOID_NODE, FAILED_NODES, failedNodesOf, withFailure } from '../../src/objects/pod-health.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { decide } from '../../src/scheduler/framework.ts';
import { explain } from '../../src/scheduler/explain.ts';
import { failedEverywhereMessage, failedNodeDetail, failedNodesOutlook } from '../../src/scheduler/failed-nodes.ts';
import { avoidFailedNodes, DEFAULT_FILTERS, FAILED_HEALTH_CHECK } from '../../src/scheduler/plugins/filters.ts';
import { firstFit } from '../../src/scheduler/plugins/policies.ts';
import { buildSnapshot } from '../../src/scheduler/snapshot.ts';

const T0 = Date.parse('2026-05-01T10:00:00Z');
const MIN = 60_000;
const pod = (annotations: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u', annotations },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] },
});
const node = (name: string, ready = true): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4' } },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

test('each failure adds its node with when it failed and until when it is avoided, keeping the others until they expire', (t) => {
  const first = withFailure(pod(), 'a', new Date(T0), 10 * MIN);
  t.is(first, 'a=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z');
  const second = withFailure(pod({ [FAILED_NODES]: first }), 'b', new Date(T0 + 4 * MIN), 10 * MIN);
  t.is(second, 'a=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z,b=2026-05-01T10:04:00Z/2026-05-01T10:14:00Z');
  t.is(withFailure(pod({ [FAILED_NODES]: second }), 'c', new Date(T0 + 12 * MIN), 10 * MIN),
    'b=2026-05-01T10:04:00Z/2026-05-01T10:14:00Z,c=2026-05-01T10:12:00Z/2026-05-01T10:22:00Z', 'a expired at 10:10 and is dropped');
  t.is(withFailure(pod({ [FAILED_NODES]: first }), 'a', new Date(T0 + 5 * MIN), 10 * MIN), 'a=2026-05-01T10:05:00Z/2026-05-01T10:15:00Z', 'failing again renews the node\'s entry');
});

test('the old kcs.io/avoid-node is honoured with no expiry, and folded in at the next failure', (t) => {
  const old = pod({ [AVOID_NODE]: 'a' });
  t.deepEqual([...failedNodesOf(old).values()], [{ node: 'a', until: Number.POSITIVE_INFINITY }]);
  t.is(withFailure(old, 'b', new Date(T0), 10 * MIN), 'a=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z,b=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z');
});

test('a malformed entry is skipped, the rest still read', (t) => {
  const p = pod({ [FAILED_NODES]: 'a=yesterday/tomorrow,b=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z,=,c' });
  t.deepEqual([...failedNodesOf(p).keys()], ['b']);
});

test('the scheduler keeps the pod off each node it failed on until that node\'s entry expires, and says when it failed there', (t) => {
  const p = pod({ [FAILED_NODES]: `${withFailure(pod(), 'a', new Date(T0), 10 * MIN)},${withFailure(pod(), 'b', new Date(T0), 5 * MIN)}` });
  const snapshot = buildSnapshot([node('a'), node('b'), node('c')], []);
  const at = (ms: number) => decide({ pod: p, requests: { milliCpu: 100, memory: 0 }, now: ms }, snapshot, DEFAULT_FILTERS, firstFit);
  const early = at(T0 + MIN);
  t.is(early.node, 'c');
  t.deepEqual(explain(early, 3, failedNodeDetail(p)).nodes.filter((n) => !n.fits), [
    { name: 'a', fits: false, reasons: ['the pod failed its health check here at 2026-05-01T10:00:00Z (kept off until 2026-05-01T10:10:00Z)'] },
    { name: 'b', fits: false, reasons: ['the pod failed its health check here at 2026-05-01T10:00:00Z (kept off until 2026-05-01T10:05:00Z)'] },
  ]);
  t.is(at(T0 + 5 * MIN).node, 'b', 'b is free again at 10:05 (first-fit, a still excluded)');
  t.is(at(T0 + 10 * MIN).node, 'a');
  t.is(avoidFailedNodes.filter({ pod: p, requests: { milliCpu: 0, memory: 0 } }, snapshot.byName.get('a')!), FAILED_HEALTH_CHECK, 'without the time nothing expires');
});

test('when every schedulable node is one the pod failed on, it says so and when the first is free again', (t) => {
  const p = pod({ [FAILED_NODES]: `${withFailure(pod(), 'a', new Date(T0), 10 * MIN)},${withFailure(pod(), 'b', new Date(T0), 5 * MIN)}` });
  const nodes = buildSnapshot([node('a'), node('b'), node('down', false)], []).nodes;
  const outlook = failedNodesOutlook(p, nodes, T0 + MIN);
  t.deepEqual(outlook, { retryAt: T0 + 5 * MIN, everywhere: ['a', 'b'] }, 'a NotReady node could not take it anyway');
  t.is(failedEverywhereMessage(outlook), 'Failed its health check on every node: a, b; retrying after 2026-05-01T10:05:00Z.');
  t.deepEqual(failedNodesOutlook(p, [...nodes, ...buildSnapshot([node('c')], []).nodes], T0 + MIN), { retryAt: T0 + 5 * MIN }, 'c is left: not everywhere, but a retry when b expires');
  t.deepEqual(failedNodesOutlook(p, nodes, T0 + 10 * MIN), {}, 'all expired');
});
