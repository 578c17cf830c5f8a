// Conditions on an object's status, set the way Kubernetes does (one entry
// per type, lastTransitionTime moving only when the status changes), and the
// status predicates every layer asks about.
import type { Condition, Node, Pod } from './types.ts';
import { rfc3339 } from '../util/clock.ts';

export function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((c) => c.type === next.type);
  const merged: Condition = {
    ...prev,
    ...next,
    lastTransitionTime: prev && prev.status === next.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
  };
  return prev ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A pod that ran to its end (Succeeded or Failed) holds no room and is never moved. */
export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
