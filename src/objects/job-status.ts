// What a Job (batch/v1) should do next, as a pure function of the Job, its
// pods and the time, the way Kubernetes' job controller decides it: how many
// pods (or which completion indexes) to start, which to delete, and the
// status to write. The controller (controllers/jobs.ts) only carries it out.
//
// Counting as Kubernetes does: a pod that Succeeded or Failed counts once;
// with restartPolicy OnFailure a container's restarts count as failures too.
// A pod moved off a failed node is unbound and Pending again: still active,
// never a failure.
import { setCondition } from './conditions.ts';
import type { Condition, KubeObject, Pod, PodSpec } from './types.ts';
import { rfc3339 } from '../util/clock.ts';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  suspend?: boolean;
  selector?: { matchLabels?: Record<string, string> };
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  [field: string]: unknown;
}

export interface JobStatus {
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  startTime?: string;
  completionTime?: string;
  completedIndexes?: string;
  failedIndexes?: string;
  conditions?: Condition[];
  [field: string]: unknown;
}

export interface Job extends KubeObject {
  kind: 'Job';
  spec: JobSpec;
  status?: JobStatus;
}

/** A pod to start: for an Indexed Job, with its completion index. */
export interface PodToStart { index?: number }

export interface JobStep {
  start: PodToStart[];
  /** Active pods to delete: past the parallelism, or the Job has finished or is suspended. */
  remove: Pod[];
  status: JobStatus;
  /** The Job reached Complete or Failed in this step (for an event). */
  finished?: { type: 'Complete' | 'Failed'; reason?: string; message?: string };
  /** Look again after this long: a deadline, a back-off or a TTL is due. */
  requeueAfterMs?: number;
  /** The Job's TTL after it finished is over: delete it (and, by the garbage collector, its pods). */
  expired?: boolean;
}

export interface JobStepOptions {
  now: Date;
  /** The wait before a failed pod is replaced: this, doubled per failure, at most 6 min. */
  backoffBaseMs?: number;
}

/** Kubernetes waits 10 s; a simulator shows retries in seconds, as its restart back-off does. */
export const DEFAULT_JOB_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 360_000;

const isDone = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const isActive = (p: Pod) => !isDone(p) && !p.metadata.deletionTimestamp;
const isReady = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function indexOf(pod: Pod): number | undefined {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Indexes as Kubernetes writes them: "0-2,5,7-8". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(',');
}

