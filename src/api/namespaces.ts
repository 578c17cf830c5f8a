// What Kubernetes' namespace strategy and its NamespaceLifecycle admission
// plugin do, for the registry: a Namespace is made Active with the
// `kubernetes` finalizer in its spec; content may be created only in a
// namespace that exists and is not being deleted; the system namespaces
// exist from the start and may never be deleted; a deleted namespace is
// Terminating until its finalizers are gone (the namespace controller
// removes `kubernetes` once it has emptied it).
import { NAMESPACE_FINALIZER, SYSTEM_NAMESPACES, type KindInfo } from '../objects/kinds.ts';
import type { KubeObject, Namespace } from '../objects/types.ts';
import { ApiError, errors } from './errors.ts';

/** The label Kubernetes puts on every Namespace, so selectors can name namespaces by name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export function isNamespace(obj: KubeObject): obj is Namespace {
  return obj.kind === 'Namespace' && obj.apiVersion === 'v1';
}

/** A system namespace as the server makes it on a fresh store (then admitted as any create). */
export function systemNamespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: {} };
}

/** On create: Active, with the `kubernetes` finalizer added to any the request names. */
export function prepareNamespaceForCreate(ns: Namespace): void {
  const finalizers = ns.spec?.finalizers ?? [];
  ns.spec = { ...ns.spec, finalizers: finalizers.includes(NAMESPACE_FINALIZER) ? finalizers : [...finalizers, NAMESPACE_FINALIZER] };
  ns.status = { phase: 'Active' };
  labelWithName(ns);
}

/** On update of the main resource: the finalizers change only through /finalize (status is kept by the caller). */
export function prepareNamespaceForUpdate(next: Namespace, prev: Namespace): void {
  next.spec = { ...next.spec, finalizers: prev.spec?.finalizers };
  if (next.spec.finalizers === undefined) delete next.spec.finalizers;
  labelWithName(next);
}

/** PUT namespaces/{name}/finalize: only spec.finalizers comes from the request. */
export function prepareNamespaceForFinalize(next: Namespace, prev: Namespace): Namespace {
  const { resourceVersion: _rv, ...metadata } = prev.metadata;
  const finalizers = next.spec?.finalizers ?? [];
  return { ...prev, metadata, spec: { ...prev.spec, finalizers } };
}

function labelWithName(ns: Namespace): void {
  if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name };
}

/** Deleted, and nothing left to wait for: the namespace can go from the store. */
export function isFinalized(ns: Namespace): boolean {
  return !!ns.metadata.deletionTimestamp && (ns.spec?.finalizers ?? []).length === 0 && ((ns.metadata as { finalizers?: string[] }).finalizers ?? []).length === 0;
}

/** The first delete: Terminating, from now on. */
export function markTerminating(ns: Namespace, now: string): Namespace {
  const { resourceVersion: _rv, ...metadata } = ns.metadata;
  return { ...ns, metadata: { ...metadata, deletionTimestamp: now }, status: { ...ns.status, phase: 'Terminating' } };
}

export function isTerminating(ns: Namespace): boolean {
  return !!ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating';
}

/** Kubernetes' answer to deleting default, kube-system, kube-public or kube-node-lease. */
export function refuseSystemNamespaceDelete(name: string): ApiError | undefined {
  if (!SYSTEM_NAMESPACES.includes(name)) return undefined;
  return new ApiError(403, 'Forbidden', `namespaces ${JSON.stringify(name)} is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
}

/** A second delete of a namespace still being emptied, in Kubernetes' words. */
export function stillTerminating(name: string): ApiError {
  return errors.conflict('namespaces', name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
}

/**
 * Why content may not be created in this namespace, as the NamespaceLifecycle
 * admission plugin says it: 404 when it does not exist, 403 when it is being
 * deleted. undefined when it is open.
 */
export function refuseNewContent(kind: KindInfo, name: string | undefined, namespace: string, ns: Namespace | undefined): ApiError | undefined {
  if (!ns) return errors.notFound('namespaces', namespace);
  if (!isTerminating(ns)) return undefined;
  const why = `unable to create new content in namespace ${namespace} because it is being terminated`;
  const subject = name ? `${kind.plural} ${JSON.stringify(name)}` : kind.plural;
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${why}`, {
    ...(name ? { name } : {}), kind: kind.plural,
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
  });
}
