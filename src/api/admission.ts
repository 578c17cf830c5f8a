// Admission: what happens to a body between the route and the store.
// checkShape: the body is an object of the route's kind, namespace and name.
// admitFields: the schema accepts it; unknown fields are dropped (warned) or
// refused; quantities are normalised and requests default to limits.
// prepareFor*: the server-owned fields, mirroring Kubernetes' registry
// strategies: the server owns uid, creationTimestamp and generation; the main
// resource never writes status, the /status subresource writes only status.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_NAMESPACE, type KindInfo } from '../objects/kinds.ts';
import type { KubeObject, Pod } from '../objects/types.ts';
import { withMachineSize } from '../objects/node-capacity.ts';
import { validateObject, type FieldError } from '../objects/validation.ts';
import { defaultService, keepClusterIp, type Service } from '../objects/services.ts';
import { defaultJob, generatedSelectorErrors, generateSelector, jobUpdateErrors } from '../objects/job-spec.ts';
import type { Job } from '../objects/job-status.ts';
import { defaultPriorityClass, priorityClassUpdateErrors, type PriorityClass } from '../objects/priority-classes.ts';
import { errors } from './errors.ts';
import { isNamespace, prepareNamespaceForCreate, prepareNamespaceForUpdate } from './namespaces.ts';

export interface FieldOptions {
  /** `fieldValidation=Strict`: unknown fields are an error instead of being dropped with a warning. */
  strict?: boolean;
}

/** Sets the server-owned fields of a new object. */
export function prepareForCreate(obj: KubeObject, now: string): KubeObject {
  const { resourceVersion: _rv, deletionTimestamp: _dt, ...metadata } = obj.metadata;
  const next: KubeObject = { ...obj, metadata: { ...metadata, uid: randomUUID(), creationTimestamp: now, generation: 1 } };
  delete next.status;
  if (obj.kind === 'Pod') next.status = { phase: 'Pending' };
  if (isNamespace(next)) prepareNamespaceForCreate(next);
  if (next.kind === 'Job') {
    // The selector is made from the uid, so only now; then checked as Kubernetes validates it.
    generateSelector(next as Job);
    const refused = generatedSelectorErrors(next as Job);
    if (refused.length) throw errors.invalid('Job', next.metadata.name ?? '', refused);
    // Kubernetes defaults a Job again as it reads it back from storage: one created without labels takes its pods' generated ones.
    defaultJob(next as Job);
  }
  return next;
}

/** A PUT or PATCH of the main resource: spec and metadata from the request, the rest from the stored object. */
export function prepareForUpdate(next: KubeObject, prev: KubeObject): KubeObject {
  const metadata = {
    ...next.metadata,
    uid: prev.metadata.uid,
    creationTimestamp: prev.metadata.creationTimestamp,
    generation: prev.metadata.generation,
  };
  delete metadata.resourceVersion;
  if (prev.metadata.deletionTimestamp) metadata.deletionTimestamp = prev.metadata.deletionTimestamp;
  else delete metadata.deletionTimestamp;
  const out: KubeObject = { ...next, metadata };
  delete out.status;
  if (prev.status !== undefined) out.status = prev.status;
  if (isNamespace(out) && isNamespace(prev)) prepareNamespaceForUpdate(out, prev);
  if (out.kind === 'Node') keepPodCidr(out, prev);
  if (out.kind === 'Service') {
    const refused = keepClusterIp(out as Service, prev as Service);
    if (refused.length) throw errors.invalid('Service', out.metadata.name ?? '', refused);
  }
  const refused = out.kind === 'Job' ? jobUpdateErrors(out as Job, prev as Job)
    : out.kind === 'PriorityClass' ? priorityClassUpdateErrors(out as PriorityClass, prev as PriorityClass)
      : out.kind === 'Pod' ? keepPodPriority(out as Pod, prev as Pod) : [];
  if (refused.length) throw errors.invalid(out.kind, out.metadata.name ?? '', refused);
  if (!isDeepStrictEqual(out.spec, prev.spec)) out.metadata.generation = (prev.metadata.generation ?? 0) + 1;
  return out;
}

/**
 * A Node's pod range is given once, at create (api/pod-cidrs.ts): an update
 * that leaves it out keeps it, one that changes it is refused, as in
 * Kubernetes ("field is immutable once set").
 */
