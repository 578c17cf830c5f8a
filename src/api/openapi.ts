// /openapi/v2 and /openapi/v3: the API's schema as Kubernetes publishes it,
// for kubectl explain, kubectl apply (its field-validation check and the
// patch keys of its strategic merge) and typed clients. Definitions come
// from openapi-definitions.ts; this file lays them out as documents:
//
//   /openapi/v2                      swagger 2.0, every definition, JSON only
//   /openapi/v3                      { paths: { "api/v1": { serverRelativeURL }, ... } }
//   /openapi/v3/api/v1               OpenAPI 3.0 for one group-version: its
//   /openapi/v3/apis/{group}/{ver}   kinds' paths and the schemas they reach
//
// Documents are built on first request and kept: they change only with the
// code. Each carries an ETag (its hash), and the v3 index names each
// document by that hash, as Kubernetes does, so clients cache them.
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { KINDS, apiPrefix, type KindInfo } from '../objects/kinds.ts';
import { KCS_VERSION, KUBE_COMPAT } from '../version.ts';
import { acceptsJson, parseAccept } from './accept.ts';
import { COMMIT_KIND } from './commit.ts';
import { errors } from './errors.ts';
import { closure, definitionName, definitions, kindDefinition, type Schema } from './openapi-definitions.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;
/** What every group-version's operations answer or take beside their kinds. */
const SHARED = [STATUS, `${META}.DeleteOptions`, `${META}.WatchEvent`, `${META}.APIResourceList`, `${META}.Patch`];

interface Document { text: string; etag: string; hash: string }

function document(body: unknown): Document {
  const text = JSON.stringify(body);
  const hash = createHash('sha512').update(text).digest('hex').toUpperCase();
  return { text, hash, etag: `"${hash}"` };
}

const info = () => ({ title: 'Kubernetes', version: `v${KUBE_COMPAT.major}.${KUBE_COMPAT.minor}.0-kcs.${KCS_VERSION}` });

/** A group-version's key in the v3 index and its URL: api/v1, apis/kcs.io/v1. */
function groupVersionPath(kind: { group: string; version: string }): string {
  return kind.group ? `apis/${kind.group}/${kind.version}` : `api/${kind.version}`;
}

// ---- paths: what kubectl reads from them is each operation's kind
// (x-kubernetes-group-version-kind) and its query parameters. A PATCH that
// takes fieldValidation tells kubectl the server validates fields itself;
// without it kubectl validates on the client with the v2 document, which it
// reads only as protobuf, and so fails every apply.

type Ref = (name: string) => Schema;

function param(name: string, where: 'query' | 'path', description: string, v3: boolean): Schema {
  const schema = { type: 'string', ...(where === 'path' ? { uniqueItems: true } : {}) };
  return v3
    ? { name, in: where, description, ...(where === 'path' ? { required: true } : {}), schema }
    : { name, in: where, description, ...(where === 'path' ? { required: true } : {}), type: 'string', uniqueItems: true };
}

function operation(kind: { group: string; version: string; kind: string }, action: string, id: string, params: string[], body: string | undefined, response: string, v3: boolean, ref: Ref): Schema {
  const query = (name: string) => param(name, 'query', QUERY_PARAMS[name]!, v3);
  const content = (name: string) => ({ 'application/json': { schema: ref(name) }, 'application/yaml': { schema: ref(name) } });
  const op: Schema = {
    operationId: id,
    parameters: params.map(query),
    responses: v3 ? { 200: { description: 'OK', content: content(response) } } : { 200: { description: 'OK', schema: ref(response) } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: kind.group, kind: kind.kind, version: kind.version },
  };
  if (body) {
    if (v3) op.requestBody = { required: true, content: action === 'patch' ? PATCH_TYPES(ref) : content(body) };
    else (op.parameters as Schema[]).unshift({ name: 'body', in: 'body', required: true, schema: ref(body) });
  }
  return op;
}

const PATCH_TYPES = (ref: Ref) => Object.fromEntries(
  ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']
    .map((type) => [type, { schema: ref(`${META}.Patch`) }]),
);

