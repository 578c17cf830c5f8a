// A Job's next step as a pure function of the Job, its pods and the time:
// how many pods to start, which completion indexes, which pods to delete,
// and the status, as Kubernetes' job controller decides them.
import test from 'ava';
import { formatIndexes, jobStep, podFor, COMPLETION_INDEX, type Job, type JobSpec } from '../../src/objects/job-status.ts';
import type { Pod } from '../../src/objects/types.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

function job(spec: Partial<JobSpec>, status?: Job['status']): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app' }] } }, ...spec }, ...(status ? { status } : {}),
  };
}

let serial = 0;
function pod(phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', extra: { index?: number; finishedAt?: number; restarts?: number; nodeName?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `pi-${serial++}`, namespace: 'default', uid: `p${serial}`, creationTimestamp: new Date(T0 + serial).toISOString(), ...(extra.index !== undefined ? { annotations: { [COMPLETION_INDEX]: String(extra.index) } } : {}) },
    spec: { containers: [{ name: 'app' }], ...(extra.nodeName !== undefined ? { nodeName: extra.nodeName } : {}) },
    status: {
      phase,
      containerStatuses: [{
        name: 'app', ready: phase === 'Running', restartCount: extra.restarts ?? 0,
        state: phase === 'Succeeded' || phase === 'Failed' ? { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: at(extra.finishedAt ?? 0).toISOString() } } : { running: {} },
      }],
    },
  };
}

test('completions 3 at parallelism 2: two start, then a third once one succeeds, then Complete', (t) => {
  const j = job({ completions: 3, parallelism: 2 });
  t.is(jobStep(j, [], { now: at(0) }).start.length, 2);
  t.is(jobStep(j, [pod('Running'), pod('Running')], { now: at(1) }).start.length, 0);
  const one = jobStep(j, [pod('Succeeded'), pod('Running')], { now: at(2) });
  t.is(one.start.length, 1);
  t.like(one.status, { active: 1, succeeded: 1, failed: 0 });
  const done = jobStep(j, [pod('Succeeded'), pod('Succeeded'), pod('Succeeded')], { now: at(5) });
  t.deepEqual(done.finished, { type: 'Complete', reason: undefined, message: undefined });
  t.is(done.status.completionTime, '2026-01-01T00:00:05Z');
  t.like(done.status.conditions?.find((c) => c.type === 'Complete'), { status: 'True' });
  t.like(done.status, { active: 0, succeeded: 3 });
});

test('a failed pod is replaced after the back-off, and past backoffLimit the Job fails and its running pods are deleted', (t) => {
  const j = job({ completions: 2, parallelism: 2, backoffLimit: 1 });
  const waiting = jobStep(j, [pod('Failed', { finishedAt: 10 }), pod('Running')], { now: at(10.4), backoffBaseMs: 1000 });
  t.is(waiting.start.length, 0, 'within 1 s of the failure: wait');
  t.is(waiting.requeueAfterMs, 600);
  t.is(jobStep(j, [pod('Failed', { finishedAt: 10 }), pod('Running')], { now: at(11), backoffBaseMs: 1000 }).start.length, 1);
  const running = pod('Running');
  const failed = jobStep(j, [pod('Failed', { finishedAt: 10 }), pod('Failed', { finishedAt: 12 }), running], { now: at(12) });
  t.deepEqual(failed.finished, { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  t.deepEqual(failed.remove, [running]);
  t.like(failed.status, { failed: 2, active: 0 });
  t.is(failed.status.completionTime, undefined, 'a failed Job has no completion time');
});

test('with restartPolicy OnFailure, container restarts count toward backoffLimit', (t) => {
  const j = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'app' }] } } });
  t.is(jobStep(j, [pod('Running', { restarts: 2 })], { now: at(0) }).finished, undefined);
  t.is(jobStep(j, [pod('Running', { restarts: 3 })], { now: at(0) }).finished?.reason, 'BackoffLimitExceeded');
});

