// Workflows on a real control plane with virtual nodes in this process: a
// diamond (prepare -> train, test -> report) runs each step's Job only once
// what it depends on has completed, and succeeds; a step that fails fails
// its dependents, which never start; deleting the Workflow deletes its Jobs.
import test, { type ExecutionContext } from 'ava';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Job } from '../../src/objects/job-status.ts';
import type { Workflow } from '../../src/objects/workflows.ts';
import { eventually } from '../support/eventually.ts';
import { virtualCluster } from '../support/virtual-cluster.ts';

const K = (kind: string) => kindByName(kind)!;

const cluster = async (t: ExecutionContext) => (await virtualCluster(t, { jobBackoffBaseMs: 50 })).c;

const step = (name: string, dependsOn: string[], lifetime = '200ms') => ({
  name, ...(dependsOn.length ? { dependsOn } : {}),
  template: { spec: { backoffLimit: 0, template: { metadata: { annotations: { 'kcs.io/lifetime': lifetime } }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } } } },
});
const diamond = (name: string, trainLifetime = '200ms') => ({
  apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name },
  spec: { jobs: [step('prepare', []), step('train', ['prepare'], trainLifetime), step('test', ['prepare']), step('report', ['train', 'test'])] },
});
const complete = (j: Job | undefined) => !!j?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');

test('a diamond runs in dependency order: each step\'s Job exists only once what it depends on completed', async (t) => {
  const c = await cluster(t);
  await c.create(K('Workflow'), 'default', diamond('ml'));
  const broken: string[] = [];
  const done = await eventually('the Workflow Succeeded', async () => {
    const jobs = new Map((await c.list<Job>(K('Job'), 'default', { labelSelector: 'kcs.io/workflow=ml' })).items.map((j) => [j.metadata.labels!['kcs.io/workflow-step']!, j]));
    // Looked at on every poll: a step's Job never exists before its dependencies completed.
    for (const [s, deps] of [['train', ['prepare']], ['test', ['prepare']], ['report', ['train', 'test']]] as const) {
      if (jobs.has(s) && !deps.every((d) => complete(jobs.get(d)))) broken.push(`${s} started before ${deps.join(', ')} completed`);
    }
    const wf = await c.get<Workflow>(K('Workflow'), 'default', 'ml');
    return wf.status?.phase === 'Succeeded' ? wf : undefined;
  });
  t.deepEqual(broken, []);
  t.deepEqual(done.status!.jobs!.map((s) => [s.name, s.phase, s.jobName]), [['prepare', 'Succeeded', 'ml-prepare'], ['train', 'Succeeded', 'ml-train'], ['test', 'Succeeded', 'ml-test'], ['report', 'Succeeded', 'ml-report']]);
  t.like(done.status!.conditions!.find((x) => x.type === 'Complete'), { status: 'True' });
  const jobs = (await c.list<Job>(K('Job'), 'default', { labelSelector: 'kcs.io/workflow=ml' })).items;
  const report = jobs.find((j) => j.metadata.name === 'ml-report')!;
  for (const dep of ['ml-train', 'ml-test']) {
    t.true(Date.parse(report.metadata.creationTimestamp!) >= Date.parse(jobs.find((j) => j.metadata.name === dep)!.status!.completionTime!), `report made after ${dep} completed`);
  }

  await c.delete(K('Workflow'), 'default', 'ml', { propagationPolicy: 'Foreground' });
  await eventually('its Jobs gone with it', async () => (await c.list<Job>(K('Job'), 'default', { labelSelector: 'kcs.io/workflow=ml' })).items.length === 0);
  t.pass();
});

test('a failed step fails the steps that depend on it, which never start, and then the Workflow', async (t) => {
  const c = await cluster(t);
  await c.create(K('Workflow'), 'default', diamond('bad', '100ms fail=1'));
  const failed = await eventually('the Workflow Failed', async () => {
    const wf = await c.get<Workflow>(K('Workflow'), 'default', 'bad');
    return wf.status?.phase === 'Failed' ? wf : undefined;
  });
  const phase = Object.fromEntries(failed.status!.jobs!.map((s) => [s.name, s]));
  t.like(phase.train, { phase: 'Failed', message: 'job bad-train failed: Job has reached the specified backoff limit' });
  t.like(phase.test, { phase: 'Succeeded' }, 'the other branch ran to its end');
  t.like(phase.report, { phase: 'Failed', message: 'not started: dependency train failed' });
  t.false((await c.list<Job>(K('Job'), 'default')).items.some((j) => j.metadata.name === 'bad-report'), 'report never started');
  t.like(failed.status!.conditions!.find((x) => x.type === 'Failed'), { status: 'True', reason: 'JobFailed' });
});
