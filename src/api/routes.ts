// Kubernetes-shaped routes over the registry: /api/v1/nodes[/{name}[/status]],
// /api/v1/namespaces/{ns}/pods[/{name}[/status]], /api/v1/pods, and for
// kinds in a group /apis/{group}/{version}/namespaces/{ns}/{plural}/...
import Router from '@koa/router';
import type { Context } from 'koa';
import { apiPrefix, KINDS, type KindInfo } from '../objects/kinds.ts';
import type { FieldError } from '../objects/validation.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { User, Authorizer } from './auth.ts';
import { readObject, readPatch } from './body.ts';
import { fieldManagerErrors, invalidOptions, managerOf } from './field-manager.ts';
import { patchTypesFor } from './patch.ts';
import { BINDING_BODY_TYPES, deleteOptionsTypes, objectBodyTypes } from './protobuf-kinds.ts';
import { COMMIT_KIND, commitOpAttributes, parseCommit } from './commit.ts';
import { errors } from './errors.ts';
import { commitChecks, controllerNodeGuard, writeChecks } from './node-auth.ts';
import { garbageCollectorGuard } from './controller-auth.ts';
import { propagationPolicyOf } from './deletion.ts';
import { mountEviction } from './eviction.ts';
import { listOutput, objectOutput, outputOf, watchEncoder } from './output.ts';
import { mountPodLog } from './pod-log.ts';
import { mountUsage } from './metrics-api.ts';
import { mountPodCalls } from './pod-calls-api.ts';
import { mountNetworkPolicyReview } from './network-policy-review.ts';
import type { UsageRecorder } from './usage-recorder.ts';
import type { DeleteOptions, Registry, WriteOptions, WriteResult } from './registry.ts';
import { check, namespaceParam, query } from './request.ts';
import { streamWatch } from './watch.ts';

export interface RouteOptions {
  registry: Registry;
  authorize: Authorizer;
  bodyLimit: number;
  /** Mints node tokens for POST /api/v1/nodes/{name}/token (controllers running outside kcs up). */
  nodeToken?: (nodeName: string) => string;
  /** The time Table responses count ages from. */
  clock?: Clock;
  /** Where node agents' usage reports are kept, served as metrics.k8s.io. */
  usage?: UsageRecorder;
}

function writeOptions(ctx: Context, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' = 'UpdateOptions'): WriteOptions {
  const validation = query(ctx, 'fieldValidation');
  const dryRun = query(ctx, 'dryRun');
  if (validation !== undefined && !['Strict', 'Warn', 'Ignore'].includes(validation)) {
    throw errors.badRequest(`fieldValidation must be one of Strict, Warn, Ignore (got ${JSON.stringify(validation)})`);
  }
  if (dryRun !== undefined && dryRun !== 'All') throw errors.badRequest(`dryRun must be "All" (got ${JSON.stringify(dryRun)})`);
  const manager = query(ctx, 'fieldManager');
  const problems = fieldManagerErrors(manager);
  if (problems.length) throw invalidOptions(optionsKind, problems);
  // Recorded in managedFields as Kubernetes does: the parameter, else the client's User-Agent.
  return { strict: validation === 'Strict', dryRun: dryRun === 'All', fieldManager: managerOf(manager, ctx.get('user-agent')) };
}

