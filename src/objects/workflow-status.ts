// What a Workflow (kcs.io/v1) should do next, as a pure function of the
// Workflow and the Jobs it made: a step's Job is made once every step it
// depends on has succeeded; a step whose dependency failed fails too, with
// the reason, and is never started; the Workflow succeeds when every step
// has, and fails once a step failed and none still runs. The controller
// (controllers/workflows.ts) makes the Jobs and writes the status.
import { setCondition } from './conditions.ts';
import { jobFinished, type Job, type JobSpec } from './job-status.ts';
import type { Workflow, WorkflowJob, WorkflowJobPhase, WorkflowJobStatus, WorkflowStatus } from './workflows.ts';
import { rfc3339 } from '../util/clock.ts';

export const WORKFLOW_LABEL = 'kcs.io/workflow';
export const WORKFLOW_STEP_LABEL = 'kcs.io/workflow-step';

export type WorkflowStepSpec = WorkflowJob;
export type StepPhase = WorkflowJobPhase;
export type StepStatus = WorkflowJobStatus;
export type { Workflow, WorkflowStatus };

/** The name of the Job a step runs as. */
export function stepJobName(workflow: Workflow, step: string): string {
  return `${workflow.metadata.name}-${step}`;
}

export interface WorkflowStep {
  /** Steps whose Job is to be made now. */
  create: WorkflowStepSpec[];
  status: WorkflowStatus;
}

/** The Workflow's next step: jobs are its Jobs by step name (those that exist). */
export function workflowStep(workflow: Workflow, jobs: Map<string, Job>, now: Date): WorkflowStep {
  const steps = workflow.spec.jobs;
  const phases = new Map<string, StepStatus>();
  const create: WorkflowStepSpec[] = [];
  // Settled in dependency order: a step is judged once the steps it depends on are.
  const remaining = [...steps];
  while (remaining.length) {
    const i = remaining.findIndex((s) => (s.dependsOn ?? []).every((d) => phases.has(d)));
    if (i < 0) break; // a cycle (admission refuses them): the rest stay Pending
    const step = remaining.splice(i, 1)[0]!;
    const jobName = stepJobName(workflow, step.name);
    const job = jobs.get(step.name);
    if (job) {
      const over = jobFinished(job);
      const failedMessage = over === 'Failed' ? job.status?.conditions?.find((c) => c.type === 'Failed')?.message : undefined;
      phases.set(step.name, { name: step.name, jobName, phase: over === 'Complete' ? 'Succeeded' : over === 'Failed' ? 'Failed' : 'Running', ...(failedMessage ? { message: `job ${jobName} failed: ${failedMessage}` } : {}) });
      continue;
    }
    const failedDeps = (step.dependsOn ?? []).filter((d) => phases.get(d)!.phase === 'Failed');
    if (failedDeps.length) {
      phases.set(step.name, { name: step.name, phase: 'Failed', message: `not started: dependency ${failedDeps.join(', ')} failed` });
      continue;
    }
    if ((step.dependsOn ?? []).every((d) => phases.get(d)!.phase === 'Succeeded')) {
      create.push(step);
      phases.set(step.name, { name: step.name, jobName, phase: 'Running' });
    } else {
      const waiting = (step.dependsOn ?? []).filter((d) => phases.get(d)!.phase !== 'Succeeded');
      phases.set(step.name, { name: step.name, phase: 'Pending', message: `waiting for ${waiting.join(', ')}` });
    }
  }
  for (const step of remaining) phases.set(step.name, { name: step.name, phase: 'Pending' });

  const list = steps.map((s) => phases.get(s.name)!);
  const old = workflow.status ?? {};
  const status: WorkflowStatus = { ...old, jobs: list };
  status.startTime ??= rfc3339(now);
  const running = list.some((s) => s.phase === 'Running');
  const failed = list.filter((s) => s.phase === 'Failed');
  if (list.every((s) => s.phase === 'Succeeded')) {
    status.phase = 'Succeeded';
    if (old.phase !== 'Succeeded') {
      status.completionTime = rfc3339(now);
      status.conditions = setCondition(status.conditions, { type: 'Complete', status: 'True', reason: 'AllJobsSucceeded', message: `all ${list.length} jobs succeeded` }, now);
    }
  } else if (failed.length && !running) {
    status.phase = 'Failed';
    if (old.phase !== 'Failed') {
      status.conditions = setCondition(status.conditions, { type: 'Failed', status: 'True', reason: 'JobFailed', message: failed.map((s) => `${s.name}: ${s.message ?? 'failed'}`).join('; ') }, now);
    }
  } else status.phase = running ? 'Running' : 'Pending';
  return { create, status };
}

/** The Job a step runs: its template, owned by the Workflow, labelled with both names. */
export function jobFor(workflow: Workflow, step: WorkflowStepSpec): Job {
  const labels = { ...step.template.metadata?.labels, [WORKFLOW_LABEL]: workflow.metadata.name!, [WORKFLOW_STEP_LABEL]: step.name };
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: stepJobName(workflow, step.name), namespace: workflow.metadata.namespace, labels,
      ...(step.template.metadata?.annotations ? { annotations: step.template.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: 'kcs.io/v1', kind: 'Workflow', name: workflow.metadata.name!, uid: workflow.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(step.template.spec),
  };
}
