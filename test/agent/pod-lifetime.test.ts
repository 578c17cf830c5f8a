// Containers that finish (kcs.io/lifetime), as pure functions with times by
// hand: the annotation, the seeded outcome of each run, and the container
// and pod states the agent reports as a kubelet would, for each
// restartPolicy.
import test from 'ava';
import { nextLifetimeDue, nextPodStatus, type RestartBackoff } from '../../src/agent/pod-status.ts';
import { exitCodeOf, lifetimeErrors, parseLifetime, LIFETIME_FIELD } from '../../src/objects/pod-lifetime.ts';
import type { Pod, PodStatus } from '../../src/objects/types.ts';

const BACKOFF: RestartBackoff = { baseMs: 1000, maxMs: 30_000 };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

function pod(lifetime: string, restartPolicy?: string, containers = ['app'], name = 'job-1'): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: 'u1', annotations: { 'kcs.io/lifetime': lifetime } },
    spec: { nodeName: 'n1', containers: containers.map((c) => ({ name: c, image: 'busybox' })), ...(restartPolicy ? { restartPolicy } : {}) },
  } as Pod;
}

/** Applies what nextPodStatus returns, as the agent's write would. */
function step(p: Pod, seconds: number, check = false): Pod {
  const next = nextPodStatus(p, { now: at(seconds), backoff: BACKOFF, check });
  return next ? { ...p, status: { ...p.status, ...next } as PodStatus } : p;
}
const started = (p: Pod) => step({ ...p, status: { phase: 'Pending' } }, 0);
const state = (p: Pod, c = 0) => p.status!.containerStatuses![c]!;

test('the annotation: one lifetime for every container, or per container, with exit code, failure chance and seed', (t) => {
  const { lifetimes, errors } = parseLifetime('10s exit=2; sidecar: 500ms fail=0.25 seed=9', ['app', 'sidecar', 'log']);
  t.deepEqual(errors, []);
  t.deepEqual(Object.fromEntries(lifetimes), {
    app: { durationMs: 10_000, exitCode: 2, failProbability: 0, seed: 1 },
    sidecar: { durationMs: 500, exitCode: 0, failProbability: 0.25, seed: 9 },
    log: { durationMs: 10_000, exitCode: 2, failProbability: 0, seed: 1 },
  });
  t.deepEqual(parseLifetime('db: 5s', ['app', 'db']).lifetimes.has('app'), false, 'a container not named runs forever');
  t.deepEqual(parseLifetime('soon exit=300 fail=2 seed=x; nope: 1s; 1s; 2s', ['app']).errors, [
    '"soon" is not a duration (for example 10s, 500ms, 2m)',
    'nope: the pod has no container of that name (its containers: app)',
    'more than one entry without a container name',
  ]);
  t.deepEqual(parseLifetime('1s exit=300 fail=2 seed=x bogus', ['app']).errors, [
    'exit=300: an exit code is a whole number from 0 to 255',
    'fail=2: a probability is a number from 0 to 1',
    'seed=x: a seed is a whole number',
    '"bogus": expected exit=N, fail=P or seed=S',
  ]);
  const [error] = lifetimeErrors(pod('forever'));
  t.like(error, { reason: 'FieldValueInvalid', field: LIFETIME_FIELD });
  t.regex(error!.message, /^Invalid value: "forever": "forever" is not a duration/);
});

test('a failure chance is drawn the same for the same pod, run and seed, differs between pods, and comes out near its probability', (t) => {
  const l = { durationMs: 1000, exitCode: 0, failProbability: 0.3, seed: 42 };
  const a = pod('1s fail=0.3 seed=42');
  t.is(exitCodeOf(a, 'app', l, 0), exitCodeOf(a, 'app', l, 0));
  let failed = 0;
  for (let i = 0; i < 2000; i++) if (exitCodeOf(pod('', undefined, ['app'], `job-${i}`), 'app', l, 0) !== 0) failed++;
  t.true(failed > 2000 * 0.25 && failed < 2000 * 0.35, `${failed} of 2000 failed at 0.3`);
  t.is(exitCodeOf(a, 'app', { ...l, failProbability: 1, exitCode: 0 }, 3), 1, 'a failure with no exit code set exits 1');
  t.is(exitCodeOf(a, 'app', { ...l, failProbability: 1, exitCode: 7 }, 3), 7);
  t.is(exitCodeOf(a, 'app', { ...l, failProbability: 0, exitCode: 7 }, 3), 7, 'exit=N alone: it always ends so');
});