const QUERY_PARAMS: Record<string, string> = {
  dryRun: 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed',
  fieldManager: 'fieldManager is a name associated with the actor or entity that is making these changes.',
  fieldValidation: 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict.',
  force: 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.',
  labelSelector: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  fieldSelector: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  limit: 'limit is a maximum number of responses to return for a list call.',
  continue: 'The continue option should be set when retrieving more results from the server.',
  resourceVersion: 'resourceVersion sets a constraint on what resource versions a request may be served from.',
  watch: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  gracePeriodSeconds: 'The duration in seconds before the object should be deleted.',
  propagationPolicy: 'Whether and how garbage collection will be performed.',
};

const WRITE = ['dryRun', 'fieldManager', 'fieldValidation'];
const LIST = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch'];

function kindPaths(kind: KindInfo, v3: boolean, ref: Ref): Record<string, Schema> {
  const object = kindDefinition(kind);
  const list = kindDefinition(kind, true);
  const gvk = { group: kind.group, version: kind.version, kind: kind.kind };
  const scope = kind.namespaced ? `${apiPrefix(kind)}/namespaces/{namespace}/${kind.plural}` : `${apiPrefix(kind)}/${kind.plural}`;
  const name = `${kind.kind}${kind.namespaced ? 'Namespaced' : ''}`;
  const pathParams = (withName: boolean) => [
    ...(withName ? [param('name', 'path', `name of the ${kind.kind}`, v3)] : []),
    ...(kind.namespaced ? [param('namespace', 'path', 'object name and auth scope, such as for teams and projects', v3)] : []),
  ];
  const paths: Record<string, Schema> = {
    [scope]: {
      parameters: pathParams(false),
      get: operation(gvk, 'list', `list${name}`, LIST, undefined, list, v3, ref),
      post: operation(gvk, 'post', `create${name}`, WRITE, object, object, v3, ref),
      delete: operation(gvk, 'deletecollection', `deleteCollection${name}`, [...LIST, 'dryRun'], undefined, STATUS, v3, ref),
    },
    [`${scope}/{name}`]: {
      parameters: pathParams(true),
      get: operation(gvk, 'get', `read${name}`, [], undefined, object, v3, ref),
      put: operation(gvk, 'put', `replace${name}`, WRITE, object, object, v3, ref),
      patch: operation(gvk, 'patch', `patch${name}`, [...WRITE, 'force'], `${META}.Patch`, object, v3, ref),
      delete: operation(gvk, 'delete', `delete${name}`, ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'], undefined, STATUS, v3, ref),
    },
  };
  if (kind.hasStatus) {
    paths[`${scope}/{name}/status`] = {
      parameters: pathParams(true),
      get: operation(gvk, 'get', `read${name}Status`, [], undefined, object, v3, ref),
      put: operation(gvk, 'put', `replace${name}Status`, WRITE, object, object, v3, ref),
      patch: operation(gvk, 'patch', `patch${name}Status`, [...WRITE, 'force'], `${META}.Patch`, object, v3, ref),
    };
  }
  return paths;
}

function commitPaths(v3: boolean, ref: Ref): Record<string, Schema> {
  const [group, version] = COMMIT_KIND.apiVersion.split('/') as [string, string];
  const name = definitionName(group, version, COMMIT_KIND.kind);
  return { [COMMIT_KIND.path]: { post: operation({ group, version, kind: COMMIT_KIND.kind }, 'post', 'createCommit', [], name, name, v3, ref) } };
}

/** The kinds served, with a definition (a kind without one is left out rather than described wrongly). */
function servedKinds(): KindInfo[] {
  const defs = definitions();
  return KINDS.filter((k) => defs[kindDefinition(k)] && defs[kindDefinition(k, true)]);
}

function rootsOf(kinds: KindInfo[], group: string, version: string): string[] {
  return [
    ...kinds.flatMap((k) => [kindDefinition(k), kindDefinition(k, true)]),
    ...SHARED,
    ...(group === '' ? ['io.k8s.api.core.v1.Binding', 'io.k8s.api.policy.v1.Eviction'] : []),
    ...(`${group}/${version}` === COMMIT_KIND.apiVersion ? [definitionName(group, version, COMMIT_KIND.kind)] : []),
  ];
}

// ---- v2

const v2Ref: Ref = (name) => ({ $ref: `#/definitions/${name}` });

function buildV2(): Document {
  const paths: Record<string, Schema> = {};
  for (const kind of servedKinds()) Object.assign(paths, kindPaths(kind, false, v2Ref));
  Object.assign(paths, commitPaths(false, v2Ref));
  return document({ swagger: '2.0', info: info(), paths, definitions: definitions() });
}

// ---- v3

const v3Ref: Ref = (name) => ({ $ref: `#/components/schemas/${name}` });

/**
 * A definition in OpenAPI 3 form: references point into components, and a
 * reference with a description beside it (which 3.0 would ignore) is wrapped
 * in allOf, as Kubernetes' v3 documents do.
 */
function toV3(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toV3);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) out[key] = key === '$ref' ? `#/components/schemas/${(value as string).slice('#/definitions/'.length)}` : toV3(value);
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    const { $ref, ...rest } = out;
    return { ...rest, allOf: [{ $ref }] };
  }
  return out;
}

