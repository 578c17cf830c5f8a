// Jobs on a real control plane with virtual nodes in this process: the Job
// controller starts pods from the template, the nodes run them for their
// kcs.io/lifetime, and the Job completes with the right counts; a Job whose
// pods always fail retries up to its backoffLimit, then fails; an Indexed
// Job runs each index once; a deleted Job takes its pods with it. (Exact
// timing is the pure jobStep's tests' business, on times given by hand.)
import test, { type ExecutionContext } from 'ava';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Job } from '../../src/objects/job-status.ts';
import type { KubeObject, Pod } from '../../src/objects/types.ts';
import { eventually } from '../support/eventually.ts';
import { virtualCluster } from '../support/virtual-cluster.ts';

const K = (kind: string) => kindByName(kind)!;

const cluster = (t: ExecutionContext) => virtualCluster(t, { jobBackoffBaseMs: 50 });

function jobManifest(name: string, spec: Record<string, unknown>, lifetime: string, restartPolicy = 'Never'): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { ...spec, template: { metadata: { annotations: { 'kcs.io/lifetime': lifetime } }, spec: { restartPolicy, containers: [{ name: 'work', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } } },
  };
}

const podsOf = async (c: ReturnType<Awaited<ReturnType<typeof cluster>>['cp']['adminClient']>, job: string) =>
  (await c.list<Pod>(K('Pod'), 'default', { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
const condition = (j: Job, type: string) => j.status?.conditions?.find((x) => x.type === type && x.status === 'True');

test('a Job of 4 completions, 2 at a time, runs 4 pods to success and completes with the counts', async (t) => {
  const { c } = await cluster(t);
  await c.create(K('Job'), 'default', jobManifest('four', { completions: 4, parallelism: 2 }, '300ms'));
  let most = 0;
  const done = await eventually('the Job Complete', async () => {
    most = Math.max(most, (await podsOf(c, 'four')).filter((p) => p.status?.phase !== 'Succeeded').length);
    const j = await c.get<Job>(K('Job'), 'default', 'four');
    return condition(j, 'Complete') ? j : undefined;
  });
  t.like(done.status, { succeeded: 4, failed: 0, active: 0 });
  t.truthy(done.status!.startTime);
  t.truthy(done.status!.completionTime);
  const pods = await podsOf(c, 'four');
  t.is(pods.length, 4, 'no pod started twice');
  t.true(pods.every((p) => p.status?.phase === 'Succeeded' && p.metadata.ownerReferences?.[0]?.kind === 'Job'));
  t.true(most <= 2, `never more than parallelism running: saw ${most}`);
});

test('a Job whose pods always fail retries up to backoffLimit, then fails', async (t) => {
  const { c } = await cluster(t);
  await c.create(K('Job'), 'default', jobManifest('flaky', { backoffLimit: 2 }, '100ms fail=1'));
  const failed = await eventually('the Job Failed', async () => {
    const j = await c.get<Job>(K('Job'), 'default', 'flaky');
    return condition(j, 'Failed') ? j : undefined;
  });
  t.like(condition(failed, 'Failed'), { reason: 'BackoffLimitExceeded' });
  t.like(failed.status, { failed: 3, succeeded: 0, active: 0 });
  t.is((await podsOf(c, 'flaky')).length, 3, 'the first try and two retries');
});

test('an Indexed Job runs each index once; deleting the Job deletes its pods', async (t) => {
  const { c } = await cluster(t);
  await c.create(K('Job'), 'default', jobManifest('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, '200ms'));
  const done = await eventually('the Job Complete', async () => {
    const j = await c.get<Job>(K('Job'), 'default', 'idx');
    return condition(j, 'Complete') ? j : undefined;
  });
  t.is(done.status!.completedIndexes, '0-2');
  const indexes = (await podsOf(c, 'idx')).map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
  t.deepEqual(indexes, ['0', '1', '2']);
  await c.delete(K('Job'), 'default', 'idx', { propagationPolicy: 'Foreground' });
  await eventually('the pods gone with the Job', async () => (await podsOf(c, 'idx')).length === 0);
  t.pass();
});

test('a Job\'s pod on a node that fails moves and runs again elsewhere, and is no failure (backoffLimit 0 still completes)', async (t) => {
  const { c, runtime } = await virtualCluster(t, { jobBackoffBaseMs: 50, nodeGraceMs: 1500 });
  await c.create(K('Node'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' }, spec: { capacity: { cpu: '8', memory: '8Gi' } } });
  await c.create(K('Job'), 'default', jobManifest('mover', { backoffLimit: 0 }, '2s'));
  const first = await eventually('the pod running', async () => (await podsOf(c, 'mover')).find((p) => p.status?.phase === 'Running' && p.spec.nodeName));
  runtime.freeze(first.spec.nodeName!); // its agent stops: no more heartbeats
  const done = await eventually('the Job Complete', async () => {
    const j = await c.get<Job>(K('Job'), 'default', 'mover');
    return condition(j, 'Complete') ? j : undefined;
  });
  t.like(done.status, { succeeded: 1, failed: 0 });
  const pods = await podsOf(c, 'mover');
  t.is(pods.length, 1, 'the same pod, moved: no replacement was made');
  t.is(pods[0]!.metadata.uid, first.metadata.uid);
  t.not(pods[0]!.spec.nodeName, first.spec.nodeName, 'it ran to its end on the other node');
});
