// A Workflow's next step as a pure function of it and its Jobs: a diamond
// (prepare -> train, test -> report) runs in dependency order; a failed step
// fails its dependents, with the reason, and the Workflow once nothing runs.
import test from 'ava';
import type { Job } from '../../src/objects/job-status.ts';
import { jobFor, workflowStep, WORKFLOW_STEP_LABEL, type Workflow } from '../../src/objects/workflow-status.ts';

const now = new Date('2026-01-01T00:00:00Z');
const template = { template: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app' }] } } } } };
const diamond: Workflow = {
  apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'ml', namespace: 'default', uid: 'wf-uid' },
  spec: { jobs: [
    { name: 'report', dependsOn: ['train', 'test'], ...template },
    { name: 'train', dependsOn: ['prepare'], ...template },
    { name: 'test', dependsOn: ['prepare'], ...template },
    { name: 'prepare', ...template },
  ] },
};

function job(step: string, finished?: 'Complete' | 'Failed'): Job {
  return {
    ...jobFor(diamond, diamond.spec.jobs.find((s) => s.name === step)!),
    ...(finished ? { status: { conditions: [{ type: finished, status: 'True', message: finished === 'Failed' ? 'Job has reached the specified backoff limit' : undefined }] } } : {}),
  } as Job;
}
const jobs = (...list: Job[]) => new Map(list.map((j) => [j.metadata.labels![WORKFLOW_STEP_LABEL]!, j]));
const phases = (w: ReturnType<typeof workflowStep>) => Object.fromEntries(w.status.jobs!.map((s) => [s.name, s.phase]));

test('a diamond starts at its root, then both middles together, then the last once both succeeded', (t) => {
  const first = workflowStep(diamond, jobs(), now);
  t.deepEqual(first.create.map((s) => s.name), ['prepare']);
  t.deepEqual(phases(first), { report: 'Pending', train: 'Pending', test: 'Pending', prepare: 'Running' });
  t.is(first.status.phase, 'Running');
  t.deepEqual(workflowStep(diamond, jobs(job('prepare')), now).create, [], 'prepare still runs: nothing more starts');
  const middle = workflowStep(diamond, jobs(job('prepare', 'Complete')), now);
  t.deepEqual(middle.create.map((s) => s.name).sort(), ['test', 'train']);
  const halfway = workflowStep(diamond, jobs(job('prepare', 'Complete'), job('train', 'Complete'), job('test')), now);
  t.deepEqual(halfway.create, [], 'report waits for test');
  t.is(halfway.status.jobs!.find((s) => s.name === 'report')!.message, 'waiting for test');
  const last = workflowStep(diamond, jobs(job('prepare', 'Complete'), job('train', 'Complete'), job('test', 'Complete')), now);
  t.deepEqual(last.create.map((s) => s.name), ['report']);
  const done = workflowStep(diamond, jobs(job('prepare', 'Complete'), job('train', 'Complete'), job('test', 'Complete'), job('report', 'Complete')), now);
  t.is(done.status.phase, 'Succeeded');
  t.like(done.status.conditions?.find((c) => c.type === 'Complete'), { status: 'True', reason: 'AllJobsSucceeded' });
  t.truthy(done.status.completionTime);
});

test('a failed step fails what depends on it without starting it, and the Workflow fails once nothing runs', (t) => {
  const running = workflowStep(diamond, jobs(job('prepare', 'Complete'), job('train', 'Failed'), job('test')), now);
  t.deepEqual(running.create, []);
  t.like(running.status.jobs!.find((s) => s.name === 'report'), { phase: 'Failed', message: 'not started: dependency train failed' });
  t.like(running.status.jobs!.find((s) => s.name === 'train'), { phase: 'Failed', message: 'job ml-train failed: Job has reached the specified backoff limit' });
  t.is(running.status.phase, 'Running', 'test still runs');
  const over = workflowStep(diamond, jobs(job('prepare', 'Complete'), job('train', 'Failed'), job('test', 'Complete')), now);
  t.is(over.status.phase, 'Failed');
  t.regex(over.status.conditions!.find((c) => c.type === 'Failed')!.message!, /^report: not started: dependency train failed; train: job ml-train failed: Job has reached the specified backoff limit$/);
});

test('a step\'s Job is named after both, labelled with both, and owned by the Workflow', (t) => {
  const j = job('train');
  t.is(j.metadata.name, 'ml-train');
  t.like(j.metadata.labels, { 'kcs.io/workflow': 'ml', 'kcs.io/workflow-step': 'train' });
  t.like(j.metadata.ownerReferences![0], { kind: 'Workflow', name: 'ml', uid: 'wf-uid', controller: true });
});
