// Owners, dependents and deletion, as Kubernetes has them: an object names
// the objects it depends on in metadata.ownerReferences; deleting an owner
// says what becomes of its dependents (DeleteOptions.propagationPolicy), and
// the garbage collector carries that out, holding the owner back with a
// finalizer where it has to act first.
import type { KubeObject, OwnerReference } from './types.ts';
import type { FieldError } from './field-error.ts';

/** Foreground: the owner stays, being deleted, until the collector has deleted its dependents. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** Orphan: the owner stays until the collector has removed it from its dependents' ownerReferences. */
export const ORPHAN_FINALIZER = 'orphan';

export const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'] as const;
export type PropagationPolicy = (typeof PROPAGATION_POLICIES)[number];

export function isPropagationPolicy(v: unknown): v is PropagationPolicy {
  return (PROPAGATION_POLICIES as readonly unknown[]).includes(v);
}

/**
 * The finalizers a delete leaves on the object. A policy replaces whatever
 * the object carried for the collector; without one, what it carried
 * decides (an object made with `orphan` is orphaned), as in Kubernetes.
 */
export function finalizersOnDelete(existing: readonly string[] | undefined, policy: PropagationPolicy | undefined): string[] {
  const kept = [...(existing ?? [])];
  if (policy === undefined) return kept;
  const others = kept.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') return [...others, ORPHAN_FINALIZER];
  if (policy === 'Foreground') return [...others, FOREGROUND_FINALIZER];
  return others;
}

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

/** The group of an apiVersion: '' for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Events may not own anything (Kubernetes' BannedOwners): they come and go by the thousand. */
const BANNED_OWNERS = new Set(['/Event', 'events.k8s.io/Event']);

/**
 * What the schema cannot say about ownerReferences, in Kubernetes' words
 * and on its field (the list, not an item): names present, a version in
 * apiVersion, no Event as an owner, at most one controller.
 */
export function ownerReferenceErrors(refs: readonly OwnerReference[] | undefined): FieldError[] {
  const field = 'metadata.ownerReferences';
  const errors: FieldError[] = [];
  let controller: string | undefined;
  for (const ref of refs ?? []) {
    const version = ref.apiVersion.split('/').at(-1);
    if (!version || ref.apiVersion.split('/').length > 2) errors.push(invalid(`${field}.apiVersion`, ref.apiVersion, 'version must not be empty'));
    for (const key of ['kind', 'name', 'uid'] as const) {
      if (ref[key] === '') errors.push(invalid(`${field}.${key}`, '', `${key} must not be empty`));
    }
    if (BANNED_OWNERS.has(`${groupOf(ref.apiVersion)}/${ref.kind}`)) {
      errors.push(invalid(field, `${ref.kind}/${ref.name}`, `${groupOf(ref.apiVersion)}/${version}, Kind=${ref.kind} is disallowed from being an owner`));
    }
    if (ref.controller !== true) continue;
    const current = `${ref.kind}/${ref.name}`;
    if (controller === undefined) controller = current;
    else errors.push(invalid(field, controller, `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`));
  }
  return errors;
}

/** The collector's two finalizers ask for opposite things. */
export function finalizerErrors(finalizers: readonly string[] | undefined): FieldError[] {
  const all = finalizers ?? [];
  if (!all.includes(ORPHAN_FINALIZER) || !all.includes(FOREGROUND_FINALIZER)) return [];
  return [invalid('metadata.finalizers', all, `finalizer ${ORPHAN_FINALIZER} and ${FOREGROUND_FINALIZER} cannot be both set`)];
}

function invalid(field: string, value: unknown, why: string): FieldError {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}
