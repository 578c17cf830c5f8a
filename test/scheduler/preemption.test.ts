// Preemption's choices computed by hand: which pods are victims on a node
// (the fewest and least important, the rest reprieved), which node is
// chosen (kube-scheduler's order, criterion by criterion), and what is said.
import test from 'ava';
import { podRequests } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import type { PodRequest } from '../../src/scheduler/framework.ts';
import { DEFAULT_FILTERS } from '../../src/scheduler/plugins/filters.ts';
import {
  candidateLimit, compareCandidates, describeChoice, findCandidates, NO_VICTIMS, NOT_HELPFUL, pickCandidate, selectVictims, type Candidate, type PodOnNode,
} from '../../src/scheduler/preemption.ts';
import { buildSnapshot, type NodeInfo } from '../../src/scheduler/snapshot.ts';

const node = (name: string, cpu: string, ready = true): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pod = (name: string, cpu: string, priority: number, opts: { nodeName?: string; startTime?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { priority, nodeName: opts.nodeName, containers: [{ name: 'c', resources: { requests: { cpu } } }] },
  status: { phase: 'Running', ...(opts.startTime ? { startTime: opts.startTime } : {}) },
});
const onNode = (p: Pod): PodOnNode => ({ pod: p, requests: podRequests(p), priority: p.spec.priority ?? 0 });
const req = (p: Pod): PodRequest => ({ pod: p, requests: podRequests(p) });

/** One node holding these pods, as the scheduler's snapshot has it. */
function nodeWith(cpu: string, pods: Pod[]): { info: NodeInfo; pods: PodOnNode[] } {
  const bound = pods.map((p) => ({ ...p, spec: { ...p.spec, nodeName: 'n' } }));
  return { info: buildSnapshot([node('n', cpu)], bound).nodes[0]!, pods: bound.map(onNode) };
}
const names = (victims: PodOnNode[] | undefined) => victims?.map((v) => v.pod.metadata.name);

test('the victims are the least important pods of lower priority, as few as the pod needs; the others are reprieved', (t) => {
  // 4 CPUs full: 1 CPU of priority 5, two of 1 CPU at 50, one of 1 CPU at 500. The pod needs 2 CPUs at 100.
  const { info, pods } = nodeWith('4', [pod('p5', '1', 5), pod('p50a', '1', 50), pod('p50b', '1', 50), pod('p500', '1', 500)]);
  t.deepEqual(names(selectVictims(req(pod('new', '2', 100)), info, pods, DEFAULT_FILTERS)), ['p50b', 'p5'],
    'of the lower pods, the most important are put back first while the pod still fits: one 50, then the 5 and a 50 must go');
});

test('of equal priority, the pod started earlier is reprieved first', (t) => {
  const { info, pods } = nodeWith('2', [pod('young', '1', 1, { startTime: '2026-01-01T10:00:00Z' }), pod('old', '1', 1, { startTime: '2026-01-01T09:00:00Z' })]);
  t.deepEqual(names(selectVictims(req(pod('new', '1', 100)), info, pods, DEFAULT_FILTERS)), ['young']);
});

test('pods of equal or higher priority are never victims: a node where only they could make room is no candidate', (t) => {
  const { info, pods } = nodeWith('2', [pod('peer', '1', 100), pod('boss', '1', 1000)]);
  t.is(selectVictims(req(pod('new', '1', 100)), info, pods, DEFAULT_FILTERS), undefined);
  const mixed = nodeWith('2', [pod('peer', '1', 100), pod('low', '1', 1)]);
  t.is(selectVictims(req(pod('new', '2', 100)), mixed.info, mixed.pods, DEFAULT_FILTERS), undefined, 'evicting the low pod alone frees 1 CPU of the 2 needed');
});

test('pods already on their way out count as free room and are no victims again', (t) => {
  const { info, pods } = nodeWith('2', [pod('going', '1', 1), pod('staying', '1', 1)]);
  const going = pods.filter((p) => p.pod.metadata.name === 'going');
  const rest = pods.filter((p) => p.pod.metadata.name !== 'going');
  t.deepEqual(names(selectVictims(req(pod('new', '1', 100)), info, rest, DEFAULT_FILTERS, going)), [], 'the room it needs is being freed already');
});

const candidate = (node: string, victims: Array<[number, string?]>): Candidate => ({
  node, victims: victims.map(([priority, startTime], i) => onNode(pod(`${node}-${i}`, '1', priority, { startTime }))),
});

