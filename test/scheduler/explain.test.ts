// The decision record kept in a pod's status: whole for a small cluster,
// trimmed to the best-scored nodes and one refused node per reason beyond.
import test from 'ava';
import { EXPLAINED_NODES, explain } from '../../src/scheduler/explain.ts';
import type { Decision, NodeVerdict } from '../../src/scheduler/framework.ts';

const decision = (verdicts: NodeVerdict[]): Decision => ({ node: 'f29', policy: 'worst-fit', verdicts, message: '' });

test('a decision over few nodes is kept whole, in order', (t) => {
  const verdicts = [{ node: 'a', reasons: ['NotReady'] }, { node: 'b', reasons: [], score: 3 }];
  t.deepEqual(explain(decision(verdicts)), { policy: 'worst-fit', node: 'f29', nodes: [{ name: 'a', fits: false, reasons: ['NotReady'] }, { name: 'b', fits: true, score: 3 }] });
});

test('beyond EXPLAINED_NODES: the best-scored fits, then one refused node per reason, and how many were left out', (t) => {
  const fits = Array.from({ length: 30 }, (_, i): NodeVerdict => ({ node: `f${String(i).padStart(2, '0')}`, reasons: [], score: i }));
  const refused: NodeVerdict[] = [
    ...Array.from({ length: 20 }, (_, i): NodeVerdict => ({ node: `c${String(i).padStart(2, '0')}`, reasons: ['Insufficient cpu'] })),
    { node: 'z-cordoned', reasons: ['node(s) were unschedulable'] },
    { node: 'z-down', reasons: ['NotReady'] },
  ];
  const record = explain(decision([...refused, ...fits]), 1000);
  t.is(record.nodes.length, EXPLAINED_NODES);
  t.deepEqual(record.nodes.slice(0, 10).map((n) => n.name), ['f29', 'f28', 'f27', 'f26', 'f25', 'f24', 'f23', 'f22', 'f21', 'f20'], 'best scores first, the chosen one leading');
  const shown = record.nodes.slice(10).map((n) => n.name);
  t.true(shown.includes('z-cordoned') && shown.includes('z-down'), 'every reason is represented');
  t.is(shown.length, 10);
  t.is(record.omitted, 1000 - EXPLAINED_NODES);
});