export function conditionOf(job: Job, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

export function jobFinished(job: Job): 'Complete' | 'Failed' | undefined {
  return conditionOf(job, 'Complete') ? 'Complete' : conditionOf(job, 'Failed') ? 'Failed' : undefined;
}

function finishedAt(pod: Pod): number {
  const times = (pod.status?.containerStatuses ?? []).map((c) => Date.parse(c.state?.terminated?.finishedAt ?? '')).filter(Number.isFinite);
  return times.length ? Math.max(...times) : 0;
}

/** The Job's next step (see the file's head). */
export function jobStep(job: Job, pods: Pod[], opts: JobStepOptions): JobStep {
  const now = opts.now.getTime();
  const spec = job.spec;
  const indexed = spec.completionMode === 'Indexed';
  const parallelism = Math.max(0, spec.parallelism ?? 1);
  const completions = spec.completions;
  const backoffLimit = spec.backoffLimit ?? 6;
  const old = job.status ?? {};
  const active = pods.filter(isActive);
  const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
  const restarts = spec.template.spec.restartPolicy === 'OnFailure'
    ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0)
    : 0;
  // Counts only grow: a finished pod deleted later (by hand, or with its node) still counted.
  const succeeded = Math.max(old.succeeded ?? 0, succeededPods.length);
  const failed = Math.max(old.failed ?? 0, failedPods.length);
  const completedIndexes = new Set<number>();
  if (indexed) {
    for (const p of succeededPods) { const i = indexOf(p); if (i !== undefined && i < (completions ?? 0)) completedIndexes.add(i); }
    for (const part of (old.completedIndexes ?? '').split(',').filter(Boolean)) {
      const [a, b = a] = part.split('-').map(Number) as [number, number?];
      for (let i = a; i <= b!; i++) completedIndexes.add(i);
    }
  }
  let status: JobStatus = { ...old, active: active.length, ready: active.filter(isReady).length, succeeded, failed };
  if (indexed) status.completedIndexes = formatIndexes(completedIndexes);
  const step: JobStep = { start: [], remove: [], status };
  const finish = (type: 'Complete' | 'Failed', reason?: string, message?: string) => {
    status.conditions = setCondition(status.conditions, { type, status: 'True', ...(reason ? { reason, message } : {}), lastProbeTime: rfc3339(opts.now) } as Omit<Condition, 'lastTransitionTime'>, opts.now);
    if (type === 'Complete') status.completionTime = rfc3339(opts.now);
    step.finished = { type, reason, message };
    step.remove = active;
    status.active = 0;
    status.ready = 0;
  };

  const over = jobFinished(job);
  if (over) {
    // Finished: nothing runs any more; the TTL, if any, decides when the Job goes.
    step.remove = active;
    status.active = 0;
    status.ready = 0;
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      const at = Date.parse((over === 'Complete' ? old.completionTime : undefined) ?? conditionOf(job, over)!.lastTransitionTime ?? '') + ttl * 1000;
      if (now >= at) step.expired = true;
      else step.requeueAfterMs = at - now;
    }
    return step;
  }

  if (spec.suspend) {
    step.remove = active;
    status.active = 0;
    status.ready = 0;
    if (!conditionOf(job, 'Suspended')) status.conditions = setCondition(status.conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, opts.now);
    // Resumed later, the deadline counts from then (as Kubernetes resets startTime).
    delete status.startTime;
    return step;
  }
  if (conditionOf(job, 'Suspended')) status.conditions = setCondition(status.conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, opts.now);
  status.startTime ??= rfc3339(opts.now);

  if (failed + restarts > backoffLimit) {
    finish('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    return step;
  }
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined) {
    const at = Date.parse(status.startTime) + deadline * 1000;
    if (now >= at) {
      finish('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
      return step;
    }
    step.requeueAfterMs = at - now;
  }

  const complete = indexed
    ? completedIndexes.size >= (completions ?? 0)
    : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
  if (complete) {
    finish('Complete');
    return step;
  }

  // How many should run: never more than parallelism, never more than the completions left.
  let wanted: number;
  if (indexed) wanted = Math.min(parallelism, (completions ?? 0) - completedIndexes.size);
  else if (completions !== undefined) wanted = Math.min(parallelism, completions - succeeded);
  else wanted = succeeded > 0 ? 0 : parallelism; // without completions, the first success ends the starting
  if (active.length > wanted) {
    // The newest go first, as Kubernetes prefers to keep pods that have been running longer.
    const byAge = [...active].sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
    step.remove = byAge.slice(0, active.length - wanted);
    return step;
  }
  const missing = wanted - active.length;
  if (missing <= 0) return step;

  // After failures, replacements wait out a back-off from the last one (Kubernetes' pod failure back-off).
  if (failed > 0 && failedPods.length > 0) {
    const wait = Math.min(MAX_BACKOFF_MS, (opts.backoffBaseMs ?? DEFAULT_JOB_BACKOFF_MS) * 2 ** Math.min(failed - 1, 30));
    const last = Math.max(...failedPods.map(finishedAt));
    if (last > 0 && now < last + wait) {
      step.requeueAfterMs = Math.min(step.requeueAfterMs ?? Infinity, last + wait - now);
      return step;
    }
  }
  if (indexed) {
    const taken = new Set(active.map(indexOf));
    for (let i = 0; i < (completions ?? 0) && step.start.length < missing; i++) {
      if (!completedIndexes.has(i) && !taken.has(i)) step.start.push({ index: i });
    }
  } else {
    for (let i = 0; i < missing; i++) step.start.push({});
  }
  return step;
}

/** The pod a Job starts: its template, owned by the Job, labelled and (Indexed) numbered as Kubernetes does. */
export function podFor(job: Job, start: PodToStart): Pod {
  const name = job.metadata.name!;
  const index = start.index;
  const labels = { ...job.spec.template.metadata?.labels, [JOB_NAME_LABEL]: name, 'job-name': name, [CONTROLLER_UID_LABEL]: job.metadata.uid!, 'controller-uid': job.metadata.uid!, ...(index !== undefined ? { [COMPLETION_INDEX]: String(index) } : {}) };
  const annotations = { ...job.spec.template.metadata?.annotations, ...(index !== undefined ? { [COMPLETION_INDEX]: String(index) } : {}) };
  const spec: PodSpec = structuredClone(job.spec.template.spec);
  if (index !== undefined) {
    spec.containers = spec.containers.map((c) => ({ ...c, env: [...((c.env as unknown[]) ?? []), { name: 'JOB_COMPLETION_INDEX', value: String(index) }] }));
    spec.hostname = `${name}-${index}`;
  }
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
      namespace: job.metadata.namespace,
      labels, annotations,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
