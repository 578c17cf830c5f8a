// Field managers at the API: who a write is recorded as (the fieldManager
// query parameter, else the client's User-Agent up to its first "/", as
// Kubernetes derives it), the checks on an apply body, and the managedFields
// a non-apply write leaves (objects/managed-fields.ts does the work).
import { schemaOf, UNTYPED, type FieldType } from '../objects/field-schema.ts';
import type { KindInfo } from '../objects/kinds.ts';
import { managedFieldsAfterUpdate } from '../objects/managed-fields.ts';
import type { KubeObject, ManagedFieldsEntry } from '../objects/types.ts';
import { checkShape } from './admission.ts';
import { ApiError, errors } from './errors.ts';

export interface FieldManagerOptions {
  /** Who the write is recorded as in metadata.managedFields; unset: not recorded (internal writes). */
  fieldManager?: string;
}

/** Kubernetes' limit on a field manager's name. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** The kinds Kubernetes has built-in types for merge by their schema; the rest (kcs.io) as untyped objects. */
export function fieldSchemaOf(kind: KindInfo): FieldType {
  return schemaOf(kind) ?? UNTYPED;
}

/** The manager a request is recorded as: the query parameter, else what precedes the first "/" of the User-Agent. */
export function managerOf(queryValue: string | undefined, userAgent: string | undefined): string {
  if (queryValue) return queryValue;
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]) {
    if (!isPrintable(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out || 'unknown';
}

function isPrintable(ch: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
}

/** The fieldManager parameter as Kubernetes checks it: at most 128 bytes, printable. */
export function fieldManagerErrors(value: string | undefined): Array<{ reason: string; message: string; field: string }> {
  if (value === undefined) return [];
  const out: Array<{ reason: string; message: string; field: string }> = [];
  if (value.length > FIELD_MANAGER_MAX_LENGTH) out.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`, field: 'fieldManager' });
  [...value].forEach((ch, i) => {
    if (!isPrintable(ch)) out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: invalid character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} (at position ${i})`, field: 'fieldManager' });
  });
  return out;
}

/** The managedFields a non-apply write leaves on `after` (undefined `before`: a create). */
export function recordedManagedFields(
  kind: KindInfo, before: KubeObject | undefined, after: KubeObject, requested: unknown,
  opts: FieldManagerOptions & { subresource?: string }, now: string | (() => string),
): ManagedFieldsEntry[] | undefined {
  // Unrecorded (internal) writes change no ownership; a body without managedFields keeps the stored ones, as in Kubernetes.
  if (!opts.fieldManager) return after.metadata.managedFields ?? before?.metadata.managedFields;
  // What the main resource does not write (status) is not the writer's on a create.
  const written = before === undefined && kind.hasStatus && after.status !== undefined ? { ...after, status: undefined } : after;
  return managedFieldsAfterUpdate(before, written, requested, {
    type: fieldSchemaOf(kind), manager: opts.fieldManager, apiVersion: kind.apiVersion, subresource: opts.subresource, now,
    // The main resource keeps the stored status (admission): comparing it would find nothing.
    statusUnchanged: kind.hasStatus && !opts.subresource,
  });
}

/**
 * An apply body, checked as Kubernetes checks it (its version, kind and name
 * those of the URL, no managedFields), reduced to what the target writes:
 * the main resource of a kind with a status subresource does not apply
 * status; the status subresource applies only status.
 */
export function applyBody(kind: KindInfo, body: unknown, namespace: string | undefined, name: string, subresource: 'status' | undefined): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('an apply patch must be an object (YAML or JSON)');
  const b = body as { apiVersion?: unknown; metadata?: { managedFields?: unknown; name?: unknown } | null };
  if (b.apiVersion !== undefined && b.apiVersion !== kind.apiVersion) {
    throw errors.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(b.apiVersion)}, expected: ${kind.apiVersion}`);
  }
  if (b.metadata && typeof b.metadata === 'object' && b.metadata.managedFields !== undefined && b.metadata.managedFields !== null) {
    throw errors.badRequest('metadata.managedFields must be nil');
  }
  const config = checkShape(kind, JSON.parse(JSON.stringify(body)), namespace);
  if (config.metadata.name !== name) throw errors.badRequest(`the name of the object (${String(config.metadata.name ?? '')}) does not match the name on the URL (${name})`);
  delete config.metadata.managedFields;
  if (subresource === 'status') {
    return { apiVersion: config.apiVersion, kind: config.kind, metadata: { name, ...(config.metadata.namespace ? { namespace: config.metadata.namespace } : {}) }, ...(config.status !== undefined ? { status: config.status } : {}) };
  }
  if (kind.hasStatus) delete config.status;
  return config;
}

/** 422 for the options of a write (`PatchOptions.meta.k8s.io "" is invalid: ...`), in Kubernetes' shape. */
export function invalidOptions(optionsKind: 'PatchOptions' | 'CreateOptions' | 'UpdateOptions', causes: Array<{ reason: string; message: string; field: string }>): ApiError {
  return new ApiError(422, 'Invalid', `${optionsKind}.meta.k8s.io "" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, { group: 'meta.k8s.io', kind: optionsKind, name: '', causes });
}
