// Deletion as Kubernetes' registry does it for every kind: an object with
// finalizers is not removed by a delete but marked (metadata.deletionTimestamp,
// once) and kept, and goes from the store when a write leaves it with no
// finalizer. While it is being deleted it takes no new finalizer and its spec
// stays as it was. DeleteOptions.propagationPolicy says what becomes of its
// dependents, through the garbage collector's finalizers (objects/owners.ts).
import { isDeepStrictEqual } from 'node:util';
import { finalizersOnDelete, isPropagationPolicy, PROPAGATION_POLICIES, type PropagationPolicy } from '../objects/owners.ts';
import type { KubeObject } from '../objects/types.ts';
import type { FieldError } from '../objects/field-error.ts';
import { errors } from './errors.ts';
import { isNamespace } from './namespaces.ts';

/**
 * The policy a delete asks for, from DeleteOptions' propagationPolicy or
 * its deprecated orphanDependents; a value Kubernetes would refuse is a 422
 * naming the field.
 */
export function propagationPolicyOf(options: { propagationPolicy?: unknown; orphanDependents?: unknown }): PropagationPolicy | undefined {
  const { propagationPolicy: policy, orphanDependents: orphan } = options;
  const causes: FieldError[] = [];
  if (policy !== undefined && policy !== null && !isPropagationPolicy(policy)) {
    causes.push({ reason: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: ${PROPAGATION_POLICIES.map((p) => JSON.stringify(p)).join(', ')}` });
  }
  if (orphan !== undefined && orphan !== null && typeof orphan !== 'boolean') {
    causes.push({ reason: 'FieldValueTypeInvalid', field: 'orphanDependents', message: `Invalid value: ${JSON.stringify(orphan)}: must be of type boolean` });
  }
  if (policy != null && orphan != null) {
    causes.push({ reason: 'FieldValueInvalid', field: 'propagationPolicy', message: `Invalid value: ${JSON.stringify(policy)}: orphanDependents and deletionPropagation cannot be both set` });
  }
  if (causes.length) throw errors.invalid('DeleteOptions', '', causes);
  if (isPropagationPolicy(policy)) return policy;
  if (orphan === true) return 'Orphan';
  if (orphan === false) return 'Background';
  return undefined;
}

/** The first delete of an object: from now on it is being deleted, held by these finalizers. */
export function markDeleted(obj: KubeObject, now: string, policy: PropagationPolicy | undefined): KubeObject {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  const finalizers = finalizersOnDelete(obj.metadata.finalizers, policy);
  const next: KubeObject = { ...obj, metadata: { ...metadata, deletionTimestamp: metadata.deletionTimestamp ?? now, finalizers } };
  if (!finalizers.length) delete next.metadata.finalizers;
  return next;
}

/** Being deleted and held by nothing (a Namespace also by nothing in spec.finalizers): it goes from the store. */
export function isReadyToGo(obj: KubeObject): boolean {
  if (!obj.metadata.deletionTimestamp || (obj.metadata.finalizers ?? []).length) return false;
  return !isNamespace(obj) || (obj.spec?.finalizers as string[] | undefined ?? []).length === 0;
}

/** An update of an object being deleted may remove finalizers and change metadata, but add no finalizer and leave spec alone. */
export function terminatingUpdateErrors(next: KubeObject, prev: KubeObject): FieldError[] {
  if (!prev.metadata.deletionTimestamp) return [];
  const errs: FieldError[] = [];
  const had = new Set(prev.metadata.finalizers ?? []);
  const added = (next.metadata.finalizers ?? []).filter((f) => !had.has(f));
  if (added.length) {
    errs.push({ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` });
  }
  if (!isDeepStrictEqual(next.spec, prev.spec)) {
    errs.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: may not be changed while the object is being deleted' });
  }
  return errs;
}
