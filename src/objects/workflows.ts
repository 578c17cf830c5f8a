// Workflows (kcs.io/v1): Jobs run in dependency order. The shape a
// controller reads and writes, and what admission checks of a Workflow's
// jobs beyond its schema: unique names, dependencies that name jobs of the
// list (not the job itself, not twice), and no cycle. Each job's template
// spec is checked as a Job's (validation.ts).
import type { FieldError } from './field-error.ts';
import type { JobSpec } from './job-status.ts';
import type { Condition, KubeObject } from './types.ts';
import { describeCycle, findCycle } from './workflow-graph.ts';

export interface WorkflowJob {
  name: string;
  dependsOn?: string[];
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: JobSpec };
}

export type WorkflowPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
export type WorkflowJobPhase = WorkflowPhase | 'Skipped';

export interface WorkflowJobStatus {
  name: string;
  phase?: WorkflowJobPhase;
  /** The Job made for it. */
  jobName?: string;
  message?: string;
}

export interface WorkflowStatus {
  phase?: WorkflowPhase;
  startTime?: string;
  completionTime?: string;
  conditions?: Condition[];
  jobs?: WorkflowJobStatus[];
  [field: string]: unknown;
}

export interface Workflow extends KubeObject {
  kind: 'Workflow';
  spec: { jobs: WorkflowJob[] };
  status?: WorkflowStatus;
}

/** Run once the schema passed (names are DNS labels, dependsOn lists of strings). */
export function workflowErrors(workflow: Workflow): FieldError[] {
  const jobs = workflow.spec.jobs;
  const errors: FieldError[] = [];
  const names = new Set<string>();
  jobs.forEach((job, i) => {
    if (names.has(job.name)) errors.push({ reason: 'FieldValueDuplicate', field: `spec.jobs[${i}].name`, message: `Duplicate value: ${JSON.stringify(job.name)}` });
    names.add(job.name);
  });
  jobs.forEach((job, i) => {
    const seen = new Set<string>();
    (job.dependsOn ?? []).forEach((dep, j) => {
      const field = `spec.jobs[${i}].dependsOn[${j}]`;
      if (dep === job.name) errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(dep)}: a job may not depend on itself` });
      else if (!names.has(dep)) errors.push({ reason: 'FieldValueNotFound', field, message: `Not found: ${JSON.stringify(dep)}` });
      else if (seen.has(dep)) errors.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(dep)}` });
      seen.add(dep);
    });
  });
  // A cycle is looked for once the names are sound: a misspelt dependency would only hide it or make one up.
  if (errors.length) return errors;
  const cycle = findCycle(jobs);
  if (cycle) errors.push({ reason: 'FieldValueInvalid', field: `spec.jobs[${cycle.index}].dependsOn`, message: `Invalid value: ${describeCycle(cycle)}` });
  return errors;
}
