// Unauthenticated health and version endpoints, and the discovery documents
// a Kubernetes client (kubectl) reads before it talks to a resource:
// /api and /apis (the groups), /api/v1 and /apis/{group}/{version} (the
// resources, with their verbs, short names, categories and subresources),
// and the same in one document each for /api and /apis as aggregated
// discovery (apidiscovery.k8s.io/v2 and v2beta1), which kubectl asks for
// first and which saves it a request per group.
//
// What a resource supports is read from the routes actually mounted, so
// discovery cannot claim a verb or subresource the server does not serve:
// GET on a collection is list and watch, DELETE on one deletecollection, and
// so on. The kinds say how a resource is named; a table below says what a
// subresource takes and returns when that is not its parent's kind.
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { KINDS } from '../objects/kinds.ts';
import { KCS_VERSION, KUBE_COMPAT } from '../version.ts';
import { negotiate } from './accept.ts';
import { COMMIT_KIND } from './commit.ts';
import { USAGE_HISTORY_KIND } from './metrics-api.ts';
import { POD_CALLS_KIND } from './pod-calls-api.ts';
import { USAGE_REPORT_KIND } from './usage-report.ts';
import { REVIEW_KIND } from './network-policy-review.ts';

/**
 * Kubernetes' version.Info, every field it requires present: kcs is not
 * stamped at build time, so buildDate, gitCommit and gitTreeState hold what
 * an unstamped Kubernetes build reports; goVersion and compiler name the
 * runtime kcs is built for and runs on. clusterId, kcsVersion and runtime are kcs's.
 */
export function versionInfo(clusterId?: string) {
  return {
    ...(clusterId ? { clusterId } : {}),
    major: KUBE_COMPAT.major,
    minor: KUBE_COMPAT.minor,
    gitVersion: `v${KUBE_COMPAT.major}.${KUBE_COMPAT.minor}.0-kcs.${KCS_VERSION}`,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    kcsVersion: KCS_VERSION,
    platform: `${process.platform}/${process.arch}`,
    runtime: `node ${process.version}`,
  };
}

export function publicRouter(clusterId?: string): Router {
  const router = new Router();
  for (const path of ['/healthz', '/livez', '/readyz']) {
    router.get(path, (ctx) => { ctx.type = 'text/plain'; ctx.body = 'ok'; });
  }
  router.get('/version', (ctx) => { ctx.body = versionInfo(clusterId); });
  return router;
}

