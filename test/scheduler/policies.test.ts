// Placements computed by hand for each policy, including ties and exact fits.
import test from 'ava';
import { decide, type PodRequest } from '../../src/scheduler/framework.ts';
import { DEFAULT_FILTERS } from '../../src/scheduler/plugins/filters.ts';
import { bestFit, binpack, firstFit, spread, worstFit } from '../../src/scheduler/plugins/policies.ts';
import { buildSnapshot } from '../../src/scheduler/snapshot.ts';
import { podRequests } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';

const node = (name: string, cpu: string, opts: { memory?: string; ready?: boolean; unschedulable?: boolean; labels?: Record<string, string>; pods?: string } = {}): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: opts.labels },
  spec: { capacity: { cpu, ...(opts.memory ? { memory: opts.memory } : {}), ...(opts.pods ? { pods: opts.pods } : {}) }, unschedulable: opts.unschedulable },
  status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});
const pod = (name: string, cpu: string, opts: { memory?: string; nodeName?: string; nodeSelector?: Record<string, string>; phase?: 'Succeeded' } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { nodeName: opts.nodeName, nodeSelector: opts.nodeSelector, containers: [{ name: 'c', resources: { requests: { cpu, ...(opts.memory ? { memory: opts.memory } : {}) } } }] },
  status: opts.phase ? { phase: opts.phase } : undefined,
});
const req = (p: Pod): PodRequest => ({ pod: p, requests: podRequests(p) });

// a: 4 CPUs with 3 used (1 left); b: 8 with 2 used (6 left); c: 2 with none used (2 left).
const cluster = () => buildSnapshot(
  [node('c', '2'), node('a', '4'), node('b', '8')],
  [pod('x', '3', { nodeName: 'a' }), pod('y', '2', { nodeName: 'b' })],
);

test('first-fit takes the first node in name order that fits', (t) => {
  t.is(decide(req(pod('p', '1')), cluster(), DEFAULT_FILTERS, firstFit).node, 'a');
  t.is(decide(req(pod('p', '1500m')), cluster(), DEFAULT_FILTERS, firstFit).node, 'b');
});

test('best-fit takes the node left with the least CPU, an exact fit first', (t) => {
  // 1 CPU: a would keep 0, b 5, c 1 -> a (exact fit).
  t.is(decide(req(pod('p', '1')), cluster(), DEFAULT_FILTERS, bestFit).node, 'a');
  // 2 CPUs: a does not fit; b would keep 4, c 0 -> c.
  t.is(decide(req(pod('p', '2')), cluster(), DEFAULT_FILTERS, bestFit).node, 'c');
});

test('worst-fit takes the node left with the most CPU', (t) => {
  t.is(decide(req(pod('p', '1')), cluster(), DEFAULT_FILTERS, worstFit).node, 'b');
});

test('ties go to the node first in name order', (t) => {
  const snap = buildSnapshot([node('n2', '4'), node('n1', '4'), node('n3', '4')], []);
  for (const policy of [firstFit, bestFit, worstFit, spread, binpack()]) {
    t.is(decide(req(pod('p', '1')), snap, DEFAULT_FILTERS, policy).node, 'n1', policy.name);
  }
});

test('spread takes the node with the fewest pods', (t) => {
  const snap = buildSnapshot([node('a', '8'), node('b', '8')], [pod('1', '100m', { nodeName: 'a' }), pod('2', '100m', { nodeName: 'a' }), pod('3', '1', { nodeName: 'b' })]);
  t.is(decide(req(pod('p', '100m')), snap, DEFAULT_FILTERS, spread).node, 'b');
});

test('binpack weighs CPU and memory utilisation after placing the pod', (t) => {
  // a: 4 CPU / 4Gi, 2 CPU and 1Gi used; b: 4 CPU / 4Gi, 1 CPU and 3Gi used. Pod: 1 CPU, 0.
  const snap = buildSnapshot([node('a', '4', { memory: '4Gi' }), node('b', '4', { memory: '4Gi' })],
    [pod('x', '2', { memory: '1Gi', nodeName: 'a' }), pod('y', '1', { memory: '3Gi', nodeName: 'b' })]);
  const p = req(pod('p', '1'));
  // equal weights: a = (3/4 + 1/4)/2 = 0.5; b = (2/4 + 3/4)/2 = 0.625 -> b
  t.is(decide(p, snap, DEFAULT_FILTERS, binpack()).node, 'b');
  // CPU counts 3 times as much: a = (3*0.75 + 0.25)/4 = 0.625; b = (3*0.5 + 0.75)/4 = 0.5625 -> a
  t.is(decide(p, snap, DEFAULT_FILTERS, binpack({ cpu: 3, memory: 1 })).node, 'a');
});

test('nothing is ever overcommitted: an exact fit passes, a millicore more does not', (t) => {
  const snap = buildSnapshot([node('a', '2', { memory: '1Gi' })], [pod('x', '1500m', { memory: '512Mi', nodeName: 'a' })]);
  t.is(decide(req(pod('p', '500m', { memory: '512Mi' })), snap, DEFAULT_FILTERS, firstFit).node, 'a');
  t.is(decide(req(pod('p', '501m')), snap, DEFAULT_FILTERS, firstFit).node, undefined);
  t.is(decide(req(pod('p', '1m', { memory: '513Mi' })), snap, DEFAULT_FILTERS, firstFit).node, undefined);
});

test('finished pods hold nothing; a node stating no memory does not limit it', (t) => {
  const snap = buildSnapshot([node('a', '1')], [pod('done', '1', { nodeName: 'a', phase: 'Succeeded' })]);
  t.is(decide(req(pod('p', '1', { memory: '64Gi' })), snap, DEFAULT_FILTERS, firstFit).node, 'a');
});

test('an unschedulable pod gets the reasons counted per node, most common first', (t) => {
  const snap = buildSnapshot([
    node('a', '1'), node('b', '1'), node('c', '1'),
    node('d', '8', { ready: false }), node('e', '8', { ready: false }),
  ], []);
  const d = decide(req(pod('p', '2')), snap, DEFAULT_FILTERS, firstFit);
  t.is(d.node, undefined);
  t.is(d.message, '0/5 nodes are available: 3 Insufficient cpu, 2 NotReady.');
  t.deepEqual(d.verdicts.find((v) => v.node === 'd')?.reasons, ['NotReady']);
});

test('cordoned nodes, node selectors and pod limits filter with their own reasons', (t) => {
  const snap = buildSnapshot([
    node('a', '8', { unschedulable: true }),
    node('b', '8', { labels: { zone: 'x' } }),
    node('c', '8', { labels: { zone: 'y' }, pods: '1' }),
  ], [pod('q', '1', { nodeName: 'c' })]);
  const d = decide(req(pod('p', '1', { nodeSelector: { zone: 'y' } })), snap, DEFAULT_FILTERS, firstFit);
  // a is cordoned and unlabelled (two reasons), b has the wrong zone, c is full; equal counts go alphabetically.
  t.is(d.message, "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable, 1 Too many pods.");
});

test('with no nodes at all the message says so', (t) => {
  t.is(decide(req(pod('p', '1')), buildSnapshot([], []), DEFAULT_FILTERS, firstFit).message, '0/0 nodes are available: no nodes exist.');
});
