// The Job controller (kube-controller-manager's job controller): for each
// Job, starts and deletes its pods and writes its status as jobStep
// (objects/job-status.ts) decides, records the events Kubernetes records,
// and deletes a finished Job whose ttlSecondsAfterFinished is over (its pods
// go with it, by the garbage collector: they are owned). Keys are Jobs
// (`namespace/name`); a change to a pod a Job owns queues that Job.
//
// A Job's new pods, their events and its status are written in one commit.
// Pods it has created but not yet seen through the watch are counted as
// running ("expectations", as Kubernetes keeps them), so a slow watch never
// makes it start a Job's pods twice.
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import type { CommitOp } from '../api/registry.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import type { EventRecorder } from '../client/events.ts';
import { jobStep, podFor, type Job } from '../objects/job-status.ts';
import { kindByName, type KindInfo } from '../objects/kinds.ts';
import { randomSuffix } from '../objects/names.ts';
import type { Pod } from '../objects/types.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Reconciler, ReconcileResult } from './runner.ts';

const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
/**
 * How long a pod's change waits before its Job is looked at, so the changes
 * of a Job's pods in that moment make one reconcile and one status write
 * (Kubernetes' job controller batches them the same way, for 1 s).
 */
export const JOB_POD_BATCH_MS = 250;
/** Pods created in one commit (with an event each, and the Job's status with the last). */
const PODS_PER_COMMIT = 250;
const JOB_OWNER = 'metadata.ownerReferences[Job]';
/** How long a pod created and not yet seen is counted as running: past it, the watch surely missed nothing. */
const EXPECTATION_MS = 30_000;

/** A commit creates under the name given: the controller draws the suffix a generateName would get. */
function withName(pod: Pod): Pod {
  return { ...pod, metadata: { ...pod.metadata, name: `${pod.metadata.generateName}${randomSuffix()}` } };
}

export interface JobControllerOptions {
  client: KcsClient;
  jobs: Informer<Job>;
  pods: Informer<Pod>;
  /** The Job kind as the API serves it. */
  kind: KindInfo;
  events?: EventRecorder;
  clock?: Clock;
  /** The first wait before a failed pod is replaced (doubling per failure). */
  backoffBaseMs?: number;
}

/** The key of the Job that controls the pod, if one does. */
export function ownerJobKey(pod: Pod): string | undefined {
  const ref = pod.metadata.ownerReferences?.find((r) => r.kind === 'Job' && r.controller);
  return ref ? `${pod.metadata.namespace}/${ref.name}` : undefined;
}

export class JobController implements Reconciler {
  readonly name = 'job';
  private readonly opts: JobControllerOptions;
  private readonly clock: Clock;
  /** By Job key: pods created and not yet seen, with their index and when they were made. */
  private readonly expected = new Map<string, Map<string, { index?: number; at: number }>>();

  constructor(opts: JobControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    if (!opts.pods.hasIndex(JOB_OWNER)) opts.pods.addIndex(JOB_OWNER, (p) => p.metadata.ownerReferences?.find((r) => r.kind === 'Job' && r.controller)?.uid);
  }

  jobHandlers(enqueue: (key: string) => void): InformerHandlers<Job> {
    return { add: (j) => enqueue(objectKey(j)), update: (_p, j) => enqueue(objectKey(j)), delete: (j) => { this.expected.delete(objectKey(j)); } };
  }

  podHandlers(enqueue: (key: string) => void): InformerHandlers<Pod> {
    const queue = (p: Pod) => { const key = ownerJobKey(p); if (key) enqueue(key); };
    // A pod seen arriving is expected no more, even if it is gone again before
    // its Job is next looked at (preempted at once): it must not count as running.
    const seen = (p: Pod) => {
      const key = ownerJobKey(p);
      if (!key) return;
      const waiting = this.expected.get(key);
      if (waiting?.delete(p.metadata.name!) && waiting.size === 0) this.expected.delete(key);
      enqueue(key);
    };
    return { add: seen, update: (_prev, p) => queue(p), delete: seen };
  }

  keys(): string[] {
    return this.opts.jobs.keys();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const job = this.opts.jobs.get(key);
    if (!job || job.metadata.deletionTimestamp) return;
    const now = this.clock.now();
    const pods = this.opts.pods.byIndex(JOB_OWNER, job.metadata.uid!);
    const waiting = this.stillExpected(key, pods, now.getTime());
    const step = jobStep(job, pods, { now, backoffBaseMs: this.opts.backoffBaseMs });
    if (step.expired) {
      await this.deleteJob(job);
      return;
    }
    // Pods made and not yet seen run already: start only what they do not cover.
    const pendingIndexes = new Set([...waiting.values()].map((w) => w.index));
    const indexed = job.spec.completionMode === 'Indexed';
    const start = indexed ? step.start.filter((s) => !pendingIndexes.has(s.index)) : step.start.slice(waiting.size);
    for (const pod of step.remove) {
      try {
        await this.opts.client.delete(POD, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        void this.opts.events?.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    // The new pods, their events and the Job's status in one commit (one store
    // transaction): a Job of a hundred pods starts them in one write, not two hundred.
    const fresh = start.map((s) => ({ index: s.index, pod: withName(podFor(job, s)) }));
    step.status.active = (step.status.active ?? 0) + (step.finished ? 0 : waiting.size + fresh.length);
    const statusChanged = JSON.stringify(step.status) !== JSON.stringify(job.status ?? {});
    for (let i = 0; i === 0 || i < fresh.length; i += PODS_PER_COMMIT) {
      const batch = fresh.slice(i, i + PODS_PER_COMMIT);
      const ops: CommitOp[] = [];
      for (const { pod } of batch) {
        ops.push({ verb: 'create', kind: POD, object: pod });
        if (this.opts.events) ops.push({ verb: 'create', kind: EVENT, object: this.opts.events.build(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`) });
      }
      // With the last batch, on the version read: a Job changed meanwhile fails it, retried from the informer's newer copy.
      if (statusChanged && i + PODS_PER_COMMIT >= fresh.length) ops.push({ verb: 'update', kind: this.opts.kind, subresource: 'status', object: { ...job, status: step.status } });
      // Expected before the commit: its pods' watch events may arrive before it answers.
      for (const { index, pod } of batch) waiting.set(pod.metadata.name!, { index, at: now.getTime() });
      if (waiting.size) this.expected.set(key, waiting);
      try {
        if (ops.length) await this.opts.client.commit(ops);
      } catch (err) {
        for (const { pod } of batch) waiting.delete(pod.metadata.name!);
        throw err;
      }
    }
    if (step.finished) {
      const { type, reason, message } = step.finished;
      void this.opts.events?.record(job, type === 'Complete' ? 'Normal' : 'Warning', type === 'Complete' ? 'Completed' : reason!, type === 'Complete' ? 'Job completed' : message!);
    }
    return step.requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(1, step.requeueAfterMs) } : undefined;
  }

  /** The pods made for this Job not yet seen by the watch (forgetting those seen, and those too old to wait for). */
  private stillExpected(key: string, pods: Pod[], now: number): Map<string, { index?: number; at: number }> {
    const waiting = this.expected.get(key) ?? new Map<string, { index?: number; at: number }>();
    const seen = new Set(pods.map((p) => p.metadata.name));
    for (const [name, w] of waiting) if (seen.has(name) || now - w.at > EXPECTATION_MS) waiting.delete(name);
    if (waiting.size === 0) this.expected.delete(key);
    return waiting;
  }

  private async deleteJob(job: Job): Promise<void> {
    try {
      await this.opts.client.delete(this.opts.kind, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