// ---- what is served, read from the routes -----------------------------------

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface ServedSubresource {
  name: string;
  /** What it takes and returns (eviction: policy/v1 Eviction; status: the parent's kind). */
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface ServedResource {
  plural: string;
  singular: string;
  namespaced: boolean;
  responseKind: GroupVersionKind;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: ServedSubresource[];
}

export interface ServedGroupVersion {
  group: string;
  version: string;
  resources: ServedResource[];
}

/** Subresources whose body is not the parent's kind, as Kubernetes declares them. */
const SUBRESOURCE_KINDS: Record<string, GroupVersionKind> = {
  binding: { group: '', version: 'v1', kind: 'Binding' },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction' },
  // kcs's own: the token a node's agent uses (shaped as TokenRequest).
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
};

interface Named {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Read from memory, not the store: a list but no watch (metrics.k8s.io). */
  noWatch?: boolean;
}

/** Every resource a route may serve: the kinds, commits and usage reports (only ever created), and the usage read back. */
function namedResources(): Named[] {
  const [group, version] = COMMIT_KIND.apiVersion.split('/') as [string, string];
  return [
    ...KINDS.map((k) => ({ group: k.group, version: k.version, plural: k.plural, singular: k.singular, kind: k.kind, namespaced: k.namespaced, shortNames: k.shortNames, categories: k.categories })),
    { group, version, plural: COMMIT_KIND.plural, singular: 'commit', kind: COMMIT_KIND.kind, namespaced: false, shortNames: [], categories: [] },
    { group, version, plural: USAGE_REPORT_KIND.plural, singular: 'nodeusagereport', kind: USAGE_REPORT_KIND.kind, namespaced: false, shortNames: [], categories: [] },
    { group, version, plural: REVIEW_KIND.plural, singular: 'networkpolicyreview', kind: REVIEW_KIND.kind, namespaced: false, shortNames: [], categories: [] },
    { group, version, plural: USAGE_HISTORY_KIND.plural, singular: 'nodeusagehistory', kind: USAGE_HISTORY_KIND.kind, namespaced: false, shortNames: [], categories: [], noWatch: true },
    { group, version, plural: POD_CALLS_KIND.plural, singular: 'podcalls', kind: POD_CALLS_KIND.kind, namespaced: true, shortNames: [], categories: [], noWatch: true },
    { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes', singular: '', kind: 'NodeMetrics', namespaced: false, shortNames: [], categories: [], noWatch: true },
    { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods', singular: '', kind: 'PodMetrics', namespaced: true, shortNames: [], categories: [], noWatch: true },
  ];
}

/** Verbs in the order Kubernetes lists them (alphabetical). */
function sortedVerbs(verbs: Set<string>): string[] {
  return [...verbs].sort();
}

const COLLECTION_VERBS: Record<string, string[]> = { GET: ['list', 'watch'], POST: ['create'], DELETE: ['deletecollection'] };
const ITEM_VERBS: Record<string, string[]> = { GET: ['get'], PUT: ['update'], PATCH: ['patch'], DELETE: ['delete'] };
const SUBRESOURCE_VERBS: Record<string, string[]> = { GET: ['get'], POST: ['create'], PUT: ['update'], PATCH: ['patch'] };

/**
 * The resources the routers serve, by group and version, each with the verbs
 * its routes answer. A path is /api/v1/... or /apis/{group}/{version}/...,
 * then namespaces/:namespace/ for a namespaced resource, then {plural},
 * /:name, and /{subresource}.
 */
export function servedResources(routers: Router[]): ServedGroupVersion[] {
  const named = namedResources();
  const byKey = new Map(named.map((n) => [`${n.group}/${n.version}/${n.plural}`, n]));
  const found = new Map<string, { named: Named; verbs: Set<string>; subresources: Map<string, Set<string>> }>();
  for (const router of routers) {
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string') continue;
      const m = /^\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))\/(.*)$/.exec(layer.path);
      if (!m) continue;
      const group = m[2] ?? '';
      const version = m[1] ?? m[3]!;
      let segments = m[4]!.split('/');
      const at = (plural: string | undefined) => (plural === undefined ? undefined : byKey.get(`${group}/${version}/${plural}`));
      // namespaces/:namespace/{plural}: a namespaced resource (not the Namespace kind's own /namespaces/:name/status).
      if (segments[0] === 'namespaces' && segments.length >= 3 && segments[1]!.startsWith(':') && at(segments[2])?.namespaced) segments = segments.slice(2);
      const resource = at(segments[0]);
      if (!resource || segments.length > 3 || (segments.length > 1 && !segments[1]!.startsWith(':'))) continue;
      let entry = found.get(`${group}/${version}/${resource.plural}`);
      if (!entry) found.set(`${group}/${version}/${resource.plural}`, (entry = { named: resource, verbs: new Set(), subresources: new Map() }));
      const table = segments.length === 1 ? COLLECTION_VERBS : segments.length === 2 ? ITEM_VERBS : SUBRESOURCE_VERBS;
      const verbs = segments.length === 3 ? (entry.subresources.get(segments[2]!) ?? new Set<string>()) : entry.verbs;
      if (segments.length === 3) entry.subresources.set(segments[2]!, verbs);
      for (const method of layer.methods) for (const verb of table[method] ?? []) if (verb !== 'watch' || !resource.noWatch) verbs.add(verb);
    }
  }
  const groupVersions = new Map<string, ServedGroupVersion>();
  // Groups in the order the kinds are declared; resources by name, as Kubernetes lists them.
  for (const n of named) {
    const key = `${n.group}/${n.version}`;
    if (!groupVersions.has(key) && [...found.values()].some((e) => e.named.group === n.group && e.named.version === n.version)) {
      groupVersions.set(key, { group: n.group, version: n.version, resources: [] });
    }
  }
  for (const { named: n, verbs, subresources } of found.values()) {
    const responseKind = { group: n.group, version: n.version, kind: n.kind };
    groupVersions.get(`${n.group}/${n.version}`)!.resources.push({
      plural: n.plural, singular: n.singular, namespaced: n.namespaced, responseKind,
      verbs: sortedVerbs(verbs), shortNames: n.shortNames, categories: n.categories,
      subresources: [...subresources].sort(([a], [b]) => a.localeCompare(b)).map(([name, v]) => ({
        name, responseKind: SUBRESOURCE_KINDS[name] ?? responseKind, verbs: sortedVerbs(v),
      })),
    });
  }
  for (const gv of groupVersions.values()) gv.resources.sort((a, b) => a.plural.localeCompare(b.plural));
  return [...groupVersions.values()];
}

// ---- the documents ------------------------------------------------------------

function groupVersionOf(gv: { group: string; version: string }): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

/** An APIResourceList (unaggregated discovery): subresources as resources of their own, named parent/sub. */
export function resourceList(gv: ServedGroupVersion) {
  const sameGroupVersion = (k: GroupVersionKind) => k.group === gv.group && k.version === gv.version;
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf(gv),
    resources: gv.resources.flatMap((r) => [
      {
        name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.responseKind.kind, verbs: r.verbs,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...r.subresources.map((s) => ({
        name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced,
        // Set only where they differ from the list's: kubectl drain finds policy/v1 Eviction this way.
        ...(sameGroupVersion(s.responseKind) ? {} : { group: s.responseKind.group, version: s.responseKind.version }),
        kind: s.responseKind.kind, verbs: s.verbs,
      })),
    ]),
  };
}