function buildV3(group: string, version: string): Document {
  const kinds = servedKinds().filter((k) => k.group === group && k.version === version);
  const paths: Record<string, Schema> = {};
  for (const kind of kinds) Object.assign(paths, kindPaths(kind, true, v3Ref));
  if (`${group}/${version}` === COMMIT_KIND.apiVersion) Object.assign(paths, commitPaths(true, v3Ref));
  const defs = definitions();
  const schemas = Object.fromEntries([...closure(rootsOf(kinds, group, version))].sort().map((name) => [name, toV3(defs[name])]));
  return document({ openapi: '3.0.0', info: info(), paths, components: { schemas } });
}

// ---- serving

/** JSON is what kcs serves; a client that accepts only protobuf gets 406, as a Kubernetes server refuses any type it cannot serve. */
function takesJson(accept: string): boolean {
  return !accept.trim() || parseAccept(accept).some(acceptsJson);
}

function serve(ctx: Context, doc: Document): void {
  if (!takesJson(ctx.get('accept'))) throw errors.notAcceptable(['application/json']);
  ctx.set('ETag', doc.etag);
  ctx.set('Vary', 'Accept');
  // A URL that names the document's hash never changes meaning (the v3 index hands these out).
  ctx.set('Cache-Control', ctx.query.hash === doc.hash ? 'public, immutable' : 'no-cache, private');
  if (ctx.get('if-none-match') === doc.etag) { ctx.status = 304; return; }
  ctx.type = 'application/json';
  ctx.body = doc.text;
}

export function openapiRouter(): Router {
  const router = new Router();
  let v2: Document | undefined;
  const v3 = new Map<string, Document>();
  const v3Doc = (group: string, version: string) => {
    const key = `${group}/${version}`;
    let doc = v3.get(key);
    if (!doc) v3.set(key, (doc = buildV3(group, version)));
    return doc;
  };
  const groupVersions = () => [...new Map(servedKinds().map((k) => [groupVersionPath(k), k])).values()];

  router.get('/openapi/v2', (ctx) => serve(ctx, (v2 ??= buildV2())));
  let index: Document | undefined;
  router.get('/openapi/v3', (ctx) => {
    index ??= document({
      paths: Object.fromEntries(groupVersions().map((k) => {
        const path = groupVersionPath(k);
        return [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${v3Doc(k.group, k.version).hash}` }];
      })),
    });
    serve(ctx, index);
  });
  router.get('/openapi/v3/api/:version', (ctx) => {
    if (!groupVersions().some((k) => k.group === '' && k.version === ctx.params.version)) throw errors.pathNotFound(ctx.path);
    serve(ctx, v3Doc('', ctx.params.version!));
  });
  router.get('/openapi/v3/apis/:group/:version', (ctx) => {
    const { group, version } = ctx.params as { group: string; version: string };
    if (!groupVersions().some((k) => k.group === group && k.version === version)) throw errors.pathNotFound(ctx.path);
    serve(ctx, v3Doc(group, version));
  });
  return router;
}
