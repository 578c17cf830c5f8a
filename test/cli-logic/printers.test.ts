import test from 'ava';
import { humanDuration } from '../../src/objects/age.ts';
import { renderTable } from '../../src/cli/printers/table.ts';
import { columnsFor, nodeStatus } from '../../src/objects/columns.ts';
import type { Node, Pod } from '../../src/objects/types.ts';

test('ages read like kubectl', (t) => {
  const s = 1000;
  t.is(humanDuration(5 * s), '5s');
  t.is(humanDuration(119 * s), '119s');
  t.is(humanDuration(150 * s), '2m30s');
  t.is(humanDuration(600 * s), '10m');
  t.is(humanDuration(4 * 3600 * s + 5 * 60 * s), '4h5m');
  t.is(humanDuration(30 * 3600 * s), '30h');
  t.is(humanDuration(3 * 86400 * s), '3d');
  t.is(humanDuration(800 * 86400 * s), '2y');
});

test('tables align columns three spaces apart without trailing spaces', (t) => {
  const out = renderTable(['NAME', 'CPU'], [['a', '4'], ['longer-name', '16']]);
  t.is(out, 'NAME          CPU\na             4\nlonger-name   16');
});

test('node status follows the Ready condition and cordoning', (t) => {
  const node = (status?: 'True' | 'False' | 'Unknown', unschedulable = false): Node => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { capacity: { cpu: '1' }, unschedulable },
    status: status ? { conditions: [{ type: 'Ready', status }] } : undefined,
  });
  t.is(nodeStatus(node('True')), 'Ready');
  t.is(nodeStatus(node('False')), 'NotReady');
  t.is(nodeStatus(node('Unknown')), 'Unknown');
  t.is(nodeStatus(node()), 'Unknown');
  t.is(nodeStatus(node('True', true)), 'Ready,SchedulingDisabled');
});

test('pod rows show the summed request and the node', (t) => {
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { nodeName: 'node-1', containers: [
      { name: 'a', resources: { requests: { cpu: '250m', memory: '128Mi' } } },
      { name: 'b', resources: { requests: { cpu: '1', memory: '128Mi' } } },
    ] },
    status: { phase: 'Pending' },
  };
  const cols = columnsFor('Pod', { wide: false, allNamespaces: true });
  const row = cols.map((c) => c.value(pod, new Date('2026-01-01T00:00:30Z')));
  t.deepEqual(cols.map((c) => c.header), ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'CPU', 'MEMORY', 'NODE', 'AGE']);
  t.deepEqual(row, ['default', 'p', '0/2', 'Pending', '0', '1250m', '256Mi', 'node-1', '30s']);
});

test('pod rows show ready containers, CrashLoopBackOff over Running, and restarts summed with the last one\'s age, as kubectl', (t) => {
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { nodeName: 'node-1', containers: [{ name: 'a' }, { name: 'b' }] },
    status: { phase: 'Running', containerStatuses: [
      { name: 'a', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:00:10.000Z' } } },
      { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:00:25.500Z' } } },
    ] },
  };
  const cols = columnsFor('Pod', { wide: false, allNamespaces: false });
  const row = Object.fromEntries(cols.map((c) => [c.header, c.value(pod, new Date('2026-01-01T00:00:30Z'))]));
  t.like(row, { READY: '1/2', STATUS: 'CrashLoopBackOff', RESTARTS: '3 (4s ago)' });
  const healthy = { ...pod, status: { phase: 'Running' as const, containerStatuses: pod.status!.containerStatuses!.map((c) => ({ ...c, ready: true, restartCount: 0, state: { running: {} }, lastState: {} })) } };
  t.like(Object.fromEntries(cols.map((c) => [c.header, c.value(healthy, new Date('2026-01-01T00:00:30Z'))])), { READY: '2/2', STATUS: 'Running', RESTARTS: '0' });
});

test('heartbeat history shows each renewal, the time since the previous, and marks gaps', async (t) => {
  const { heartbeatSection } = await import('../../src/cli/printers/describe.ts');
  const lines = heartbeatSection(['2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:01.000000Z', '2026-01-01T00:00:02.000000Z', '2026-01-01T00:00:09.000000Z'], new Date('2026-01-01T00:00:10Z'));
  t.is(lines[0], 'Heartbeats:          last 4, latest 1s ago');
  t.regex(lines[1], /00:00:02Z\s+\+1\.0s\n/);
  t.regex(lines[1], /00:00:09Z\s+\+7\.0s  \(gap\)/);
  t.deepEqual(heartbeatSection([]), ['Heartbeats:          <none>']);
});

test('the agent keeps the last ten heartbeats, newest last', async (t) => {
  const { appendHeartbeat } = await import('../../src/agent/agent.ts');
  let list: string | undefined;
  for (let i = 0; i < 12; i++) list = appendHeartbeat(list, `t${i}`);
  t.is(list, 't2,t3,t4,t5,t6,t7,t8,t9,t10,t11');
});

test('describe shows each container\'s state, last state, readiness and restarts, as kubectl', async (t) => {
  const { containerStatusLines } = await import('../../src/cli/printers/describe.ts');
  t.deepEqual(containerStatusLines(undefined), [], 'not on a node yet: nothing to show');
  t.deepEqual(containerStatusLines({
    name: 'app', ready: false, restartCount: 2,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s restarting failed container=app pod=web_default(u)' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-01-01T00:00:02.000Z', finishedAt: '2026-01-01T00:00:03.000Z' } },
  }), [
    '    State:         Waiting',
    '      Reason:      CrashLoopBackOff',
    '      Message:     back-off 2s restarting failed container=app pod=web_default(u)',
    '    Last State:    Terminated',
    '      Reason:      Error',
    '      Exit Code:   1',
    '      Started:     2026-01-01T00:00:02.000Z',
    '      Finished:    2026-01-01T00:00:03.000Z',
    '    Ready:         False',
    '    Restart Count: 2',
  ]);
  t.deepEqual(containerStatusLines({ name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00.000Z' } }, lastState: {} }), [
    '    State:         Running',
    '      Started:     2026-01-01T00:00:00.000Z',
    '    Ready:         True',
    '    Restart Count: 0',
  ]);
});

test('namespaces print NAME STATUS AGE as kubectl does; a kind without columns of its own prints its name and age', (t) => {
  const now = new Date('2026-01-01T00:10:00Z');
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {}, status: { phase: 'Active' } } as never;
  const cols = columnsFor('Namespace', { wide: false, allNamespaces: false });
  t.deepEqual(cols.map((c) => c.header), ['NAME', 'STATUS', 'AGE']);
  t.deepEqual(cols.map((c) => c.value(ns, now)), ['team', 'Active', '10m']);
  t.deepEqual(columnsFor('SchedulerConfiguration', { wide: true, allNamespaces: false }).map((c) => c.header), ['NAME', 'AGE']);
});
