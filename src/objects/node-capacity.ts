// A Node's size as a manifest may state it. kcs reads spec.capacity (its own
// field: what the simulated machine contributes); a kubelet, KWOK or a Node
// saved from a real cluster states it in status.capacity (and
// status.allocatable) instead. Such a manifest is taken as it stands:
// status.capacity becomes the machine's size.
import type { KubeObject } from './types.ts';

/** What a Node manifest must state, said once for the error. */
export const MACHINE_SIZE_REQUIRED = "Required value: the machine's size: spec.capacity (cpu, and optionally memory and pods), or status.capacity as a kubelet or KWOK writes it";

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The size to use when spec.capacity is absent: status.capacity (else status.allocatable), or undefined. */
function sizeFromStatus(obj: KubeObject): Record<string, unknown> | undefined {
  const status = obj.status;
  if (!isMap(status)) return undefined;
  if (isMap(status.capacity)) return status.capacity;
  if (isMap(status.allocatable)) return status.allocatable;
  return undefined;
}

/** Whether the Node states no size at all (neither spec.capacity nor a status one). */
export function lacksMachineSize(obj: KubeObject): boolean {
  const spec = obj.spec as unknown;
  if (isMap(spec) && spec.capacity !== undefined) return false;
  return sizeFromStatus(obj) === undefined;
}

/**
 * The Node with spec.capacity taken from its status when the spec states
 * none; the same object when nothing is to be taken. Never changes obj:
 * the copy shares everything but spec.
 */
export function withMachineSize(obj: KubeObject): KubeObject {
  if (obj.kind !== 'Node') return obj;
  const spec = obj.spec as unknown;
  if (spec !== undefined && !isMap(spec)) return obj;
  if (isMap(spec) && spec.capacity !== undefined) return obj;
  const size = sizeFromStatus(obj);
  if (!size) return obj;
  return { ...obj, spec: { ...spec, capacity: structuredClone(size) } };
}
