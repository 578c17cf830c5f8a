// Pod health as the agent reports it, as pure functions: the back-off, the
// annotation, and each step of a container's life, with times by hand.
import test from 'ava';
import { nextPodStatus, restartBackoffMs, type RestartBackoff } from '../../src/agent/pod-status.ts';
import { maxRestartsOf, podFailures, podRestarts, unhealthyContainers } from '../../src/objects/pod-health.ts';
import type { Pod, PodStatus } from '../../src/objects/types.ts';

const BACKOFF: RestartBackoff = { baseMs: 1000, maxMs: 30_000 };
const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000);

function pod(annotations: Record<string, string> = {}, status?: PodStatus, containers = ['app']): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations },
    spec: { nodeName: 'n1', containers: containers.map((name) => ({ name, image: 'nginx' })) },
    ...(status ? { status } : {}),
  } as Pod;
}

/** Applies what nextPodStatus returns, as the agent's merge patch would. */
function step(p: Pod, seconds: number, check = true): Pod {
  const next = nextPodStatus(p, { now: at(seconds), backoff: BACKOFF, check });
  return next ? { ...p, status: { ...p.status, ...next } } : p;
}

const cond = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);

test('the back-off starts at its base, doubles with each restart and stops at its cap', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => restartBackoffMs(n, BACKOFF)), [0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  t.is(restartBackoffMs(3, { baseMs: 50, maxMs: 120 }), 120);
  t.is(restartBackoffMs(2), 2000, 'the default: 1 s doubling');
});

test('the annotation fails every container with "true", the named ones with a list, none otherwise', (t) => {
  const two = (v?: string) => [...unhealthyContainers(pod(v === undefined ? {} : { 'kcs.io/simulate-unhealthy': v }, undefined, ['a', 'b']))].sort();
  t.deepEqual(two('true'), ['a', 'b']);
  t.deepEqual(two('b, nope'), ['b']);
  t.deepEqual(two('false'), []);
  t.deepEqual(two(''), []);
  t.deepEqual(two(), []);
});

test('the restart limit comes from the pod\'s annotation when it is a whole number >= 1 or "off", else the default', (t) => {
  t.is(maxRestartsOf(pod()), 3);
  t.is(maxRestartsOf(pod(), 5), 5);
  t.is(maxRestartsOf(pod({ 'kcs.io/max-restarts': '1' })), 1);
  t.is(maxRestartsOf(pod({ 'kcs.io/max-restarts': 'off' })), undefined);
  for (const bad of ['0', '-2', 'two', '1.5']) t.is(maxRestartsOf(pod({ 'kcs.io/max-restarts': bad })), 3, bad);
});