/** PATCH's own options: `force` belongs to apply alone, which needs a named field manager. */
function patchOptions(ctx: Context, type: string): { force?: boolean } {
  const force = query(ctx, 'force');
  const apply = type === 'application/apply-patch+yaml';
  if (force !== undefined && !apply) throw invalidOptions('PatchOptions', [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' }]);
  if (force !== undefined && force !== 'true' && force !== 'false') throw errors.badRequest(`force must be true or false (got ${JSON.stringify(force)})`);
  if (apply && !query(ctx, 'fieldManager')) throw errors.fieldManagerRequired();
  return { force: force === 'true' };
}

function respond(ctx: Context, result: WriteResult, status: number): void {
  // Header values must be Latin-1: anything beyond ASCII is sent \u-escaped.
  const header = (w: string) => `299 - ${JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
  if (result.warnings.length) ctx.set('Warning', result.warnings.map(header));
  ctx.status = status;
  ctx.body = result.object;
}

export function resourceRouter(opts: RouteOptions): Router {
  const router = new Router();
  const { registry, authorize, bodyLimit } = opts;
  const clock = opts.clock ?? systemClock;
  for (const kind of KINDS) mount(router, kind, registry, authorize, bodyLimit, clock);
  mountCommits(router, registry, authorize, bodyLimit);
  mountBinding(router, registry, authorize, bodyLimit);
  mountEviction(router, registry, authorize, bodyLimit);
  mountPodLog(router, registry, authorize);
  if (opts.usage) {
    mountUsage(router, registry, authorize, opts.usage, bodyLimit);
    mountPodCalls(router, registry, authorize, opts.usage);
  }
  mountNetworkPolicyReview(router, registry, authorize, bodyLimit);
  const nodeToken = opts.nodeToken;
  if (nodeToken) {
    // Like Kubernetes' TokenRequest: a controller in another process asks
    // for the token a node's agent will use. Admins only (the authorizer).
    router.post('/api/v1/nodes/:name/token', async (ctx) => {
      const name = ctx.params.name;
      await check(ctx, authorize, { verb: 'create', resource: 'nodes', subresource: 'token', name });
      await registry.get(KINDS.find((k) => k.kind === 'Node')!, undefined, name);
      ctx.status = 201;
      ctx.body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name }, spec: {}, status: { token: nodeToken(name) } };
    });
  }
  return router;
}

/**
 * A batch of a scheduler's bindings (each pod with its event and its node's
 * ledger) is larger than one object: the limit is a multiple of the object
 * limit, and the body is read only after the user may commit at all.
 */
const COMMIT_BODY_FACTOR = 8;

function mountCommits(router: Router, registry: Registry, authorize: Authorizer, bodyLimit: number): void {
  router.post(COMMIT_KIND.path, async (ctx) => {
    await check(ctx, authorize, { verb: 'create', resource: COMMIT_KIND.plural });
    const { dryRun } = writeOptions(ctx);
    const ops = parseCommit(await readObject(ctx, bodyLimit * COMMIT_BODY_FACTOR));
    const user = ctx.state.user as User;
    for (const op of ops) await check(ctx, authorize, commitOpAttributes(op));
    const objects = await registry.commit(ops, commitChecks(user, registry), { dryRun });
    ctx.status = 201;
    ctx.body = { apiVersion: COMMIT_KIND.apiVersion, kind: COMMIT_KIND.kind, metadata: { resourceVersion: objects.at(-1)?.metadata.resourceVersion }, results: objects };
  });
}


/** POST pods/{name}/binding, as Kubernetes serves it to schedulers: a v1 Binding naming the target Node. */
function mountBinding(router: Router, registry: Registry, authorize: Authorizer, bodyLimit: number): void {
  router.post('/api/v1/namespaces/:namespace/pods/:name/binding', async (ctx) => {
    const namespace = namespaceParam(ctx);
    const name = ctx.params.name;
    await check(ctx, authorize, { verb: 'create', resource: 'pods', subresource: 'binding', namespace, name });
    const { dryRun } = writeOptions(ctx);
    const body = await readObject(ctx, bodyLimit, BINDING_BODY_TYPES);
    const binding = parseBinding(body, namespace, name);
    await registry.bind(namespace, name, binding.target, binding.annotations, { dryRun });
    ctx.status = 201;
    ctx.body = { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 };
  });
}

function parseBinding(body: unknown, namespace: string, name: string): { target: string; annotations?: Record<string, string> } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a Binding object');
  const b = body as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown; annotations?: unknown }; target?: { kind?: unknown; name?: unknown } };
  if (b.kind !== 'Binding') throw errors.badRequest(`the kind in the body (${String(b.kind)}) does not match the resource in the URL (pods/binding)`);
  if (b.apiVersion !== 'v1') throw errors.badRequest(`the API version in the data (${String(b.apiVersion)}) does not match the expected API version (v1)`);
  if (b.metadata?.name !== undefined && b.metadata.name !== name) throw errors.badRequest(`the name of the Binding (${String(b.metadata.name)}) does not match the pod in the URL (${name})`);
  if (b.metadata?.namespace !== undefined && b.metadata.namespace !== namespace) throw errors.badRequest(`the namespace of the Binding (${String(b.metadata.namespace)}) does not match the namespace in the URL (${namespace})`);
  const invalid = (field: string, message: string, reason = 'FieldValueInvalid'): never => {
    throw errors.invalid('Binding', name, [{ field, message, reason } as FieldError]);
  };
  const target = b.target;
  if (target === null || typeof target !== 'object') return invalid('target', 'Required value: the node to bind to', 'FieldValueRequired');
  if (target.kind !== undefined && target.kind !== 'Node') invalid('target.kind', `Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"`, 'FieldValueNotSupported');
  if (typeof target.name !== 'string' || target.name === '') return invalid('target.name', 'Required value: the name of the node', 'FieldValueRequired');
  const annotations = b.metadata?.annotations;
  if (annotations !== undefined && (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations) || Object.values(annotations).some((v) => typeof v !== 'string'))) {
    invalid('metadata.annotations', 'Invalid value: must be a map of strings');
  }
  return { target: target.name, annotations: annotations as Record<string, string> | undefined };
}

function mount(router: Router, kind: KindInfo, registry: Registry, authorize: Authorizer, bodyLimit: number, clock: Clock): void {
  const prefix = apiPrefix(kind);
  const base = kind.namespaced ? `${prefix}/namespaces/:namespace/${kind.plural}` : `${prefix}/${kind.plural}`;
  const ns = (ctx: Context) => (kind.namespaced ? namespaceParam(ctx) : undefined);
  const r = kind.plural;
  const bodyTypes = objectBodyTypes(kind);

  const listOrWatch = async (ctx: Context, namespace: string | undefined) => {
    const selectors = { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') };
    const watch = query(ctx, 'watch');
    if (watch === 'true' || watch === '1') {
      await check(ctx, authorize, { verb: 'watch', resource: r, namespace, fieldSelector: selectors.fieldSelector });
      const output = outputOf(ctx);
      const rawTimeout = query(ctx, 'timeoutSeconds');
      const timeoutSeconds = rawTimeout === undefined ? 0 : Number(rawTimeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`timeoutSeconds must be a whole number of seconds (got ${JSON.stringify(rawTimeout)})`);
      // Timers overflow past 2^31 ms; a day is longer than any client waits anyway.
      const bookmarks = query(ctx, 'allowWatchBookmarks');
      await streamWatch(ctx, registry, kind, namespace, {
        ...selectors, resourceVersion: query(ctx, 'resourceVersion'), allowWatchBookmarks: bookmarks === 'true' || bookmarks === '1',
        timeoutSeconds: Math.min(timeoutSeconds, 86_400),
        encode: output.as === 'Object' ? undefined : watchEncoder(kind, output, () => clock.now()),
      });
      return;
    }
    await check(ctx, authorize, { verb: 'list', resource: r, namespace, fieldSelector: selectors.fieldSelector });
    const output = outputOf(ctx);
    const listOptions = {
      ...selectors, limit: query(ctx, 'limit'), continue: query(ctx, 'continue'),
      resourceVersion: query(ctx, 'resourceVersion'), resourceVersionMatch: query(ctx, 'resourceVersionMatch'),
    };
    if (output.as !== 'Object') {
      ctx.body = listOutput(kind, await registry.list(kind, namespace, listOptions), output, clock.now());
      return;
    }
    ctx.type = 'application/json';
    ctx.body = await registry.listJson(kind, namespace, listOptions);
  };

  router.get(base, (ctx) => listOrWatch(ctx, ns(ctx)));
  if (kind.namespaced) router.get(`${prefix}/${kind.plural}`, (ctx) => listOrWatch(ctx, undefined));

  router.post(base, async (ctx) => {
    const namespace = ns(ctx);
    const options = writeOptions(ctx, 'CreateOptions');
    const body = await readObject(ctx, bodyLimit, bodyTypes);
    // Authorized after reading: who may create depends on the name in the body.
    const bodyName = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    await check(ctx, authorize, { verb: 'create', resource: r, namespace, name: typeof bodyName === 'string' ? bodyName : undefined });
    const guard = controllerNodeGuard(ctx.state.user as User, r, undefined, typeof bodyName === 'string' ? bodyName : undefined, 'create');
    respond(ctx, await registry.create(kind, namespace, body, { ...options, guard }), 201);
  });

  for (const sub of kind.hasStatus ? [undefined, 'status'] as const : [undefined]) {
    const path = sub ? `${base}/:name/${sub}` : `${base}/:name`;
    router.get(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'get', resource: r, subresource: sub, namespace, name: ctx.params.name });
      const output = outputOf(ctx);
      ctx.body = objectOutput(kind, await registry.get(kind, namespace, ctx.params.name), output, clock.now());
    });
    router.put(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'update', resource: r, subresource: sub, namespace, name: ctx.params.name });
      const options = { ...writeOptions(ctx), ...writeChecks(ctx.state.user as User, r, ctx.params.name, sub, registry) };
      const body = await readObject(ctx, bodyLimit, bodyTypes);
      respond(ctx, await registry.update(kind, namespace, ctx.params.name, body, { ...options, subresource: sub }), 200);
    });
    router.patch(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'patch', resource: r, subresource: sub, namespace, name: ctx.params.name });
      const options = { ...writeOptions(ctx, 'PatchOptions'), ...writeChecks(ctx.state.user as User, r, ctx.params.name, sub, registry) };
      const { type, patch } = await readPatch(ctx, bodyLimit, patchTypesFor(kind));
      const { force } = patchOptions(ctx, type);
      const name = ctx.params.name;
      // An apply that creates the object needs the permission to create it, as in Kubernetes.
      const mayCreate = () => check(ctx, authorize, { verb: 'create', resource: r, namespace, name });
      const result = await registry.patch(kind, namespace, name, type, patch, { ...options, force, mayCreate, subresource: sub });
      respond(ctx, result, result.created ? 201 : 200);
    });
  }

  router.delete(`${base}/:name`, async (ctx) => {
    const namespace = ns(ctx);
    await check(ctx, authorize, { verb: 'delete', resource: r, namespace, name: ctx.params.name });
    const options = await deleteOptions(ctx, bodyLimit, kind);
    const guard = garbageCollectorGuard(ctx.state.user as User, 'delete', r, ctx.params.name);
    ctx.body = await registry.delete(kind, namespace, ctx.params.name, { ...options, guard });
  });

  // deletecollection, as Kubernetes serves it on every collection but namespaces.
  if (kind.kind !== 'Namespace') {
    router.delete(base, async (ctx) => {
      const namespace = ns(ctx);
      const selectors = { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') };
      await check(ctx, authorize, { verb: 'deletecollection', resource: r, namespace, fieldSelector: selectors.fieldSelector });
      const { dryRun, propagationPolicy } = await deleteOptions(ctx, bodyLimit, kind);
      ctx.body = await registry.deleteCollection(kind, namespace, { ...selectors, dryRun, propagationPolicy });
    });
  } else {
    // PUT namespaces/{name}/finalize: how the namespace controller says it is done.
    router.put(`${base}/:name/finalize`, async (ctx) => {
      await check(ctx, authorize, { verb: 'update', resource: r, subresource: 'finalize', name: ctx.params.name });
      const options = writeOptions(ctx);
      const body = await readObject(ctx, bodyLimit, bodyTypes);
      respond(ctx, await registry.finalizeNamespace(ctx.params.name, body, options), 200);
    });
  }
}