function groupList(groups: ServedGroupVersion[]) {
  const names = [...new Set(groups.filter((g) => g.group).map((g) => g.group))];
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: names.map((name) => {
      const versions = groups.filter((g) => g.group === name).map((g) => ({ groupVersion: groupVersionOf(g), version: g.version }));
      return { name, versions, preferredVersion: versions[0]! };
    }),
  };
}

export const AGGREGATED_GROUP = 'apidiscovery.k8s.io';
export const AGGREGATED_VERSIONS = ['v2', 'v2beta1'] as const;
type AggregatedVersion = (typeof AGGREGATED_VERSIONS)[number];

/** An APIGroupDiscoveryList (aggregated discovery): every version of every group, resources and subresources in one. */
export function aggregatedList(groups: ServedGroupVersion[], version: AggregatedVersion) {
  const names = [...new Set(groups.map((g) => g.group))];
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: `${AGGREGATED_GROUP}/${version}`, metadata: {},
    items: names.map((name) => ({
      metadata: name ? { name } : {},
      versions: groups.filter((g) => g.group === name).map((g) => ({
        version: g.version,
        resources: g.resources.map((r) => ({
          resource: r.plural, responseKind: r.responseKind, scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular, verbs: r.verbs,
          ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length ? { categories: r.categories } : {}),
          ...(r.subresources.length ? { subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: s.responseKind, verbs: s.verbs })) } : {}),
        })),
        freshness: 'Current',
      })),
    })),
  };
}

/** Which discovery format the Accept header asks for first: aggregated (v2, v2beta1) or the plain documents. */
function aggregatedVersionOf(ctx: Context): AggregatedVersion | undefined {
  return negotiate<AggregatedVersion | undefined>(ctx.get('accept'), undefined, (c) =>
    c.group === AGGREGATED_GROUP && c.kind === 'APIGroupDiscoveryList' && (AGGREGATED_VERSIONS as readonly string[]).includes(c.version) ? c.version as AggregatedVersion : null);
}

/**
 * Sends a discovery document with an ETag: kubectl's HTTP cache revalidates
 * with If-None-Match and is answered 304 while nothing changed. The content
 * type names the aggregated format when it is one, as client-go checks.
 */
function send(ctx: Context, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha256').update(type).update(text).digest('hex').slice(0, 32)}"`;
  ctx.set('Vary', 'Accept');
  ctx.set('ETag', etag);
  // As Kubernetes does, the ETag alone decides (a Cache-Control: no-cache
  // that fetch() adds to a conditional request does not force the body).
  if (ctx.get('if-none-match') === etag) {
    ctx.status = 304;
    return;
  }
  ctx.type = type;
  ctx.body = text;
}

/** The documents that exist only as plain JSON: 406 for an Accept that takes no plain JSON. */
function plainOnly(ctx: Context): void {
  negotiate<undefined>(ctx.get('accept'), undefined, () => null);
}

function aggregatedType(version: AggregatedVersion): string {
  return `application/json;g=${AGGREGATED_GROUP};v=${version};as=APIGroupDiscoveryList`;
}

/** The discovery routes, describing what the given routers serve (read once, at the first request). */
export function discoveryRouter(served: Router[]): Router {
  const router = new Router();
  let cached: ServedGroupVersion[] | undefined;
  const groups = () => (cached ??= servedResources(served));
  const core = () => groups().filter((g) => !g.group);
  const named = () => groups().filter((g) => g.group);

  router.get('/api', (ctx) => {
    const aggregated = aggregatedVersionOf(ctx);
    if (aggregated) return send(ctx, aggregatedList(core(), aggregated), aggregatedType(aggregated));
    send(ctx, { kind: 'APIVersions', versions: core().map((g) => g.version), serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: ctx.host }] });
  });
  router.get('/apis', (ctx) => {
    const aggregated = aggregatedVersionOf(ctx);
    if (aggregated) return send(ctx, aggregatedList(named(), aggregated), aggregatedType(aggregated));
    send(ctx, groupList(named()));
  });
  router.get('/api/:version', (ctx, next) => {
    const gv = core().find((g) => g.version === ctx.params.version);
    if (!gv) return next();
    plainOnly(ctx);
    send(ctx, resourceList(gv));
  });
  router.get('/apis/:group', (ctx, next) => {
    const list = groupList(named()).groups.find((g) => g.name === ctx.params.group);
    if (!list) return next();
    plainOnly(ctx);
    send(ctx, { kind: 'APIGroup', apiVersion: 'v1', ...list });
  });
  router.get('/apis/:group/:version', (ctx, next) => {
    const gv = named().find((g) => g.group === ctx.params.group && g.version === ctx.params.version);
    if (!gv) return next();
    plainOnly(ctx);
    send(ctx, resourceList(gv));
  });
  return router;
}
