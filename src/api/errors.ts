// Typed API errors. Handlers throw these; one middleware (app.ts) turns any
// of them into a Kubernetes `Status` response. Nothing else formats errors.
import type { FieldError } from '../objects/validation.ts';
import type { Status } from '../objects/types.ts';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'AlreadyExists'
  | 'Conflict' | 'Expired' | 'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'Invalid' | 'NotAcceptable'
  | 'InternalError' | 'ServiceUnavailable' | 'Timeout';

export interface ErrorDetails { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }> }

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: ErrorDetails;

  constructor(code: number, reason: StatusReason, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    return {
      apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code,
    };
  }
}

/** `pods "web" not found`, the way Kubernetes words it. */
function ref(resource: string, name: string): string {
  return `${resource} ${JSON.stringify(name)}`;
}

export const errors = {
  badRequest: (message: string, cause?: unknown) => new ApiError(400, 'BadRequest', message, undefined, { cause }),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized: a valid bearer token is required (Authorization: Bearer <token>)'),
  forbidden: (user: string, verb: string, resource: string, name?: string) =>
    new ApiError(403, 'Forbidden', `${name ? ref(resource, name) : resource} is forbidden: User ${JSON.stringify(user)} cannot ${verb} resource ${JSON.stringify(resource)}`, { name, kind: resource }),
  /** A non-resource URL (/metrics) the user may not use. */
  forbiddenPath: (user: string, verb: string, path: string) => new ApiError(403, 'Forbidden', `forbidden: User ${JSON.stringify(user)} cannot ${verb} path ${JSON.stringify(path)}`),
  notFound: (resource: string, name: string) => new ApiError(404, 'NotFound', `${ref(resource, name)} not found`, { name, kind: resource }),
  pathNotFound: (path: string) => new ApiError(404, 'NotFound', `the server could not find the requested resource (${path})`),
  methodNotAllowed: (method: string, path: string) => new ApiError(405, 'MethodNotAllowed', `the server does not allow method ${method} on ${path}`),
  alreadyExists: (resource: string, name: string) => new ApiError(409, 'AlreadyExists', `${ref(resource, name)} already exists`, { name, kind: resource }),
  conflict: (resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${ref(resource, name)}: ${why}`, { name, kind: resource }),
  expired: (message: string) => new ApiError(410, 'Expired', message),
  /** A read at a resourceVersion this server did not reach in time (Kubernetes' 504 with cause ResourceVersionTooLarge). */
  tooLargeResourceVersion: (message: string) => new ApiError(504, 'Timeout', `Timeout: ${message}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] }),
  tooLarge: (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit} bytes`),
  unsupportedMediaType: (type: string, supported: string[]) =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')} (got ${JSON.stringify(type)})`),
  /** No clause of the Accept header names a representation this endpoint serves. */
  notAcceptable: (supported: string[]) => new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${supported.join(', ')}`),
  /** The Accept header asked for a conversion this response cannot take (PartialObjectMetadata of a list). */
  notAcceptableConversion: (message: string) => new ApiError(406, 'NotAcceptable', message),
  /** details.kind is the Kind (Pod), as Kubernetes sends it: kubectl prints `The Pod "web" is invalid:` from it. */
  invalid: (kind: string, name: string, causes: FieldError[]) =>
    new ApiError(422, 'Invalid', `${kind} ${JSON.stringify(name)} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
      name, kind, causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
    }),
  /** An apply without a field manager (Kubernetes: PatchOptions invalid). */
  fieldManagerRequired: () => new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
    group: 'meta.k8s.io', kind: 'PatchOptions', name: '', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
  }),
  /** Server-side apply: fields other managers own would change (Kubernetes' apply conflict, no name or kind in its details). */
  applyConflict: (message: string, causes: Array<{ message: string; field: string }>) =>
    new ApiError(409, 'Conflict', message, { causes: causes.map((c) => ({ reason: 'FieldManagerConflict', message: c.message, field: c.field })) }),
  /** The store did not answer (Kubernetes answers 503 when etcd is away): the request may be tried again. */
  unavailable: (message: string, cause?: unknown) => new ApiError(503, 'ServiceUnavailable', message, undefined, { cause }),
  internal: (cause: unknown) => new ApiError(500, 'InternalError', `Internal error occurred: ${(cause as Error)?.message ?? String(cause)}`, undefined, { cause }),
};
