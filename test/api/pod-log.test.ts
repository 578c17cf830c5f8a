// pods/log over real HTTP. On a bare API server the recorded history is
// written by hand (Events about the pod, its status), to check how lines
// are made and how each parameter cuts them; in a control plane with
// virtual nodes, a pod's own life writes them: scheduled, started, healthy,
// restarted, moved, and the log keeps what happened before the move.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { eventually } from '../support/eventually.ts';
import { client, createAll, node, NODES, pod, podPath, PODS, withApp, type Client } from './helpers.ts';

const EVENTS = '/api/v1/namespaces/default/events';
const logPath = (name: string, q = '') => `${podPath(name)}/log${q ? `?${q}` : ''}`;

let seq = 0;
function event(p: any, reason: string, message: string, at: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name: `${p.metadata.name}.${++seq}`, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: p.metadata.name, namespace: 'default', uid: p.metadata.uid, ...(extra.fieldPath ? { fieldPath: extra.fieldPath } : {}) },
    reason, message, type: 'Normal', count: extra.count ?? 1, firstTimestamp: at, lastTimestamp: extra.lastTimestamp ?? at, source: { component: 'test' },
  };
}

/** A pod bound to n1 with the history a scheduler, an agent and the pod-health controller would have written. */
async function history(t: ExecutionContext, api: Client, containers = ['app']) {
  const [, web] = await createAll(t, api, [
    [NODES, node('n1')],
    [PODS, pod('web', { spec: { nodeName: 'n1', containers: containers.map((name) => ({ name, image: 'nginx' })) } })],
  ]);
  await createAll(t, api, [
    [EVENTS, event(web, 'Scheduled', 'Successfully assigned default/web to n1 (policy first-fit)', '2026-01-01T00:00:00Z')],
    [EVENTS, event(web, 'BackOff', `Back-off restarting failed container ${containers[0]} in pod web on n1 (restart 1, moves after 3)`, '2026-01-01T00:00:05Z', { fieldPath: `spec.containers{${containers[0]}}` })],
  ]);
  const status = {
    phase: 'Running',
    conditions: [{ type: 'ContainersReady', status: 'True', lastTransitionTime: '2026-01-01T00:00:07Z' }],
    containerStatuses: containers.map((name) => ({
      name, image: 'nginx', ready: true, restartCount: 1,
      state: { running: { startedAt: '2026-01-01T00:00:06.500Z' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'failed its health check', startedAt: '2026-01-01T00:00:01.250Z', finishedAt: '2026-01-01T00:00:05Z' } },
    })),
  };
  const r = await api.patch(`${podPath('web')}/status`, { status });
  t.is(r.status, 200, r.text);
  return web;
}

const FULL = [
  'Scheduled: Successfully assigned default/web to n1 (policy first-fit)',
  'Started: container app started on n1',
  'BackOff: Back-off restarting failed container app in pod web on n1 (restart 1, moves after 3)',
  'Terminated: container app exited with code 1 (Error: failed its health check)',
  'Started: container app started on n1',
  'Healthy: container app passed its health check on n1',
];

test('the log is text/plain, one line per thing that happened, oldest first', withApp, async (t, api) => {
  await history(t, api);
  const r = await api.get(logPath('web'));
  t.is(r.status, 200, r.text);
  t.regex(r.headers.get('content-type') ?? '', /^text\/plain/);
  t.deepEqual(r.text.split('\n'), [...FULL, '']);
});

test('timestamps=true prefixes each line with the kubelet\'s RFC 3339 nanosecond time', withApp, async (t, api) => {
  await history(t, api);
  const lines = (await api.get(logPath('web', 'timestamps=true'))).text.trimEnd().split('\n');
  t.is(lines[0], `2026-01-01T00:00:00.000000000Z ${FULL[0]}`);
  t.is(lines[1], `2026-01-01T00:00:01.250000000Z ${FULL[1]}`);
});

test('tailLines, sinceTime, limitBytes and previous cut the log as Kubernetes does', withApp, async (t, api) => {
  await history(t, api);
  t.deepEqual((await api.get(logPath('web', 'tailLines=2'))).text, FULL.slice(-2).join('\n') + '\n');
  t.is((await api.get(logPath('web', 'tailLines=0'))).text, '');
  t.deepEqual((await api.get(logPath('web', 'sinceTime=2026-01-01T00:00:05Z'))).text, FULL.slice(2).join('\n') + '\n');
  t.is((await api.get(logPath('web', 'limitBytes=9'))).text, 'Scheduled');
  t.deepEqual((await api.get(logPath('web', 'previous=true'))).text, FULL.slice(0, 4).join('\n') + '\n', 'up to the end of the previous run');
});