test('the node chosen has the lowest highest-victim priority first', (t) => {
  t.is(pickCandidate([candidate('a', [[100]]), candidate('b', [[10], [10], [10]])])?.node, 'b', 'three pods of 10 before one of 100');
});

test('then the smallest sum of victim priorities, each raised by 2^31 (so fewer victims weigh less, negative priorities too)', (t) => {
  t.is(pickCandidate([candidate('a', [[10], [10]]), candidate('b', [[10], [5]])])?.node, 'b');
  t.is(pickCandidate([candidate('a', [[-5], [-5]]), candidate('b', [[-5]])])?.node, 'b', 'not the two negative ones, whose plain sum is smaller');
});

test('then the fewest victims, then the latest-started most important victims, then name order', (t) => {
  // Equal highest and equal offset sums need equal counts; the count criterion is what the sum leaves to it.
  t.true(compareCandidates(candidate('a', [[10]]), candidate('b', [[10], [10]])) < 0);
  t.is(pickCandidate([candidate('a', [[10, '2026-01-01T09:00:00Z']]), candidate('b', [[10, '2026-01-01T10:00:00Z']])])?.node, 'b', 'less work lost on b');
  t.is(pickCandidate([candidate('b', [[10]]), candidate('a', [[10]])])?.node, 'a');
  t.is(pickCandidate([candidate('a', [[10]]), candidate('b', [])])?.node, 'b', 'no victim at all beats any');
});

test('only nodes refused for room are searched; the others are not helped by preemption', (t) => {
  const snapshot = buildSnapshot([node('a', '1'), node('b', '1'), node('down', '8', false)], [pod('x', '1', 100, { nodeName: 'a' }), pod('y', '1', 1, { nodeName: 'b' })]);
  const verdicts = [{ node: 'a', reasons: ['Insufficient cpu'] }, { node: 'b', reasons: ['Insufficient cpu'] }, { node: 'down', reasons: ['NotReady'] }];
  const podsOn = (n: string) => ({ pods: snapshot.byName.get(n) ? (n === 'a' ? [onNode(pod('x', '1', 100))] : n === 'b' ? [onNode(pod('y', '1', 1))] : []) : [], leaving: [] });
  const search = findCandidates(req(pod('new', '1', 100)), verdicts, (n) => snapshot.byName.get(n), podsOn, DEFAULT_FILTERS);
  t.deepEqual(search.candidates.map((c) => [c.node, names(c.victims)]), [['b', ['y']]]);
  t.deepEqual(search.refused, [{ node: 'a', reasons: [NO_VICTIMS] }, { node: 'down', reasons: [NOT_HELPFUL] }]);
});

test('the search stops at kube-scheduler\'s number of candidates: 10% of the nodes, at least 100', (t) => {
  t.is(candidateLimit(5), 5);
  t.is(candidateLimit(500), 100);
  t.is(candidateLimit(5000), 500);
  const snapshot = buildSnapshot(Array.from({ length: 3 }, (_, i) => node(`n${i}`, '1')), []);
  const verdicts = snapshot.nodes.map((n) => ({ node: n.name, reasons: ['Insufficient cpu'] }));
  const seen: string[] = [];
  const podsOn = (n: string) => { seen.push(n); return { pods: [onNode(pod(`${n}-low`, '1', 0))], leaving: [] }; };
  const full = (info: NodeInfo) => ({ ...info, allocated: { ...info.allocated, milliCpu: 1000, pods: 1 } });
  findCandidates(req(pod('new', '1', 100)), verdicts, (n) => full(snapshot.byName.get(n)!), podsOn, DEFAULT_FILTERS, 2);
  t.deepEqual(seen, ['n0', 'n1']);
});

test('the choice is explained against the runners-up', (t) => {
  const all = [candidate('n1', [[100], [100], [100]]), candidate('n2', [[100], [100]]), candidate('n3', [[500]])];
  const chosen = pickCandidate(all)!;
  t.is(describeChoice(chosen, all), 'node n2: 2 victims of max priority 100 (n1 would need 3 victims of max priority 100; n3 would need 1 victim of max priority 500)');
  const only = candidate('a', [[1]]);
  t.is(describeChoice(only, [only]), 'node a: 1 victim of max priority 1 (the only node where preemption helps)');
});
