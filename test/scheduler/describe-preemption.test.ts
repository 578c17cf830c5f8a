// `kcs describe pod` shows what the scheduler recorded about priority and
// preemption: the pod's priority and class, the node it is nominated to,
// whom it preempted there and why that node.
import test from 'ava';
import { describePod } from '../../src/cli/printers/describe.ts';
import type { Pod } from '../../src/objects/types.ts';
import type { SchedulingRecord } from '../../src/scheduler/explain.ts';

const record: SchedulingRecord = {
  policy: 'first-fit',
  nodes: [{ name: 'n1', fits: false, reasons: ['Insufficient cpu'] }, { name: 'n2', fits: false, reasons: ['Insufficient cpu'] }],
  preemption: {
    node: 'n2',
    reason: 'node n2: 2 victims of max priority 10 (n1 would need 2 victims of max priority 100)',
    victims: [{ pod: 'default/low-a', uid: 'u1', priority: 10, outcome: 'unbound' }, { pod: 'default/low-b', uid: 'u2', priority: 10, outcome: 'deleted' }],
  },
};

const urgent: Pod = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'urgent', namespace: 'default', uid: 'u0', creationTimestamp: '2026-05-01T10:00:00Z' },
  spec: { priority: 1000, priorityClassName: 'high', containers: [{ name: 'c', resources: { requests: { cpu: '2' } } }] },
  status: { phase: 'Pending', nominatedNodeName: 'n2', scheduling: record },
};

test('the pod section names its priority, its class and the node it is nominated to', (t) => {
  const lines = describePod(urgent, new Date('2026-05-01T10:01:00Z')).split('\n');
  t.true(lines.includes('Priority:           1000'));
  t.true(lines.includes('Priority Class Name: high'));
  t.true(lines.includes('NominatedNodeName:  n2'));
});

test('the scheduling section says whom the pod preempted, what became of each, and why that node', (t) => {
  const text = describePod(urgent, new Date('2026-05-01T10:01:00Z'));
  t.regex(text, /^Preemption: {9}nominated n2; node n2: 2 victims of max priority 10 \(n1 would need 2 victims of max priority 100\)$/m);
  t.regex(text, /^ {2}VICTIM +PRIORITY +OUTCOME$/m);
  t.regex(text, /^ {2}default\/low-a +10 +unbound$/m);
  t.regex(text, /^ {2}default\/low-b +10 +deleted$/m);
});

test('a pod without priority or preemption shows neither', (t) => {
  const plain: Pod = { ...urgent, spec: { containers: urgent.spec.containers }, status: { phase: 'Pending', scheduling: { ...record, preemption: undefined } } };
  const text = describePod(plain, new Date('2026-05-01T10:01:00Z'));
  t.notRegex(text, /Priority|NominatedNodeName|Preemption/);
});
