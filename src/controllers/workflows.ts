// The Workflow controller (kcs.io/v1): makes each step's Job once the steps
// it depends on succeeded, and writes the Workflow's status, as
// workflowStep (objects/workflow-status.ts) decides. Keys are Workflows
// (`namespace/name`); a change to a Job a Workflow owns queues it. The Jobs
// are owned, so deleting the Workflow deletes them and their pods.
import { isConflict, type KcsClient } from '../client/interface.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import type { EventRecorder } from '../client/events.ts';
import type { Job } from '../objects/job-status.ts';
import type { KindInfo } from '../objects/kinds.ts';
import { jobFor, workflowStep, WORKFLOW_STEP_LABEL, type Workflow } from '../objects/workflow-status.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Reconciler } from './runner.ts';

const JOB_OWNER = 'metadata.ownerReferences[Workflow]';

export interface WorkflowControllerOptions {
  client: KcsClient;
  workflows: Informer<Workflow>;
  jobs: Informer<Job>;
  kinds: { workflow: KindInfo; job: KindInfo };
  events?: EventRecorder;
  clock?: Clock;
}

export class WorkflowController implements Reconciler {
  readonly name = 'workflow';
  private readonly opts: WorkflowControllerOptions;
  private readonly clock: Clock;

  constructor(opts: WorkflowControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    if (!opts.jobs.hasIndex(JOB_OWNER)) opts.jobs.addIndex(JOB_OWNER, (j) => j.metadata.ownerReferences?.find((r) => r.kind === 'Workflow' && r.controller)?.uid);
  }

  workflowHandlers(enqueue: (key: string) => void): InformerHandlers<Workflow> {
    return { add: (w) => enqueue(objectKey(w)), update: (_p, w) => enqueue(objectKey(w)) };
  }

  jobHandlers(enqueue: (key: string) => void): InformerHandlers<Job> {
    const queue = (j: Job) => {
      const ref = j.metadata.ownerReferences?.find((r) => r.kind === 'Workflow' && r.controller);
      if (ref) enqueue(`${j.metadata.namespace}/${ref.name}`);
    };
    return { add: queue, update: (_p, j) => queue(j), delete: queue };
  }

  keys(): string[] {
    return this.opts.workflows.keys();
  }

  async reconcile(key: string): Promise<void> {
    const workflow = this.opts.workflows.get(key);
    if (!workflow || workflow.metadata.deletionTimestamp) return;
    const jobs = new Map<string, Job>();
    for (const job of this.opts.jobs.byIndex(JOB_OWNER, workflow.metadata.uid!)) {
      const step = job.metadata.labels?.[WORKFLOW_STEP_LABEL];
      if (step) jobs.set(step, job);
    }
    const { create, status } = workflowStep(workflow, jobs, this.clock.now());
    for (const step of create) {
      try {
        await this.opts.client.create(this.opts.kinds.job, workflow.metadata.namespace, jobFor(workflow, step));
        void this.opts.events?.record(workflow, 'Normal', 'JobCreated', `Created job ${workflow.metadata.name}-${step.name} for step ${step.name}`);
      } catch (err) {
        // Made already (the watch had not shown it yet): the next reconcile sees it.
        if (!isConflict(err)) throw err;
      }
    }
    const before = workflow.status?.phase;
    if (JSON.stringify(status) !== JSON.stringify(workflow.status ?? {})) {
      await this.opts.client.update(this.opts.kinds.workflow, workflow.metadata.namespace, workflow.metadata.name!, { ...workflow, status }, { subresource: 'status' });
    }
    if (status.phase !== before && (status.phase === 'Succeeded' || status.phase === 'Failed')) {
      const condition = status.conditions?.find((c) => c.type === (status.phase === 'Succeeded' ? 'Complete' : 'Failed'));
      void this.opts.events?.record(workflow, status.phase === 'Succeeded' ? 'Normal' : 'Warning', status.phase, condition?.message ?? status.phase);
    }
  }
}
