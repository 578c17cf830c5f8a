// PriorityClasses at the registry, as Kubernetes' Priority admission plugin
// and the PriorityClass storage treat them: a new pod's priority resolved
// from its class (or the global default), a second global default refused,
// the system classes made at start and never deleted.
//
// The classes are read from the store, not the watch cache, so a class made
// by the request just before is always seen; parsed objects are kept by
// revision, so a pod create costs a look at a handful of keys. Two writes
// racing to become the default can both pass, as in Kubernetes (whose
// plugin reads an informer); pods then take the lower-valued one.
import { kindByName } from '../objects/kinds.ts';
import { isSystemPriorityClass, podPriority, globalDefaultClass, SYSTEM_PRIORITY_CLASSES, type PriorityClass } from '../objects/priority-classes.ts';
import type { Pod } from '../objects/types.ts';
import type { Store } from '../store/store.ts';
import { jsonCopy } from '../util/json-copy.ts';
import { ApiError } from './errors.ts';

const PRIORITY_CLASS = kindByName('PriorityClass')!;
const PREFIX = `/registry/${PRIORITY_CLASS.plural}/`;
/** How Kubernetes names the resource in its messages: plural and group. */
const RESOURCE = `${PRIORITY_CLASS.plural}.${PRIORITY_CLASS.group}`;

export class PriorityClasses {
  private readonly store: Store;
  private readonly parsed = new Map<string, { revision: number; pc: PriorityClass }>();

  constructor(store: Store) {
    this.store = store;
  }

  /** Every class as the store holds it now. */
  async current(): Promise<PriorityClass[]> {
    const { items } = await this.store.list(PREFIX);
    const out: PriorityClass[] = [];
    for (const kv of items) {
      let entry = this.parsed.get(kv.key);
      if (entry?.revision !== kv.modRevision) this.parsed.set(kv.key, (entry = { revision: kv.modRevision, pc: JSON.parse(kv.value) as PriorityClass }));
      out.push(entry.pc);
    }
    if (this.parsed.size > items.length) {
      const keys = new Set(items.map((kv) => kv.key));
      for (const key of this.parsed.keys()) if (!keys.has(key)) this.parsed.delete(key);
    }
    return out;
  }
}

/** The system classes a fresh cluster gets, as bodies to create. */
export function systemPriorityClasses(): PriorityClass[] {
  return SYSTEM_PRIORITY_CLASSES.map((pc) => jsonCopy(pc));
}

/**
 * The Priority admission plugin on a pod create: spec.priority and
 * spec.preemptionPolicy from the class it names, or from the global default
 * (whose name it then gets), or 0. Forbidden (403) for a class that does not
 * exist, or a priority stated that the class contradicts.
 */
export function admitPodPriority(pod: Pod, classes: readonly PriorityClass[]): void {
  const resolved = podPriority(pod, classes);
  if ('refused' in resolved) {
    const name = pod.metadata.name ?? '';
    throw new ApiError(403, 'Forbidden', `pods ${JSON.stringify(name)} is forbidden: ${resolved.refused}`, {
      name, kind: 'pods', causes: [{ reason: resolved.field === 'spec.priorityClassName' ? 'FieldValueNotFound' : 'FieldValueForbidden', message: resolved.refused, field: resolved.field }],
    });
  }
  pod.spec.priority = resolved.priority;
  pod.spec.preemptionPolicy = resolved.preemptionPolicy;
  if (resolved.priorityClassName !== undefined) pod.spec.priorityClassName = resolved.priorityClassName;
}

/**
 * At most one class is the global default: a create, or an update of
 * another class, that would make a second is Forbidden, in the words of
 * Kubernetes' admission plugin.
 */
export function refuseSecondDefault(pc: PriorityClass, classes: readonly PriorityClass[]): void {
  if (!pc.globalDefault) return;
  const current = globalDefaultClass(classes);
  if (!current || current.metadata.name === pc.metadata.name) return;
  const name = pc.metadata.name ?? '';
  const why = `PriorityClass ${current.metadata.name} is the default priority class. Only one default can exist`;
  throw new ApiError(403, 'Forbidden', `${RESOURCE} ${JSON.stringify(name)} is forbidden: ${why}`, {
    name, group: PRIORITY_CLASS.group, kind: PRIORITY_CLASS.plural, causes: [{ reason: 'FieldValueForbidden', message: why, field: 'globalDefault' }],
  });
}

/** The system classes are never deleted (Kubernetes' PriorityClass storage refuses with 403). */
export function refuseSystemClassDelete(name: string): ApiError | undefined {
  if (!isSystemPriorityClass(name)) return undefined;
  return new ApiError(403, 'Forbidden', `${RESOURCE} ${JSON.stringify(name)} is forbidden: this is a system priority class and cannot be deleted`, {
    name, group: PRIORITY_CLASS.group, kind: PRIORITY_CLASS.plural,
  });
}