/**
 * dryRun and propagationPolicy (or the older orphanDependents) from the
 * query, and an optional DeleteOptions body as kubectl sends it (JSON, or
 * protobuf from its typed clients): the same options, and preconditions
 * that make the delete conditional.
 */
async function deleteOptions(ctx: Context, bodyLimit: number, kind: KindInfo): Promise<DeleteOptions> {
  const { dryRun } = writeOptions(ctx);
  // orphanDependents is a boolean in the query too; any other text is refused as the wrong type.
  const orphan = query(ctx, 'orphanDependents');
  const fromQuery = propagationPolicyOf({ propagationPolicy: query(ctx, 'propagationPolicy'), orphanDependents: orphan === 'true' || orphan === 'false' ? orphan === 'true' : orphan });
  const hasBody = (ctx.get('content-length') && ctx.get('content-length') !== '0') || ctx.get('transfer-encoding');
  const body = hasBody ? await readObject(ctx, bodyLimit, deleteOptionsTypes(kind)) : undefined;
  if (body === undefined || body === null) return { dryRun, propagationPolicy: fromQuery };
  if (typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a DeleteOptions object');
  const { preconditions: pre, dryRun: bodyDryRun, propagationPolicy, orphanDependents } = body as { preconditions?: { resourceVersion?: unknown; uid?: unknown } | null; dryRun?: unknown; propagationPolicy?: unknown; orphanDependents?: unknown };
  const fromBody = propagationPolicyOf({ propagationPolicy, orphanDependents });
  if (bodyDryRun !== undefined && bodyDryRun !== null && !(Array.isArray(bodyDryRun) && bodyDryRun.every((v) => v === 'All'))) {
    throw errors.invalid('DeleteOptions', '', [{ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${JSON.stringify(bodyDryRun)}: supported values: "All"` }]);
  }
  return {
    dryRun: dryRun || (Array.isArray(bodyDryRun) && bodyDryRun.length > 0),
    propagationPolicy: fromBody ?? fromQuery,
    resourceVersion: typeof pre?.resourceVersion === 'string' ? pre.resourceVersion : undefined,
    uid: typeof pre?.uid === 'string' ? pre.uid : undefined,
  };
}
