// What a node agent reports, as pure functions: expectations computed by hand.
import test from 'ava';
import { desiredNodeStatus, podIds, READY_REASON, statusChanged } from '../../src/agent/status.ts';
import type { Condition, Node, NodeStatus, Pod, ResourceList } from '../../src/objects/types.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:00:10.500Z');

function node(capacity: ResourceList, status?: NodeStatus): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'node-uid' }, spec: { capacity }, ...(status ? { status } : {}) };
}

function pod(uid: string, requests: ResourceList[] = [], init: ResourceList[] = []): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${uid}`, namespace: 'default', uid },
    spec: {
      nodeName: 'n1',
      containers: requests.length ? requests.map((r, i) => ({ name: `c${i}`, image: 'nginx', resources: { requests: r } })) : [{ name: 'c', image: 'nginx' }],
      ...(init.length ? { initContainers: init.map((r, i) => ({ name: `i${i}`, image: 'busybox', resources: { requests: r } })) } : {}),
    },
  } as Pod;
}

const ready = (s: NodeStatus) => s.conditions!.find((c) => c.type === 'Ready')!;

// ---- podIds -------------------------------------------------------------------------

test('podIds are the pods\' UIDs, sorted, whatever order the pods come in', (t) => {
  t.deepEqual(podIds([pod('c'), pod('a'), pod('b')]), ['a', 'b', 'c']);
  t.deepEqual(podIds([]), []);
});

test('podIds leaves out a pod without a UID', (t) => {
  const noUid = pod('x');
  delete noUid.metadata.uid;
  t.deepEqual(podIds([pod('b'), noUid, pod('a')]), ['a', 'b']);
});

// ---- capacity -----------------------------------------------------------------------

test('capacity is the spec\'s, normalized, with pods defaulting to 110, and allocatable equals it', (t) => {
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T0);
  t.deepEqual(s.capacity, { cpu: '4', memory: '8Gi', pods: '110' });
  t.deepEqual(s.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
});

test('capacity keeps millicores that are not whole cores and writes whole units in their largest exact suffix', (t) => {
  t.deepEqual(desiredNodeStatus(node({ cpu: '1500m', memory: '8192Mi', pods: '20' }), [], T0).capacity, { cpu: '1500m', memory: '8Gi', pods: '20' });
  t.deepEqual(desiredNodeStatus(node({ cpu: '2000m', memory: '1536Mi' }), [], T0).capacity, { cpu: '2', memory: '1536Mi', pods: '110' });
  t.deepEqual(desiredNodeStatus(node({ cpu: '0.5', memory: '1G' }), [], T0).capacity, { cpu: '500m', memory: '1000000000', pods: '110' });
});

// ---- allocated and pods -------------------------------------------------------------

test('with no pods, allocated is zero and pods is empty', (t) => {
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T0);
  t.deepEqual(s.allocated, { cpu: '0', memory: '0', pods: '0' });
  t.deepEqual(s.pods, []);
});

test('allocated sums the pods\' requests and pods lists their UIDs sorted', (t) => {
  const pods = [
    pod('uid-b', [{ cpu: '250m', memory: '64Mi' }, { cpu: '250m', memory: '64Mi' }]), // 500m, 128Mi
    pod('uid-a', [{ cpu: '1', memory: '1Gi' }]), // 1000m, 1024Mi
    pod('uid-c'), // no requests
  ];
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), pods, T0);
  t.deepEqual(s.allocated, { cpu: '1500m', memory: '1152Mi', pods: '3' });
  t.deepEqual(s.pods, ['uid-a', 'uid-b', 'uid-c']);
});

test('allocated counts a pod\'s init container when it asks for more than its containers together', (t) => {
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [pod('u', [{ cpu: '100m', memory: '64Mi' }], [{ cpu: '2', memory: '32Mi' }])], T0);
  t.deepEqual(s.allocated, { cpu: '2', memory: '64Mi', pods: '1' });
});

// ---- conditions ---------------------------------------------------------------------

test('a node without status becomes Ready=True with the agent\'s reason, its transition now', (t) => {
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T0);
  t.is(s.conditions!.length, 1);
  t.deepEqual(ready(s), {
    type: 'Ready', status: 'True', reason: READY_REASON, message: 'kcs agent is posting ready status',
    lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z',
  });
  t.is(READY_REASON, 'KcsAgentReady');
});

test('a node already Ready keeps its lastTransitionTime and gets a new lastHeartbeatTime', (t) => {
  const prev: Condition = { type: 'Ready', status: 'True', reason: READY_REASON, lastHeartbeatTime: '2025-12-31T23:00:00Z', lastTransitionTime: '2025-12-31T22:00:00Z' };
  const r = ready(desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T1));
  const r2 = ready(desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, { conditions: [prev] }), [], T1));
  t.is(r.lastTransitionTime, '2026-01-01T00:00:10Z', 'whole seconds');
  t.is(r2.status, 'True');
  t.is(r2.lastTransitionTime, '2025-12-31T22:00:00Z');
  t.is(r2.lastHeartbeatTime, '2026-01-01T00:00:10Z');
});

test('a node that was NotReady or Unknown becomes Ready with its transition now', (t) => {
  for (const status of ['False', 'Unknown'] as const) {
    const prev: Condition = { type: 'Ready', status, reason: 'NodeStatusUnknown', lastHeartbeatTime: '2025-12-31T23:00:00Z', lastTransitionTime: '2025-12-31T22:00:00Z' };
    const r = ready(desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, { conditions: [prev] }), [], T1));
    t.like(r, { status: 'True', reason: READY_REASON, lastTransitionTime: '2026-01-01T00:00:10Z', lastHeartbeatTime: '2026-01-01T00:00:10Z' }, status);
  }
});

test('a Ready=True condition without a lastTransitionTime gets one now', (t) => {
  const r = ready(desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, { conditions: [{ type: 'Ready', status: 'True' }] }), [], T1));
  t.is(r.lastTransitionTime, '2026-01-01T00:00:10Z');
});

test('conditions others own and other status fields are kept as they are', (t) => {
  const runtime: Condition = { type: 'RuntimeReady', status: 'True', reason: 'Running', lastTransitionTime: '2025-12-31T00:00:00Z' };
  const prev: NodeStatus = {
    containerID: 'virtual://n1/abc',
    conditions: [runtime, { type: 'Ready', status: 'False', reason: 'Old' }],
    capacity: { cpu: '1', memory: '1Gi', pods: '1' },
  };
  const s = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, prev), [], T0);
  t.is(s.containerID, 'virtual://n1/abc');
  t.deepEqual(s.conditions!.map((c) => c.type), ['Ready', 'RuntimeReady']);
  t.deepEqual(s.conditions![1], runtime);
  t.deepEqual(s.capacity, { cpu: '4', memory: '8Gi', pods: '110' }, 'capacity is recomputed, not kept');
});

test('desiredNodeStatus does not change the node it is given', (t) => {
  const n = node({ cpu: '4', memory: '8Gi' }, { conditions: [{ type: 'Ready', status: 'False' }], pods: ['old'] });
  const before = structuredClone(n);
  desiredNodeStatus(n, [pod('a')], T0);
  t.deepEqual(n, before);
});

// ---- statusChanged ------------------------------------------------------------------

test('statusChanged is false when only the heartbeat time moved', (t) => {
  const pods = [pod('a', [{ cpu: '100m' }])];
  const first = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), pods, T0);
  const again = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, first), pods, T1);
  t.not(ready(again).lastHeartbeatTime, ready(first).lastHeartbeatTime);
  t.false(statusChanged(first, again));
});

test('statusChanged is false for the same status read back as JSON', (t) => {
  const first = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [pod('a')], T0);
  t.false(statusChanged(JSON.parse(JSON.stringify(first)) as NodeStatus, first));
});

test('statusChanged is true when the pods differ', (t) => {
  const first = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [pod('a')], T0);
  const more = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, first), [pod('a'), pod('b')], T0);
  t.true(statusChanged(first, more));
  t.true(statusChanged(more, desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }, more), [], T0)));
});

test('statusChanged is true when Ready changed, or there was no status yet', (t) => {
  const desired = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T0);
  const notReady: NodeStatus = { ...desired, conditions: [{ ...ready(desired), status: 'False' }] };
  t.true(statusChanged(notReady, desired));
  t.true(statusChanged(undefined, desired));
});

test('statusChanged is true when the capacity changed', (t) => {
  const desired = desiredNodeStatus(node({ cpu: '4', memory: '8Gi' }), [], T0);
  t.true(statusChanged(desired, desiredNodeStatus(node({ cpu: '8', memory: '8Gi' }, desired), [], T0)));
});