test('a pod just given to the node starts Running and Ready with its containers running and no restarts', (t) => {
  const p = step(pod({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }), 0, false);
  t.is(p.status?.phase, 'Running');
  t.deepEqual(p.status?.containerStatuses, [{ name: 'app', image: 'nginx', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00.000Z' } }, lastState: {} }]);
  t.deepEqual(p.status?.conditions?.map((c) => `${c.type}=${c.status}`), ['PodScheduled=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True']);
  t.is(nextPodStatus(p, { now: at(5), backoff: BACKOFF, check: true }), undefined, 'healthy and unchanged: nothing to write, however often it is checked');
});

test('a container status an earlier agent wrote without imageID gains the field, once', (t) => {
  const p = step(pod({}, { phase: 'Pending' }), 0, false);
  const { imageID: _, ...withoutImageId } = p.status!.containerStatuses![0]!;
  const old = { ...p, status: { ...p.status, containerStatuses: [withoutImageId] } };
  const next = nextPodStatus(old, { now: at(1), backoff: BACKOFF, check: true });
  t.is(next?.containerStatuses?.[0]?.imageID, '', 'Kubernetes requires it: a typed client cannot decode the status without it');
  t.deepEqual({ ...next!.containerStatuses![0], imageID: undefined }, { ...withoutImageId, imageID: undefined }, 'nothing else changes');
});

test('statuses a pod brings from another node are not taken over: it arrives Pending and starts with no restarts', (t) => {
  const old = step(step(pod({ 'kcs.io/simulate-unhealthy': 'true' }), 0, false), 1);
  t.is(podFailures(old), 1);
  const arrived = step({ ...old, status: { ...old.status, phase: 'Pending' } }, 10, false);
  t.is(podFailures(arrived), 0);
});

test('an unhealthy pod restarts at each check once its back-off is over: 1 s, then 2 s, then 4 s', (t) => {
  let p = step(pod({ 'kcs.io/simulate-unhealthy': 'true' }), 0, false);
  t.false(p.status!.containerStatuses![0]!.ready, 'failing from the start: running, not ready');
  t.is(cond(p, 'Ready')?.reason, 'ContainersNotReady');
  t.is(cond(p, 'Ready')?.message, 'containers with unready status: [app]');

  p = step(p, 1);
  const cs = p.status!.containerStatuses![0]!;
  t.is(cs.restartCount, 1);
  t.deepEqual(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1s restarting failed container=app pod=web_default(u1)' } });
  t.like(cs.lastState?.terminated, { exitCode: 1, reason: 'Error', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z' });
  t.is(cond(p, 'Ready')?.status, 'False');

  t.is(nextPodStatus(p, { now: at(1.5), backoff: BACKOFF, check: true }), undefined, 'backing off: no write');
  p = step(p, 2);
  t.like(p.status!.containerStatuses![0], { restartCount: 1, ready: false, state: { running: { startedAt: '2026-01-01T00:00:02.000Z' } } });
  p = step(p, 3);
  t.like(p.status!.containerStatuses![0], { restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s restarting failed container=app pod=web_default(u1)' } } });
  t.is(nextPodStatus(p, { now: at(4.9), backoff: BACKOFF, check: true }), undefined, '2 s not over yet');
  p = step(p, 5);
  p = step(p, 6);
  t.like(p.status!.containerStatuses![0], { restartCount: 3, state: { waiting: { message: 'back-off 4s restarting failed container=app pod=web_default(u1)' } } });
  t.is(podRestarts(p), 3);
});

test('a pod whose annotation is removed runs Ready again after its back-off, on the same count', (t) => {
  let p = step(step(pod({ 'kcs.io/simulate-unhealthy': 'true' }), 0, false), 1);
  p = { ...p, metadata: { ...p.metadata, annotations: {} } };
  t.is(nextPodStatus(p, { now: at(1.5), backoff: BACKOFF, check: true }), undefined, 'still waiting out the back-off');
  p = step(p, 2);
  t.like(p.status!.containerStatuses![0], { restartCount: 1, ready: true, started: true, state: { running: { startedAt: '2026-01-01T00:00:02.000Z' } } });
  const ready = cond(p, 'Ready')!;
  t.is(ready.status, 'True');
  t.is(ready.reason, undefined, 'no reason left over from being unready');
  t.is(ready.lastTransitionTime, '2026-01-01T00:00:02Z');
  t.is(nextPodStatus(p, { now: at(10), backoff: BACKOFF, check: true }), undefined);
});

test('only the failing container of two restarts; the pod is unready while it is', (t) => {
  let p = step(pod({ 'kcs.io/simulate-unhealthy': 'side' }, undefined, ['app', 'side']), 0, false);
  p = step(p, 1);
  t.deepEqual(p.status!.containerStatuses!.map((c) => [c.name, c.restartCount, c.ready]), [['app', 0, true], ['side', 1, false]]);
  t.is(cond(p, 'ContainersReady')?.message, 'containers with unready status: [side]');
});

test('finished pods are left as they ended', (t) => {
  t.is(nextPodStatus(pod({ 'kcs.io/simulate-unhealthy': 'true' }, { phase: 'Succeeded' }), { now: at(0), check: true }), undefined);
});
