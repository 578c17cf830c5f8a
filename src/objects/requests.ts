// What a pod asks of a node and what a node offers, in exact integers.
import { parseBytes, parseMilliCpu } from './quantity.ts';
import type { Node, Pod, ResourceList } from './types.ts';

export interface Resources { milliCpu: number; memory: number }

export const DEFAULT_MAX_PODS = 110;

function fromList(list: ResourceList | undefined): Resources {
  return {
    milliCpu: list?.cpu === undefined ? 0 : parseMilliCpu(list.cpu),
    memory: list?.memory === undefined ? 0 : parseBytes(list.memory),
  };
}

/**
 * A pod's effective request, as Kubernetes computes it: the sum over its
 * containers, or the largest init container's request if that is larger
 * (init containers run one at a time, before the others).
 */
export function podRequests(pod: Pod): Resources {
  // Objects from informers are never changed in place: one computation each.
  const known = requestsOf.get(pod);
  if (known) return known;
  const sum: Resources = { milliCpu: 0, memory: 0 };
  for (const c of pod.spec.containers) {
    const r = fromList(c.resources?.requests);
    sum.milliCpu += r.milliCpu;
    sum.memory += r.memory;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const r = fromList(c.resources?.requests);
    sum.milliCpu = Math.max(sum.milliCpu, r.milliCpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  requestsOf.set(pod, sum);
  return sum;
}

const requestsOf = new WeakMap<Pod, Resources>();

export function nodeCapacity(node: Node): Resources & { pods: number } {
  const { milliCpu, memory } = fromList(node.spec.capacity);
  const pods = node.spec.capacity.pods === undefined ? DEFAULT_MAX_PODS : parseBytes(node.spec.capacity.pods);
  return { milliCpu, memory, pods };
}
