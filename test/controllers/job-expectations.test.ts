// The Job controller's expectations: pods it created and has not yet seen
// count as running (no pod started twice while the watch lags), and a pod
// seen arriving stops counting at once, even when it is gone again before
// the Job is next looked at (preempted right away): the Job replaces it then,
// not when the expectation would have lapsed.
import test from 'ava';
import { JobController } from '../../src/controllers/jobs.ts';
import type { Informer } from '../../src/client/informer.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import type { Job } from '../../src/objects/job-status.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Pod } from '../../src/objects/types.ts';
import { FakeClock } from '../../src/util/clock.ts';

const job: Job = {
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'job-uid', resourceVersion: '5' },
  spec: { completions: 2, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app' }] } } },
};

/** Just what the controller reads of its informers: the Job by key, and the pods a Job owns (as the watch has shown them). */
function fixture() {
  const shown: Pod[] = [];
  const jobs = { get: () => job, keys: () => ['default/pi'] } as unknown as Informer<Job>;
  const pods = { hasIndex: () => true, addIndex: () => {}, byIndex: () => [...shown] } as unknown as Informer<Pod>;
  const created: Pod[] = [];
  const client = {
    commit: async (ops: Array<{ verb: string; kind: { kind: string }; object: KubeObject }>) => {
      for (const op of ops) if (op.verb === 'create' && op.kind.kind === 'Pod') created.push(op.object as Pod);
      return [];
    },
  } as unknown as KcsClient;
  const controller = new JobController({ client, jobs, pods, kind: kindByName('Job')!, clock: new FakeClock() });
  const handlers = controller.podHandlers(() => {});
  return { controller, handlers, created, shown };
}

test('pods created and not yet seen count as running: a second look starts none', async (t) => {
  const f = fixture();
  await f.controller.reconcile('default/pi');
  t.is(f.created.length, 2);
  await f.controller.reconcile('default/pi');
  t.is(f.created.length, 2, 'the watch has shown neither yet: nothing more is started');
});

test('a pod seen arriving and then gone before the Job is looked at again is replaced at once', async (t) => {
  const f = fixture();
  await f.controller.reconcile('default/pi');
  const [first, second] = f.created;
  // The first arrives and is deleted (preempted) before the next reconcile; the second arrives and stays.
  f.handlers.add!(first!);
  f.handlers.delete!(first!);
  f.handlers.add!(second!);
  f.shown.push(second!);
  await f.controller.reconcile('default/pi');
  t.is(f.created.length, 3, 'one replacement for the pod that went');
  t.is(f.created[2]!.metadata.ownerReferences![0]!.uid, 'job-uid');
});
