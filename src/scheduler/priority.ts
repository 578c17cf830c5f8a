// A pod's priority as the scheduler reads it. Admission fills spec.priority
// from the pod's PriorityClass; a pod without one counts as 0, as in
// Kubernetes without a global default class.
import type { Pod } from '../objects/types.ts';

export function podPriority(pod: Pod): number {
  const p = pod.spec.priority;
  return typeof p === 'number' && Number.isFinite(p) ? p : 0;
}

/** preemptionPolicy Never: the pod waits its turn in the queue and evicts nobody. */
export function neverPreempts(pod: Pod): boolean {
  return pod.spec.preemptionPolicy === 'Never';
}

/**
 * kube-scheduler's MoreImportantPod: the higher priority first; of equal
 * priority, the one that started earlier (it has more work to lose). A
 * negative result puts a first.
 */
export function moreImportantFirst(a: Pod, b: Pod): number {
  const byPriority = podPriority(b) - podPriority(a);
  if (byPriority) return byPriority;
  return startedAt(a) - startedAt(b);
}

/** When its node started it; a pod not started yet counts as starting now (the least to lose). */
export function startedAt(pod: Pod): number {
  const t = Date.parse(pod.status?.startTime ?? '');
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
}
