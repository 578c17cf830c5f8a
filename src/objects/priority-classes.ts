// PriorityClasses (scheduling.k8s.io/v1) and the priority a new pod gets
// from them, as Kubernetes' validation, defaulting and Priority admission
// plugin decide it. Pure: the API keeps the classes (api/priority-classes.ts).
import type { FieldError } from './field-error.ts';
import type { KubeObject, Pod } from './types.ts';

export type PreemptionPolicy = 'PreemptLowerPriority' | 'Never';

export interface PriorityClass extends KubeObject {
  kind: 'PriorityClass';
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: PreemptionPolicy;
}

/** Names starting so are the system's own. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** The highest value a user's class may have: above it is the system's. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** A pod's priority when it names no class and no class is the global default. */
export const DEFAULT_PRIORITY = 0;
export const DEFAULT_PREEMPTION_POLICY: PreemptionPolicy = 'PreemptLowerPriority';

function systemClass(name: string, value: number, description: string): PriorityClass {
  return { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description };
}

/** The classes every cluster has from its start, as Kubernetes makes them; they cannot be deleted. */
export const SYSTEM_PRIORITY_CLASSES: readonly PriorityClass[] = [
  systemClass('system-node-critical', SYSTEM_CRITICAL_PRIORITY + 1000, 'Used for system critical pods that must not be moved from their current node.'),
  systemClass('system-cluster-critical', SYSTEM_CRITICAL_PRIORITY, 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.'),
];

export function isSystemPriorityClass(name: string | undefined): boolean {
  return SYSTEM_PRIORITY_CLASSES.some((c) => c.metadata.name === name);
}

/** SetDefaults_PriorityClass. */
export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= DEFAULT_PREEMPTION_POLICY;
}

/** Why a system- name is not the system's class as it is (IsKnownSystemPriorityClass), or undefined. */
function systemClassMismatch(pc: PriorityClass): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.metadata.name === pc.metadata.name);
  if (!known) return `${pc.metadata.name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${known.metadata.name} PriorityClass must be ${known.value}`;
  if ((pc.globalDefault ?? false) !== (known.globalDefault ?? false)) return `globalDefault of ${known.metadata.name} PriorityClass must be ${known.globalDefault ?? false}`;
  return undefined;
}

/** ValidatePriorityClass, beyond the schema: reserved names, and the user's ceiling. */
export function priorityClassErrors(pc: PriorityClass): FieldError[] {
  const name = pc.metadata.name;
  if (typeof name === 'string' && name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const mismatch = systemClassMismatch(pc);
    if (mismatch) return [{ reason: 'FieldValueForbidden', field: 'metadata.name', message: `Forbidden: priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${mismatch}` }];
    return [];
  }
  if (pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    return [{ reason: 'FieldValueForbidden', field: 'value', message: `Forbidden: maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}` }];
  }
  return [];
}

/** ValidatePriorityClassUpdate: value and preemptionPolicy never change. */
export function priorityClassUpdateErrors(next: PriorityClass, prev: PriorityClass): FieldError[] {
  const errors: FieldError[] = [];
  if (next.value !== prev.value) errors.push({ reason: 'FieldValueForbidden', field: 'value', message: 'Forbidden: may not be changed in an update.' });
  if (next.preemptionPolicy !== prev.preemptionPolicy) {
    errors.push({ reason: 'FieldValueInvalid', field: 'preemptionPolicy', message: `Invalid value: ${JSON.stringify(next.preemptionPolicy)}: field is immutable` });
  }
  return errors;
}

/** The class pods naming none get: the global default, the lowest-valued one should a race have made two. */
export function globalDefaultClass(classes: Iterable<PriorityClass>): PriorityClass | undefined {
  let found: PriorityClass | undefined;
  for (const pc of classes) if (pc.globalDefault && (!found || pc.value < found.value)) found = pc;
  return found;
}

/** What the Priority admission plugin gives a new pod, or why it refuses it (a 403, in Kubernetes' words). */
export type PodPriority =
  | { priority: number; preemptionPolicy: PreemptionPolicy; priorityClassName?: string }
  | { refused: string; field: 'spec.priorityClassName' | 'spec.priority' | 'spec.preemptionPolicy' };

export function podPriority(pod: Pod, classes: readonly PriorityClass[]): PodPriority {
  const named = pod.spec.priorityClassName;
  let resolved: { priority: number; preemptionPolicy: PreemptionPolicy; priorityClassName?: string };
  if (named) {
    const pc = classes.find((c) => c.metadata.name === named);
    if (!pc) return { refused: `no PriorityClass with name ${named} was found`, field: 'spec.priorityClassName' };
    resolved = { priority: pc.value, preemptionPolicy: pc.preemptionPolicy ?? DEFAULT_PREEMPTION_POLICY, priorityClassName: named };
  } else {
    const pc = globalDefaultClass(classes);
    resolved = pc
      ? { priority: pc.value, preemptionPolicy: pc.preemptionPolicy ?? DEFAULT_PREEMPTION_POLICY, priorityClassName: pc.metadata.name }
      : { priority: DEFAULT_PRIORITY, preemptionPolicy: DEFAULT_PREEMPTION_POLICY };
  }
  const stated = pod.spec.priority;
  if (stated !== undefined && stated !== resolved.priority) {
    return { refused: `the integer value of priority (${stated}) must not be provided in pod spec; priority admission controller computed ${resolved.priority} from the given PriorityClass name`, field: 'spec.priority' };
  }
  const policy = pod.spec.preemptionPolicy;
  if (policy !== undefined && policy !== resolved.preemptionPolicy) {
    return { refused: `the string value of PreemptionPolicy (${policy}) must not be provided in pod spec; priority admission controller computed ${resolved.preemptionPolicy} from the given PriorityClass name`, field: 'spec.preemptionPolicy' };
  }
  return resolved;
}