test('a pod moved off a failed node (Pending again, unbound) is still active and no failure', (t) => {
  const step = jobStep(job({ completions: 1, backoffLimit: 0 }), [pod('Pending')], { now: at(0) });
  t.is(step.finished, undefined);
  t.like(step.status, { active: 1, failed: 0 });
  t.is(step.start.length, 0);
});

test('Indexed: each index gets a pod, completed indexes are kept and written as ranges', (t) => {
  const j = job({ completions: 5, parallelism: 3, completionMode: 'Indexed' });
  t.deepEqual(jobStep(j, [], { now: at(0) }).start, [{ index: 0 }, { index: 1 }, { index: 2 }]);
  const step = jobStep(j, [pod('Succeeded', { index: 0 }), pod('Succeeded', { index: 1 }), pod('Running', { index: 2 }), pod('Failed', { index: 3 })], { now: at(60) });
  t.is(step.status.completedIndexes, '0-1');
  t.deepEqual(step.start, [{ index: 3 }, { index: 4 }], 'the failed index again, and the next');
  const p = podFor(j, { index: 4 });
  t.is(p.metadata.annotations![COMPLETION_INDEX], '4');
  t.is(p.metadata.labels![COMPLETION_INDEX], '4');
  t.is(p.metadata.generateName, 'pi-4-');
  t.deepEqual(p.spec.containers[0]!.env, [{ name: 'JOB_COMPLETION_INDEX', value: '4' }]);
  t.like(p.metadata.ownerReferences![0], { kind: 'Job', name: 'pi', uid: 'job-uid', controller: true, blockOwnerDeletion: true });
  t.is(formatIndexes([7, 1, 2, 3, 5, 8]), '1-3,5,7-8');
});

test('activeDeadlineSeconds fails the Job at its deadline; until then it asks to be looked at then', (t) => {
  const j = job({ activeDeadlineSeconds: 30 }, { startTime: '2026-01-01T00:00:00Z' });
  t.is(jobStep(j, [pod('Running')], { now: at(20) }).requeueAfterMs, 10_000);
  t.like(jobStep(j, [pod('Running')], { now: at(30) }).finished, { type: 'Failed', reason: 'DeadlineExceeded' });
});

test('suspend deletes the running pods and says Suspended; resumed, it starts again', (t) => {
  const running = pod('Running');
  const suspended = jobStep(job({ suspend: true }), [running], { now: at(0) });
  t.deepEqual(suspended.remove, [running]);
  t.like(suspended.status.conditions?.find((c) => c.type === 'Suspended'), { status: 'True', reason: 'JobSuspended' });
  const resumed = jobStep(job({ suspend: false }, suspended.status), [], { now: at(5) });
  t.is(resumed.start.length, 1);
  t.like(resumed.status.conditions?.find((c) => c.type === 'Suspended'), { status: 'False', reason: 'JobResumed' });
  t.is(resumed.status.startTime, '2026-01-01T00:00:05Z');
});

test('a finished Job with ttlSecondsAfterFinished expires that long after it completed', (t) => {
  const done = jobStep(job({ ttlSecondsAfterFinished: 60 }), [pod('Succeeded')], { now: at(0) });
  const finished = job({ ttlSecondsAfterFinished: 60 }, done.status);
  t.is(jobStep(finished, [], { now: at(59) }).requeueAfterMs, 1000);
  t.true(jobStep(finished, [], { now: at(60) }).expired);
  t.falsy(jobStep(job({}, done.status), [], { now: at(1e6) }).expired, 'without a TTL it stays');
});

test('without completions, the first success stops new pods, and the Job completes when the others end', (t) => {
  const j = job({ parallelism: 3 });
  t.is(jobStep(j, [], { now: at(0) }).start.length, 3);
  const one = jobStep(j, [pod('Succeeded'), pod('Running'), pod('Running')], { now: at(1) });
  t.is(one.start.length, 0);
  t.is(one.finished, undefined);
  t.is(jobStep(j, [pod('Succeeded'), pod('Succeeded'), pod('Failed')], { now: at(2) }).finished?.type, 'Complete');
});
