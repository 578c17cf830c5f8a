// Unauthenticated health and version endpoints, and the discovery documents
// a Kubernetes client (kubectl) reads before it talks to a resource.
import Router from '@koa/router';
import { KINDS } from '../objects/kinds.ts';
import { COMMIT_KIND } from './commit.ts';
import { KCS_VERSION, KUBE_COMPAT } from '../version.ts';


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

export function discoveryRouter(): Router {
  const router = new Router();
  router.get('/api', (ctx) => {
    ctx.body = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: ctx.host }] };
  });
  const groups = [...new Set(KINDS.filter((k) => k.group).map((k) => k.group))];
  router.get('/apis', (ctx) => {
    ctx.body = {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: groups.map((name) => {
        const version = { groupVersion: `${name}/v1`, version: 'v1' };
        return { name, versions: [version], preferredVersion: version };
      }),
    };
  });
  const resourceList = (groupVersion: string, kinds: typeof KINDS) => ({
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion,
    resources: kinds.flatMap((k) => [
      {
        name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, shortNames: k.shortNames,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      ...(k.hasStatus ? [{ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ...(k.kind === 'Pod' ? [{ name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] }] : []),
    ]),
  });
  // Batches of writes (commit.ts): a resource that is only ever created.
  const commits = { name: COMMIT_KIND.plural, singularName: 'commit', namespaced: false, kind: COMMIT_KIND.kind, verbs: ['create'] };
  router.get('/api/v1', (ctx) => { ctx.body = resourceList('v1', KINDS.filter((k) => !k.group)); });
  for (const group of groups) {
    router.get(`/apis/${group}/v1`, (ctx) => {
      const list = resourceList(`${group}/v1`, KINDS.filter((k) => k.group === group));
      if (`${group}/v1` === COMMIT_KIND.apiVersion) list.resources.push(commits as (typeof list.resources)[number]);
      ctx.body = list;
    });
  }
  return router;
}
