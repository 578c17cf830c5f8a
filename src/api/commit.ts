// The batched write as an API operation: `POST /apis/kcs.io/v1/commits`
// with a `kcs.io/v1 Commit` naming several writes, applied all together or
// not at all (Registry.commit). It is what the scheduler binds with and what
// unbinding uses, on every transport: the HTTP route and the in-process
// client both parse nothing twice and authorize each write as if it came
// alone (create pods/binding, update pods/unbinding, update nodes/status,
// create events, ...).
//
//   { apiVersion: kcs.io/v1, kind: Commit,
//     operations: [ { verb: update, subresource: binding, object: <Pod> },
//                   { verb: create, object: <Event> }, ... ] }
import { DEFAULT_NAMESPACE, KINDS } from '../objects/kinds.ts';
import type { FieldError } from '../objects/validation.ts';
import type { RequestAttributes } from './auth.ts';
import { errors } from './errors.ts';
import type { CommitOp } from './registry.ts';

export const COMMIT_KIND = { kind: 'Commit', apiVersion: 'kcs.io/v1', plural: 'commits', path: '/apis/kcs.io/v1/commits' } as const;

/** Most writes in one commit: the scheduler sends at most 1,024 bindings, each with its event, plus a ledger per node. */
export const MAX_COMMIT_OPERATIONS = 5_000;

const SUBRESOURCES = new Set(['status', 'binding', 'unbinding']);

/** The body of a commit request as the client sends it. */
export interface CommitBody {
  apiVersion: string;
  kind: 'Commit';
  operations: Array<{ verb: 'create' | 'update'; subresource?: 'status' | 'binding' | 'unbinding'; object: unknown }>;
}

export function commitBody(ops: CommitOp[]): CommitBody {
  return {
    apiVersion: COMMIT_KIND.apiVersion, kind: COMMIT_KIND.kind,
    operations: ops.map((op) => ({
      verb: op.verb,
      ...(op.verb === 'update' && op.subresource ? { subresource: op.subresource } : {}),
      object: op.object.kind && op.object.apiVersion ? op.object : { ...op.object, apiVersion: op.kind.apiVersion, kind: op.kind.kind },
    })),
  };
}

/** A commit request's body as writes, or 4xx naming the field and the reason. Nothing is written before it passes. */
export function parseCommit(body: unknown): CommitOp[] {
  const fail = (field: string, message: string, reason = 'FieldValueInvalid'): never => {
    throw errors.invalid(COMMIT_KIND.kind, '', [{ field, message, reason } as FieldError]);
  };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a Commit object');
  const b = body as Partial<CommitBody>;
  if (b.kind !== COMMIT_KIND.kind) throw errors.badRequest(`the kind in the body (${String(b.kind)}) does not match the resource in the URL (commits)`);
  if (b.apiVersion !== COMMIT_KIND.apiVersion) throw errors.badRequest(`the API version in the data (${String(b.apiVersion)}) does not match the expected API version (${COMMIT_KIND.apiVersion})`);
  if (!Array.isArray(b.operations)) return fail('operations', 'Required value: a list of writes', 'FieldValueRequired');
  if (b.operations.length === 0) return fail('operations', 'Required value: at least one write', 'FieldValueRequired');
  if (b.operations.length > MAX_COMMIT_OPERATIONS) return fail('operations', `Too many: ${b.operations.length}: must have at most ${MAX_COMMIT_OPERATIONS} items`, 'FieldValueTooMany');
  return b.operations.map((raw, i): CommitOp => {
    const at = `operations[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail(at, 'Invalid value: must be an object');
    const { verb, subresource, object } = raw as { verb?: unknown; subresource?: unknown; object?: unknown };
    if (verb !== 'create' && verb !== 'update') return fail(`${at}.verb`, `Unsupported value: ${JSON.stringify(verb)}: supported values: "create", "update"`, 'FieldValueNotSupported');
    if (subresource !== undefined && (verb !== 'update' || !SUBRESOURCES.has(subresource as string))) {
      return fail(`${at}.subresource`, `Unsupported value: ${JSON.stringify(subresource)}: supported values: "status", "binding", "unbinding" (with verb "update")`, 'FieldValueNotSupported');
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) return fail(`${at}.object`, 'Required value: the object to write', 'FieldValueRequired');
    const o = object as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } };
    const kind = KINDS.find((k) => k.kind === o.kind && k.apiVersion === o.apiVersion);
    if (!kind) return fail(`${at}.object.kind`, `Unsupported value: ${JSON.stringify(`${String(o.apiVersion)}/${String(o.kind)}`)}: not a kind this server serves`, 'FieldValueNotSupported');
    if ((subresource === 'binding' || subresource === 'unbinding') && kind.kind !== 'Pod') return fail(`${at}.subresource`, `Invalid value: only pods have a ${subresource}`);
    if (subresource === 'status' && !kind.hasStatus) return fail(`${at}.subresource`, `Invalid value: ${kind.plural} have no status subresource`);
    if (verb === 'update' && typeof o.metadata?.name !== 'string') return fail(`${at}.object.metadata.name`, 'Required value: an update names its object', 'FieldValueRequired');
    // Not a string is malformed, not stale: a 409 would tell the client to retry.
    const rv = (o.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
    if (verb === 'update' && (rv === undefined || rv === '')) return fail(`${at}.object.metadata.resourceVersion`, 'Required value: an update states the resourceVersion it replaces', 'FieldValueRequired');
    if (verb === 'update' && typeof rv !== 'string') return fail(`${at}.object.metadata.resourceVersion`, `Invalid value: ${JSON.stringify(rv)}: must be of type string`, 'FieldValueTypeInvalid');
    // Parsed from this request alone: the registry may admit it as it is.
    return verb === 'create'
      ? { verb, kind, object: object as CommitOp['object'], transfer: true }
      : { verb, kind, object: object as CommitOp['object'], subresource: subresource as 'status' | 'binding' | 'unbinding' | undefined, transfer: true };
  });
}

/** The request one write of a commit would be on its own, for the authorizer. */
export function commitOpAttributes(op: CommitOp): RequestAttributes {
  const meta = op.object.metadata ?? {};
  const namespace = op.kind.namespaced ? (meta.namespace ?? DEFAULT_NAMESPACE) : undefined;
  if (op.verb === 'create') return { verb: 'create', resource: op.kind.plural, namespace, name: meta.name };
  // A binding is created (as POST pods/{name}/binding is); the rest are updates of their subresource.
  return { verb: op.subresource === 'binding' ? 'create' : 'update', resource: op.kind.plural, subresource: op.subresource, namespace, name: meta.name };
}