test('a pod of several containers needs container=, which must name one of them; each container has its own lines', withApp, async (t, api) => {
  await history(t, api, ['app', 'sidecar']);
  const none = await api.get(logPath('web'));
  t.is(none.status, 400);
  t.like(none.body, { kind: 'Status', reason: 'BadRequest', message: 'a container name must be specified for pod web, choose one of: [app sidecar]' });
  const wrong = await api.get(logPath('web', 'container=db'));
  t.is(wrong.status, 400);
  t.is(wrong.body.message, 'container db is not valid for pod web');
  const sidecar = (await api.get(logPath('web', 'container=sidecar'))).text;
  t.false(sidecar.includes('BackOff'), 'the restart event names the app container only');
  t.true(sidecar.startsWith('Scheduled: '), 'what happened to the pod is in every container\'s log');
});

test('previous=true of a container that never ended is 400, as the kubelet answers', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('fresh')]]);
  const r = await api.get(logPath('fresh', 'previous=true'));
  t.is(r.status, 400);
  t.is(r.body.message, 'previous terminated container "app" in pod "fresh" not found');
  t.is((await api.get(logPath('ghost'))).status, 404);
});

test('the log is the pod\'s by uid: a pod made again under the same name starts a new log', withApp, async (t, api) => {
  const old = await history(t, api);
  t.is((await api.delete(podPath('web'))).status, 200);
  await createAll(t, api, [[PODS, pod('web')]]);
  t.is((await api.get(logPath('web'))).text, '', `nothing of ${old.metadata.uid} in the new pod's log`);
});

test('follow=true sends the log so far, then each new line, and ends when the pod is deleted', withApp, async (t, api) => {
  const web = await history(t, api);
  const res = await fetch(api.url + logPath('web', 'follow=true&tailLines=1'), { headers: { authorization: `Bearer ${api.token}` } });
  t.is(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const readUntil = async (what: string) => {
    while (!text.includes(what)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the log ended before ${JSON.stringify(what)}: ${text}`);
      text += value;
    }
  };
  await readUntil(FULL.at(-1)!);
  t.is(text, FULL.at(-1) + '\n', 'tailLines=1: only the last line at first');
  await createAll(t, api, [[EVENTS, event(web, 'Moved', 'pod web moved from n1 to n2 after n1 failed (policy first-fit)', '2026-01-01T00:01:00Z')]]);
  await readUntil('Moved: ');
  t.is(text, `${FULL.at(-1)}\nMoved: pod web moved from n1 to n2 after n1 failed (policy first-fit)\n`, 'one new line, nothing sent twice');
  t.is((await api.delete(podPath('web'))).status, 200);
  for (;;) if ((await reader.read()).done) break;
  t.pass('the stream ended with the pod');
});

// ---- in a control plane with virtual nodes ---------------------------------------

test('a pod\'s own life writes its log: scheduled, started, healthy, restarts, the move to another node, and the lines before it stay', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'kcs-pod-log-'));
  const runtime = new VirtualRuntime({ transport: 'in-process', restartBackoff: { baseMs: 100, maxMs: 400 } });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 100, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const api = client(cp.url, cp.adminToken);
  // first-fit places the pod on "a" (first by name); after three restarts it moves to "b".
  await createAll(t, api, [[NODES, node('a')], [NODES, node('b')]]);
  await createAll(t, api, [[PODS, pod('web')]]);
  const log = async () => (await api.get(logPath('web'))).text;
  const onA = await eventually('web started and healthy on a', async () => { const l = await log(); return l.includes('Healthy: container app passed its health check on a') ? l : undefined; }, 15_000);
  t.regex(onA, /^Scheduled: Successfully assigned default\/web to a \(policy first-fit\)\nStarted: container app started on a\n/);

  await api.patch(podPath('web'), { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } });
  // Each run's lines are kept as Events as they drop out of its status: wait until all three runs on a are told.
  const runsOnA = (l: string) => l.split('\n').filter((x) => x === 'Started: container app started on a').length;
  const moved = await eventually('web started on b, its runs on a all told', async () => { const l = await log(); return l.includes('started on b') && runsOnA(l) === 3 ? l : undefined; }, 20_000);
  const lines = moved.trimEnd().split('\n');
  const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
  t.is(lines[0], 'Scheduled: Successfully assigned default/web to a (policy first-fit)', 'what happened before the move is kept');
  t.is(lines[1], 'Started: container app started on a', 'a start on the node it left is kept (as an Event, when it left)');
  t.true(onA.trimEnd().split('\n').every((l) => lines.includes(l)), `every line read on a is still there after restarts and the move:\n${onA}\n---\n${moved}`);
  t.is(lines.filter((l) => l === 'Started: container app started on a').length, 3, 'each of its three runs on a (the third restart moves it)');
  t.deepEqual(lines.filter((l) => l.startsWith('BackOff: ') && l.includes(' on a ')).map((l) => /\(restart (\d)/.exec(l)?.[1]), ['1', '2', '3'], 'each restart on a');
  t.true(at('TooManyRestarts: ') > at('BackOff: '));
  t.true(at('Moved: pod web moved from a to b') > at('TooManyRestarts: '));
  t.true(at('Started: container app started on b') > at('Moved: '), moved);
});