function keepPodCidr(next: KubeObject, prev: KubeObject): void {
  const spec = (next.spec ??= {}) as { podCIDR?: unknown; podCIDRs?: unknown };
  const was = (prev.spec as { podCIDR?: unknown; podCIDRs?: unknown } | undefined) ?? {};
  if (was.podCIDR === undefined) return;
  if (spec.podCIDR !== undefined && spec.podCIDR !== was.podCIDR) {
    throw errors.invalid('Node', next.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.podCIDR', message: `Invalid value: ${JSON.stringify(spec.podCIDR)}: field is immutable once set` }]);
  }
  spec.podCIDR = was.podCIDR;
  spec.podCIDRs = was.podCIDRs ?? [was.podCIDR];
}

/**
 * The priority a pod got when it was created stays (the Priority admission
 * plugin on update); its class may not change, as a pod's spec may not in
 * Kubernetes. A pod created before kcs resolved priorities gets none.
 */
function keepPodPriority(next: Pod, prev: Pod): FieldError[] {
  const spec = next.spec;
  const was = prev.spec ?? {};
  if (spec.priorityClassName !== undefined && spec.priorityClassName !== was.priorityClassName) {
    return [{ reason: 'FieldValueInvalid', field: 'spec.priorityClassName', message: `Invalid value: ${JSON.stringify(spec.priorityClassName)}: field is immutable` }];
  }
  for (const field of ['priorityClassName', 'priority', 'preemptionPolicy'] as const) {
    if (was[field] === undefined) delete spec[field];
    else (spec as Record<string, unknown>)[field] = was[field];
  }
  return [];
}

/** A write to /status: only status comes from the request. */
export function prepareForStatusUpdate(next: KubeObject, prev: KubeObject): KubeObject {
  const out: KubeObject = { ...prev, metadata: { ...prev.metadata } };
  delete out.metadata.resourceVersion;
  if (next.status === undefined) delete out.status;
  else out.status = next.status;
  return out;
}

/**
 * A binding or unbinding of a pod (Kubernetes' pods/binding, which also
 * copies the Binding's annotations): spec.nodeName, annotations and status
 * from the request, everything else from the stored pod.
 */
export function prepareForPlacement(next: KubeObject, prev: KubeObject): KubeObject {
  const out = prepareForUpdate({ ...prev, metadata: { ...prev.metadata, annotations: next.metadata.annotations }, spec: { ...prev.spec, nodeName: next.spec?.nodeName } }, prev);
  if (out.metadata.annotations === undefined) delete out.metadata.annotations;
  if (next.status === undefined) delete out.status;
  else out.status = next.status;
  return out;
}

/** The body must be an object of this route's kind, in this route's namespace and (for PUT) name. */
export function checkShape(kind: KindInfo, body: unknown, namespace: string | undefined, name?: string): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the request body must be a ${kind.kind} object`);
  const obj = body as KubeObject;
  if (obj.kind === undefined || obj.kind === '') throw errors.badRequest("Object 'Kind' is missing in the request body");
  if (obj.apiVersion === undefined || obj.apiVersion === '') throw errors.badRequest("Object 'apiVersion' is missing in the request body");
  if (obj.kind !== kind.kind) throw errors.badRequest(`the kind in the body (${String(obj.kind)}) does not match the resource in the URL (${kind.plural})`);
  if (obj.apiVersion !== kind.apiVersion) throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${kind.apiVersion})`);
  if (obj.metadata === undefined) obj.metadata = {};
  if (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) {
    throw errors.invalid(kind.kind, '', [{ reason: 'FieldValueTypeInvalid', field: 'metadata', message: 'Invalid value: must be of type object' }]);
  }
  if (kind.namespaced) {
    const ns = namespace ?? DEFAULT_NAMESPACE;
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) {
      throw errors.badRequest(`the namespace of the provided object (${String(obj.metadata.namespace)}) does not match the namespace sent on the request (${ns})`);
    }
    obj.metadata.namespace = ns;
  } else if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== '') {
    throw errors.badRequest(`${kind.kind} is cluster-scoped: metadata.namespace must be empty`);
  } else {
    delete obj.metadata.namespace;
  }
  if (name !== undefined && obj.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
  }
  return obj;
}

/** Schema validation; unknown fields are dropped with a warning, or refused when strict. */
export function admitFields(kind: KindInfo, obj: KubeObject, opts: FieldOptions): string[] {
  // A Node sized in its status (as kubelets and KWOK write it) gets that size as spec.capacity.
  if (obj.kind === 'Node') {
    const sized = withMachineSize(obj);
    if (sized !== obj) obj.spec = sized.spec;
  }
  const { errors: errs, unknownFields, unknownPaths } = validateObject(obj);
  const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : '';
  if (opts.strict && unknownFields.length) {
    errs.push(...unknownFields.map((f): FieldError => ({ reason: 'FieldValueInvalid', field: f, message: 'Invalid value: field is not declared in schema (unknown field)' })));
  }
  if (errs.length) throw errors.invalid(kind.kind, name, errs);
  for (const path of unknownPaths) removeField(obj, path);
  normalizeQuantities(obj);
  if (obj.kind === 'Service') defaultService(obj as Service);
  if (obj.kind === 'Job') defaultJob(obj as Job);
  if (obj.kind === 'PriorityClass') defaultPriorityClass(obj as PriorityClass);
  return unknownFields.map((f) => `unknown field "${f}"`);
}

/** As in Kubernetes, a container that states only a limit requests that much. */
function defaultRequestsFromLimits(container: { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } } | undefined): void {
  const limits = container?.resources?.limits;
  if (!limits || !container?.resources) return;
  for (const [name, limit] of Object.entries(limits)) {
    if (container.resources.requests?.[name] === undefined) container.resources.requests = { ...container.resources.requests, [name]: limit };
  }
}

/** Quantities written as YAML numbers (`cpu: 4`) are stored as strings, as Kubernetes prints them. */
function normalizeQuantities(obj: KubeObject): void {
  const lists: unknown[] = [];
  const spec = obj.spec as Record<string, any> | undefined;
  if (obj.kind === 'Node') lists.push(spec?.capacity);
  if (obj.kind === 'Pod') {
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
      defaultRequestsFromLimits(c);
      lists.push(c?.resources?.requests, c?.resources?.limits);
    }
  }
  for (const list of lists) {
    if (!list || typeof list !== 'object') continue;
    for (const [k, v] of Object.entries(list)) if (typeof v === 'number') (list as Record<string, unknown>)[k] = String(v);
  }
}

function removeField(obj: KubeObject, parts: string[]): void {
  let cur: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === null || typeof next !== 'object') return;
    cur = next as Record<string, unknown>;
  }
  delete cur[parts[parts.length - 1]];
}

