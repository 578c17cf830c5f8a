// POST /api/v1/namespaces/{ns}/pods/{name}/eviction: Kubernetes' Eviction
// subresource, what `kubectl drain` posts for each pod. kcs has no
// PodDisruptionBudgets, so an eviction is always allowed and the pod is
// deleted, as Kubernetes deletes it (its owner, if any, replaces it). This
// is the one path where a pod leaving a node is deleted rather than moved:
// `kcs drain` moves bare pods instead (client/unbind.ts).
import type Router from '@koa/router';
import { kindByName } from '../objects/kinds.ts';
import type { FieldError } from '../objects/validation.ts';
import type { Authorizer } from './auth.ts';
import { readObject } from './body.ts';
import { errors } from './errors.ts';
import { EVICTION_BODY_TYPES } from './protobuf-kinds.ts';
import type { Registry } from './registry.ts';
import { check, namespaceParam, query } from './request.ts';

/** The group versions Kubernetes serves Eviction in (v1beta1 still accepted, as kubectl falls back to it). */
export const EVICTION_API_VERSIONS = EVICTION_BODY_TYPES.map((t) => t.apiVersion);

export interface EvictionRequest {
  dryRun: boolean;
  preconditions: { uid?: string; resourceVersion?: string };
}

export function mountEviction(router: Router, registry: Registry, authorize: Authorizer, bodyLimit: number): void {
  const pods = kindByName('Pod')!;
  router.post('/api/v1/namespaces/:namespace/pods/:name/eviction', async (ctx) => {
    const namespace = namespaceParam(ctx);
    const name = ctx.params.name;
    // Who may evict is who may create pods/eviction: admins (controllers and nodes may not delete pods).
    await check(ctx, authorize, { verb: 'create', resource: 'pods', subresource: 'eviction', namespace, name });
    const eviction = parseEviction(await readObject(ctx, bodyLimit, EVICTION_BODY_TYPES), namespace, name, query(ctx, 'dryRun'));
    await registry.delete(pods, namespace, name, { dryRun: eviction.dryRun, ...eviction.preconditions });
    ctx.status = 201;
    ctx.body = { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 };
  });
}

/**
 * The Eviction body checked as Kubernetes checks it: its kind and group
 * version, a name and namespace that agree with the URL, and deleteOptions
 * (dryRun, from the body or the query; preconditions on uid and
 * resourceVersion; a grace period, which a simulated pod does not need).
 */
export function parseEviction(body: unknown, namespace: string, name: string, queryDryRun: string | undefined): EvictionRequest {
  if (queryDryRun !== undefined && queryDryRun !== 'All') throw errors.badRequest(`dryRun must be "All" (got ${JSON.stringify(queryDryRun)})`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be an Eviction object');
  const e = body as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown } | null; deleteOptions?: unknown };
  if (e.kind !== 'Eviction') throw errors.badRequest(`the kind in the body (${String(e.kind)}) does not match the resource in the URL (pods/eviction)`);
  if (!EVICTION_API_VERSIONS.includes(e.apiVersion as string)) {
    throw errors.badRequest(`the API version in the data (${String(e.apiVersion)}) does not match the expected API version (one of ${EVICTION_API_VERSIONS.join(', ')})`);
  }
  const meta = e.metadata ?? {};
  if (meta.name !== undefined && meta.name !== '' && meta.name !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const invalid = (field: string, message: string): never => {
    throw errors.invalid('Eviction', name, [{ field, message, reason: 'FieldValueInvalid' } as FieldError]);
  };
  const options = e.deleteOptions;
  if (options === undefined || options === null) return { dryRun: queryDryRun === 'All', preconditions: {} };
  if (typeof options !== 'object' || Array.isArray(options)) return invalid('deleteOptions', 'Invalid value: must be a DeleteOptions object');
  const o = options as { dryRun?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } | null; gracePeriodSeconds?: unknown };
  let dryRun = queryDryRun === 'All';
  if (o.dryRun !== undefined && o.dryRun !== null) {
    if (!Array.isArray(o.dryRun) || o.dryRun.some((v) => v !== 'All')) return invalid('deleteOptions.dryRun', `Unsupported value: ${JSON.stringify(o.dryRun)}: supported values: "All"`);
    // Either place asks for it (an empty list in the body takes the query's, as in Kubernetes).
    dryRun ||= o.dryRun.length > 0;
  }
  if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds !== null && !Number.isInteger(o.gracePeriodSeconds)) {
    invalid('deleteOptions.gracePeriodSeconds', `Invalid value: ${JSON.stringify(o.gracePeriodSeconds)}: must be a whole number of seconds`);
  }
  const pre = o.preconditions ?? {};
  if (typeof pre !== 'object' || Array.isArray(pre)) return invalid('deleteOptions.preconditions', 'Invalid value: must be an object');
  for (const field of ['uid', 'resourceVersion'] as const) {
    if (pre[field] !== undefined && pre[field] !== null && typeof pre[field] !== 'string') invalid(`deleteOptions.preconditions.${field}`, `Invalid value: ${JSON.stringify(pre[field])}: must be a string`);
  }
  return {
    dryRun,
    preconditions: {
      ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
      ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
    },
  };
}
