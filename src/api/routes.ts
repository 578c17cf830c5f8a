// Kubernetes-shaped routes over the registry: /api/v1/nodes[/{name}[/status]],
// /api/v1/namespaces/{ns}/pods[/{name}[/status]], /api/v1/pods, and for
// kinds in a group /apis/{group}/{version}/namespaces/{ns}/{plural}/...
import Router from '@koa/router';
import type { Context } from 'koa';
import { apiPrefix, KINDS, type KindInfo } from '../objects/kinds.ts';
import type { FieldError } from '../objects/validation.ts';
import type { User, Authorizer } from './auth.ts';
import { readObject, readPatch } from './body.ts';
import { COMMIT_KIND, commitOpAttributes, parseCommit } from './commit.ts';
import { errors } from './errors.ts';
import { commitChecks, writeChecks } from './node-auth.ts';
import { mountEviction } from './eviction.ts';
import { mountPodLog } from './pod-log.ts';
import type { Registry, WriteOptions, WriteResult } from './registry.ts';
import { check, namespaceParam, query } from './request.ts';
import { streamWatch } from './watch.ts';

export interface RouteOptions {
  registry: Registry;
  authorize: Authorizer;
  bodyLimit: number;
  /** Mints node tokens for POST /api/v1/nodes/{name}/token (controllers running outside kcs up). */
  nodeToken?: (nodeName: string) => string;
}

function writeOptions(ctx: Context): WriteOptions {
  const validation = query(ctx, 'fieldValidation');
  const dryRun = query(ctx, 'dryRun');
  if (validation !== undefined && !['Strict', 'Warn', 'Ignore'].includes(validation)) {
    throw errors.badRequest(`fieldValidation must be one of Strict, Warn, Ignore (got ${JSON.stringify(validation)})`);
  }
  if (dryRun !== undefined && dryRun !== 'All') throw errors.badRequest(`dryRun must be "All" (got ${JSON.stringify(dryRun)})`);
  return { strict: validation === 'Strict', dryRun: dryRun === 'All' };
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
  for (const kind of KINDS) mount(router, kind, registry, authorize, bodyLimit);
  mountCommits(router, registry, authorize, bodyLimit);
  mountBinding(router, registry, authorize, bodyLimit);
  mountEviction(router, registry, authorize, bodyLimit);
  mountPodLog(router, registry, authorize);
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
    const ops = parseCommit(await readObject(ctx, bodyLimit * COMMIT_BODY_FACTOR));
    const user = ctx.state.user as User;
    for (const op of ops) await check(ctx, authorize, commitOpAttributes(op));
    const objects = await registry.commit(ops, commitChecks(user, registry));
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
    const body = await readObject(ctx, bodyLimit);
    const binding = parseBinding(body, namespace, name);
    await registry.bind(namespace, name, binding.target, binding.annotations);
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

function mount(router: Router, kind: KindInfo, registry: Registry, authorize: Authorizer, bodyLimit: number): void {
  const prefix = apiPrefix(kind);
  const base = kind.namespaced ? `${prefix}/namespaces/:namespace/${kind.plural}` : `${prefix}/${kind.plural}`;
  const ns = (ctx: Context) => (kind.namespaced ? namespaceParam(ctx) : undefined);
  const r = kind.plural;

  const listOrWatch = async (ctx: Context, namespace: string | undefined) => {
    const selectors = { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') };
    const watch = query(ctx, 'watch');
    if (watch === 'true' || watch === '1') {
      await check(ctx, authorize, { verb: 'watch', resource: r, namespace, fieldSelector: selectors.fieldSelector });
      const rawTimeout = query(ctx, 'timeoutSeconds');
      const timeoutSeconds = rawTimeout === undefined ? 0 : Number(rawTimeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`timeoutSeconds must be a whole number of seconds (got ${JSON.stringify(rawTimeout)})`);
      // Timers overflow past 2^31 ms; a day is longer than any client waits anyway.
      const bookmarks = query(ctx, 'allowWatchBookmarks');
      await streamWatch(ctx, registry, kind, namespace, {
        ...selectors, resourceVersion: query(ctx, 'resourceVersion'), allowWatchBookmarks: bookmarks === 'true' || bookmarks === '1',
        timeoutSeconds: Math.min(timeoutSeconds, 86_400),
      });
      return;
    }
    await check(ctx, authorize, { verb: 'list', resource: r, namespace, fieldSelector: selectors.fieldSelector });
    ctx.type = 'application/json';
    ctx.body = await registry.listJson(kind, namespace, {
      ...selectors, limit: query(ctx, 'limit'), continue: query(ctx, 'continue'),
      resourceVersion: query(ctx, 'resourceVersion'), resourceVersionMatch: query(ctx, 'resourceVersionMatch'),
    });
  };

  router.get(base, (ctx) => listOrWatch(ctx, ns(ctx)));
  if (kind.namespaced) router.get(`${prefix}/${kind.plural}`, (ctx) => listOrWatch(ctx, undefined));

  router.post(base, async (ctx) => {
    const namespace = ns(ctx);
    const options = writeOptions(ctx);
    const body = await readObject(ctx, bodyLimit);
    // Authorized after reading: who may create depends on the name in the body.
    const bodyName = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    await check(ctx, authorize, { verb: 'create', resource: r, namespace, name: typeof bodyName === 'string' ? bodyName : undefined });
    respond(ctx, await registry.create(kind, namespace, body, options), 201);
  });

  for (const sub of kind.hasStatus ? [undefined, 'status'] as const : [undefined]) {
    const path = sub ? `${base}/:name/${sub}` : `${base}/:name`;
    router.get(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'get', resource: r, subresource: sub, namespace, name: ctx.params.name });
      ctx.body = await registry.get(kind, namespace, ctx.params.name);
    });
    router.put(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'update', resource: r, subresource: sub, namespace, name: ctx.params.name });
      const options = { ...writeOptions(ctx), ...writeChecks(ctx.state.user as User, r, ctx.params.name, sub, registry) };
      const body = await readObject(ctx, bodyLimit);
      respond(ctx, await registry.update(kind, namespace, ctx.params.name, body, { ...options, subresource: sub }), 200);
    });
    router.patch(path, async (ctx) => {
      const namespace = ns(ctx);
      await check(ctx, authorize, { verb: 'patch', resource: r, subresource: sub, namespace, name: ctx.params.name });
      const options = { ...writeOptions(ctx), ...writeChecks(ctx.state.user as User, r, ctx.params.name, sub, registry) };
      const { type, patch } = await readPatch(ctx, bodyLimit);
      respond(ctx, await registry.patch(kind, namespace, ctx.params.name, type, patch, { ...options, subresource: sub }), 200);
    });
  }

  router.delete(`${base}/:name`, async (ctx) => {
    const namespace = ns(ctx);
    await check(ctx, authorize, { verb: 'delete', resource: r, namespace, name: ctx.params.name });
    const { dryRun } = writeOptions(ctx);
    // An optional DeleteOptions body, as kubectl sends: its preconditions make the delete conditional.
    const options = ctx.get('content-length') && ctx.get('content-length') !== '0' || ctx.get('transfer-encoding')
      ? (await readObject(ctx, bodyLimit)) as { preconditions?: { resourceVersion?: unknown; uid?: unknown } } | null
      : undefined;
    const pre = options?.preconditions;
    ctx.body = await registry.delete(kind, namespace, ctx.params.name, {
      dryRun,
      resourceVersion: typeof pre?.resourceVersion === 'string' ? pre.resourceVersion : undefined,
      uid: typeof pre?.uid === 'string' ? pre.uid : undefined,
    });
  });
}