test('restartPolicy Never: the container runs its time, ends Completed at the moment it was due, and the pod Succeeded, not Ready', (t) => {
  let p = started(pod('5s', 'Never'));
  t.is(nextLifetimeDue(p, BACKOFF), T0 + 5000);
  p = step(p, 4.9);
  t.is(p.status!.phase, 'Running');
  p = step(p, 7); // noticed late: the times say when it really ended
  t.is(p.status!.phase, 'Succeeded');
  t.deepEqual(state(p).state, { terminated: { exitCode: 0, reason: 'Completed', message: 'ended as its kcs.io/lifetime says', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:05.000Z' } });
  t.false(state(p).ready);
  t.like(p.status!.conditions!.find((c) => c.type === 'Ready'), { status: 'False', reason: 'PodCompleted' });
  t.is(nextPodStatus(p, { now: at(100), backoff: BACKOFF, check: true }), undefined, 'a finished pod is left as it is');
  t.is(nextLifetimeDue(p, BACKOFF), undefined);
});

test('a container that exits non-zero fails the pod under Never; under OnFailure it restarts after its back-off and counts it', (t) => {
  let never = step(started(pod('2s exit=3', 'Never')), 2);
  t.is(never.status!.phase, 'Failed');
  t.like(state(never).state!.terminated, { exitCode: 3, reason: 'Error' });

  let p = step(started(pod('2s exit=3', 'OnFailure')), 2);
  t.is(p.status!.phase, 'Running');
  t.is(state(p).restartCount, 1);
  t.is(state(p).state!.waiting!.reason, 'CrashLoopBackOff');
  t.like(state(p).lastState!.terminated, { exitCode: 3, finishedAt: '2026-01-01T00:00:02.000Z' });
  t.is(nextLifetimeDue(p, BACKOFF), T0 + 3000, 'the restart is due after 1 s of back-off');
  p = step(p, 3);
  t.deepEqual(state(p).state, { running: { startedAt: '2026-01-01T00:00:03.000Z' } });
  p = step(p, 5);
  t.is(state(p).restartCount, 2);
  t.is(nextLifetimeDue(p, BACKOFF), T0 + 7000, 'then 2 s of back-off');
});

test('OnFailure leaves a container that succeeded; Always restarts it anyway, as a kubelet does', (t) => {
  const ok = step(started(pod('1s', 'OnFailure')), 1);
  t.is(ok.status!.phase, 'Succeeded');
  const always = step(started(pod('1s')), 1);
  t.is(always.status!.phase, 'Running');
  t.is(state(always).restartCount, 1);
  t.like(state(always).lastState!.terminated, { exitCode: 0, reason: 'Completed' });
});

test('a pod finishes only when all its containers have: Failed if any exited non-zero', (t) => {
  let p = started(pod('app: 1s; side: 3s exit=1', 'Never', ['app', 'side']));
  p = step(p, 1);
  t.is(p.status!.phase, 'Running', 'one container still runs');
  t.like(state(p, 0).state!.terminated, { exitCode: 0 });
  t.is(nextLifetimeDue(p, BACKOFF), T0 + 3000);
  p = step(p, 3);
  t.is(p.status!.phase, 'Failed');
  const forever = step(started(pod('app: 1s', 'Never', ['app', 'server'])), 60);
  t.is(forever.status!.phase, 'Running', 'a container without a lifetime runs on');
});
