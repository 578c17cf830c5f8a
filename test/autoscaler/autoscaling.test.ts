// The autoscaler's arithmetic: how many template nodes pending pods need,
// which pods a template node can never hold, and whether a node's pods fit
// elsewhere.
import test from 'ava';
import type { Node, Pod } from '../../src/objects/types.ts';
import { describeTemplate, estimateScaleUp, NODEPOOL_LABEL, podsFitElsewhere, requestedShare, stillUnschedulable, type NodePoolSpec } from '../../src/scheduler/autoscaling.ts';
import { buildSnapshot } from '../../src/scheduler/snapshot.ts';

const spec: NodePoolSpec = { minNodes: 1, maxNodes: 4, template: { metadata: { labels: { size: 'small' } }, spec: { capacity: { cpu: '2', memory: '4Gi' } } } };

function pod(name: string, cpu: string, extra: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu, memory: '256Mi' } } }], ...extra } };
}

function node(name: string, cpu: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { capacity: { cpu, memory: '4Gi' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
}

test('pending pods are packed first-fit, largest first, onto as few template nodes as they need', (t) => {
  // 1.5 + 1.5 + 0.5 + 0.5: two 2-CPU nodes (1.5+0.5 each), not three.
  const estimate = estimateScaleUp('small', spec, [pod('a', '500m'), pod('b', '1500m'), pod('c', '500m'), pod('d', '1500m')]);
  t.is(estimate.nodes, 2);
  t.deepEqual(estimate.helped.map((p) => p.metadata.name), ['b', 'd', 'a', 'c']);
  t.deepEqual(estimate.refused, []);
  t.is(estimate.needNew, 4);
});

test('a pod no template node could hold is refused with the scheduler\'s reason, and asks for nothing', (t) => {
  const estimate = estimateScaleUp('small', spec, [pod('huge', '3'), pod('picky', '100m', { nodeSelector: { size: 'large' } }), pod('ok', '100m', { nodeSelector: { size: 'small', [NODEPOOL_LABEL]: 'small' } })]);
  t.is(estimate.nodes, 1);
  t.deepEqual(estimate.helped.map((p) => p.metadata.name), ['ok']);
  t.deepEqual(estimate.refused.map((r) => [r.pod.metadata.name, r.reason]), [['huge', 'Insufficient cpu'], ['picky', "node(s) didn't match Pod's node affinity/selector"]]);
});

test('nodes on their way take pending pods first: no second node for a pod one is coming for', (t) => {
  const coming = buildSnapshot([{ ...node('small-x', '2', { [NODEPOOL_LABEL]: 'small', size: 'small' }), status: {} }], []).nodes;
  t.is(estimateScaleUp('small', spec, [pod('a', '1')], coming).nodes, 0);
  const two = estimateScaleUp('small', spec, [pod('a', '1'), pod('b', '1500m')], coming);
  t.deepEqual([two.nodes, two.helped.length, two.needNew], [1, 2, 1], 'b on the node coming, a on a new one');
});

test('a node\'s pods fit elsewhere only if every one of them does, on Ready schedulable room', (t) => {
  const snapshot = buildSnapshot([node('n1', '2'), node('n2', '2')], [{ ...pod('x', '1500m'), spec: { ...pod('x', '1500m').spec, nodeName: 'n2' } }]);
  const others = snapshot.nodes.filter((n) => n.name === 'n2');
  t.true(podsFitElsewhere([pod('a', '500m')], others).fits);
  const no = podsFitElsewhere([pod('a', '500m'), pod('b', '500m')], others);
  t.false(no.fits);
  t.true(podsFitElsewhere([], []).fits, 'an empty node goes anywhere');
  t.is(requestedShare(snapshot.byName.get('n2')!), 0.75);
});

test('a template is described by its size, for event messages', (t) => {
  t.is(describeTemplate(spec), '2-CPU, 4Gi node');
  t.is(describeTemplate({ ...spec, template: { spec: { capacity: { cpu: '1500m' } } } }), '1500m CPU node');
});

test('pods marked unschedulable that fit the nodes there are now (one became Ready, or room was freed) ask for no node', (t) => {
  const nodes = buildSnapshot([node('n1', '2'), { ...node('n2', '4'), status: {} }], []).nodes;
  // n1 (Ready, 2 CPUs) takes a and b; c fits only on n2, which is not Ready.
  t.deepEqual(stillUnschedulable([pod('a', '1'), pod('b', '1'), pod('c', '1')], nodes).map((p) => p.metadata.name), ['c']);
});
