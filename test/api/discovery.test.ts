// The discovery documents kubectl reads before anything else, over a real
// HTTP server: the plain ones (/api, /apis, resource lists), the aggregated
// ones it asks for first, and that what they list is what the server serves.
import Router from '@koa/router';
import test from 'ava';
import { aggregatedList, resourceList, servedResources } from '../../src/api/discovery.ts';
import { KINDS } from '../../src/objects/kinds.ts';
import { withApp, type TestApi } from './helpers.ts';

/** What kubectl 1.32 (client-go's discovery client) sends to /api and /apis. */
const KUBECTL_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const accept = (value: string) => ({ headers: { accept: value } });

const byName = (list: any) => Object.fromEntries(list.resources.map((r: any) => [r.name, r]));

test('/api names the core version; /apis the groups, each with its preferred version', withApp, async (t, api) => {
  const core = await api.get('/api');
  t.is(core.status, 200);
  t.like(core.body, { kind: 'APIVersions', versions: ['v1'] });
  t.is(core.body.serverAddressByClientCIDRs[0].clientCIDR, '0.0.0.0/0');

  const groups = await api.get('/apis');
  t.is(groups.body.kind, 'APIGroupList');
  // The kinds' groups, and the resource metrics API (metrics.k8s.io/v1beta1, served from the agents' usage reports).
  const expected = [...new Set(KINDS.filter((k) => k.group).map((k) => k.group)), 'metrics.k8s.io'];
  t.deepEqual(groups.body.groups.map((g: any) => g.name).sort(), expected.sort());
  for (const g of groups.body.groups) {
    const version = g.name === 'metrics.k8s.io' ? 'v1beta1' : 'v1';
    t.deepEqual(g.preferredVersion, { groupVersion: `${g.name}/${version}`, version });
    t.deepEqual(g.versions, [g.preferredVersion]);
    const one = await api.get(`/apis/${g.name}`);
    t.like(one.body, { kind: 'APIGroup', name: g.name, preferredVersion: g.preferredVersion });
  }
  t.is((await api.get('/apis/example.com')).status, 404);
  t.is((await api.get('/apis/kcs.io/v9')).status, 404);
  t.is((await api.get('/api/v9')).status, 404);
});

test('/api/v1 lists each kind with its verbs, names, scope and categories, and its subresources', withApp, async (t, api) => {
  const r = await api.get('/api/v1');
  t.like(r.body, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1' });
  const resources = byName(r.body);
  for (const kind of KINDS.filter((k) => !k.group)) {
    const entry = resources[kind.plural];
    t.truthy(entry, kind.plural);
    t.like(entry, { singularName: kind.singular, namespaced: kind.namespaced, kind: kind.kind });
    t.deepEqual(entry.shortNames ?? [], kind.shortNames);
    t.deepEqual(entry.categories ?? [], kind.categories);
    t.true(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'].every((v) => entry.verbs.includes(v)), `${kind.plural}: ${entry.verbs}`);
    t.deepEqual(entry.verbs, [...entry.verbs].sort(), 'verbs in order');
  }
  t.like(resources.pods, { shortNames: ['po'], categories: ['all'], namespaced: true });
  t.like(resources.nodes, { shortNames: ['no'], namespaced: false });
  t.deepEqual(resources['pods/status'], { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  t.deepEqual(resources['nodes/status'], { name: 'nodes/status', singularName: '', namespaced: false, kind: 'Node', verbs: ['get', 'patch', 'update'] });
  t.deepEqual(resources['pods/binding'], { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
  t.deepEqual(r.body.resources.map((x: any) => x.name), r.body.resources.map((x: any) => x.name).sort(), 'resources by name, each subresource after its parent');

  const leases = byName((await api.get('/apis/coordination.k8s.io/v1')).body);
  t.like(leases.leases, { namespaced: true, kind: 'Lease', singularName: 'lease' });
  const kcs = byName((await api.get('/apis/kcs.io/v1')).body);
  t.deepEqual(kcs.commits, { name: 'commits', singularName: 'commit', namespaced: false, kind: 'Commit', verbs: ['create'] });
  t.like(kcs.schedulerconfigurations, { shortNames: ['schedconf'], namespaced: false });
  t.like(kcs.workflows, { shortNames: ['wf'], namespaced: true, kind: 'Workflow' });
  t.like(kcs['workflows/status'], { kind: 'Workflow', verbs: ['get', 'patch', 'update'] });

  // Batch work in Kubernetes' own groups: jobs in kubectl's category all, priority classes as pc.
  const batch = byName((await api.get('/apis/batch/v1')).body);
  t.like(batch.jobs, { singularName: 'job', namespaced: true, kind: 'Job', categories: ['all'] });
  t.false('shortNames' in batch.jobs && batch.jobs.shortNames.length > 0, 'kubectl knows no short name for jobs');
  t.like(batch['jobs/status'], { kind: 'Job', verbs: ['get', 'patch', 'update'] });
  const scheduling = byName((await api.get('/apis/scheduling.k8s.io/v1')).body);
  t.like(scheduling.priorityclasses, { singularName: 'priorityclass', namespaced: false, kind: 'PriorityClass', shortNames: ['pc'] });
  t.false('priorityclasses/status' in scheduling, 'a PriorityClass has no status');
});

/** A request that exercises one verb of a resource; the body is not meant to succeed, only to be routed. */
function requestFor(verb: string, collection: string, item: string): [string, string, unknown?] {
  switch (verb) {
    case 'get': return ['GET', item];
    case 'list': return ['GET', collection];
    case 'watch': return ['GET', `${collection}?watch=1`];
    case 'create': return ['POST', collection, {}];
    case 'update': return ['PUT', item, {}];
    case 'patch': return ['PATCH', item, {}];
    case 'delete': return ['DELETE', item];
    case 'deletecollection': return ['DELETE', `${collection}?labelSelector=none-such`];
    default: throw new Error(`no request for verb ${verb}`);
  }
}

/** Routed: anything but "no such path" (404 without a name) or "not that method" (405). */
function routed(status: number, body: any): boolean {
  if (status === 405) return false;
  return !(status === 404 && body?.details?.name === undefined);
}

/** A watch's status, without waiting for the stream to end: 200 once the headers arrive, else the Status. */
async function watchStatus(api: TestApi, path: string): Promise<{ status: number; body: any; text: string }> {
  const controller = new AbortController();
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${api.token}` }, signal: controller.signal });
  if (res.status === 200) {
    controller.abort();
    return { status: 200, body: undefined, text: '' };
  }
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

async function everyResource(api: TestApi): Promise<Array<{ prefix: string; resource: any }>> {
  const lists = [await api.get('/api/v1')];
  for (const g of (await api.get('/apis')).body.groups) lists.push(await api.get(`/apis/${g.preferredVersion.groupVersion}`));
  return lists.flatMap((l) => l.body.resources.map((resource: any) => ({ prefix: l.body.groupVersion === 'v1' ? '/api/v1' : `/apis/${l.body.groupVersion}`, resource })));
}

test('every verb discovery lists is served, and the main verbs it does not list are not', withApp, async (t, api) => {
  const all = await everyResource(api);
  const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  for (const { prefix, resource } of all) {
    const [plural, sub] = resource.name.split('/');
    const base = resource.namespaced ? `${prefix}/namespaces/default/${plural}` : `${prefix}/${plural}`;
    for (const verb of sub ? resource.verbs : VERBS) {
      const listed = resource.verbs.includes(verb);
      // list and watch share a route, as do a subresource's verbs and its path.
      if (!listed && ((verb === 'list' && resource.verbs.includes('watch')) || (verb === 'watch' && resource.verbs.includes('list')))) continue;
      const [method, path, body] = sub ? (() => {
        const r = requestFor(verb, `${base}/x/${sub}`, `${base}/x/${sub}`);
        return [r[0], r[1].split('?')[0]!, r[2]] as const;
      })() : requestFor(verb, base, `${base}/x`);
      const r = verb === 'watch' ? await watchStatus(api, path) : await api.request(method, path, body === undefined ? {} : { body });
      t.is(routed(r.status, r.body), listed, `${resource.name} ${verb} (${method} ${path}) is ${listed ? '' : 'not '}served: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
});

/** What client-go makes of an aggregated document: the plain resource lists, by group version. */
function splitAggregated(doc: any): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const group of doc.items) {
    for (const v of group.versions) {
      t_assert(v.freshness === 'Current', 'every version is current');
      const gv = group.metadata.name ? `${group.metadata.name}/${v.version}` : v.version;
      out[gv] = v.resources.flatMap((r: any) => {
        const parent = { name: r.resource, singularName: r.singularResource, namespaced: r.scope === 'Namespaced', kind: r.responseKind.kind, verbs: r.verbs, shortNames: r.shortNames, categories: r.categories };
        return [parent, ...(r.subresources ?? []).map((s: any) => ({ name: `${r.resource}/${s.subresource}`, namespaced: parent.namespaced, kind: s.responseKind.kind, group: s.responseKind.group, version: s.responseKind.version, verbs: s.verbs }))];
      });
    }
  }
  return out;
}

function t_assert(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** A plain resource list reduced to what the aggregated form also carries. */
function comparable(resources: any[], groupVersion: string): any[] {
  const [group, version] = groupVersion.includes('/') ? groupVersion.split('/') : ['', groupVersion];
  return resources.map((r) => {
    const sub = r.name.includes('/');
    return sub
      ? { name: r.name, namespaced: r.namespaced, kind: r.kind, group: r.group ?? group, version: r.version ?? version, verbs: r.verbs }
      : { name: r.name, singularName: r.singularName, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, shortNames: r.shortNames, categories: r.categories };
  });
}

test('kubectl\'s discovery Accept gets the aggregated documents, which say what the plain ones say', withApp, async (t, api) => {
  const core = await api.get('/api', accept(KUBECTL_DISCOVERY));
  const groups = await api.get('/apis', accept(KUBECTL_DISCOVERY));
  for (const r of [core, groups]) {
    t.is(r.status, 200);
    // client-go decides the format by these parameters of the content type.
    t.regex(r.headers.get('content-type')!, /^application\/json;g=apidiscovery\.k8s\.io;v=v2;as=APIGroupDiscoveryList/);
    t.like(r.body, { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
    t.is(r.headers.get('vary'), 'Accept');
  }
  t.deepEqual(core.body.items.map((g: any) => g.metadata.name ?? ''), ['']);
  t.deepEqual(groups.body.items.map((g: any) => g.metadata.name).sort(), [...new Set(KINDS.filter((k) => k.group).map((k) => k.group)), 'metrics.k8s.io'].sort());

  const aggregated = { ...splitAggregated(core.body), ...splitAggregated(groups.body) };
  const plainGroups = (await api.get('/apis')).body.groups.map((g: any) => g.preferredVersion.groupVersion);
  t.deepEqual(Object.keys(aggregated).sort(), ['v1', ...plainGroups].sort());
  for (const gv of Object.keys(aggregated)) {
    const plain = (await api.get(gv === 'v1' ? '/api/v1' : `/apis/${gv}`)).body;
    t.deepEqual(comparable(aggregated[gv]!, gv), comparable(plain.resources, gv), gv);
  }
  const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
  t.like(pods, { responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'], categories: ['all'] });
});

test('aggregated discovery v2beta1 when only that is asked for; the plain documents when none is', withApp, async (t, api) => {
  const beta = await api.get('/apis', accept('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'));
  t.regex(beta.headers.get('content-type')!, /v=v2beta1;as=APIGroupDiscoveryList/);
  t.is(beta.body.apiVersion, 'apidiscovery.k8s.io/v2beta1');
  const nopeer = await api.get('/api', accept('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,application/json'));
  t.is(nopeer.body.kind, 'APIGroupDiscoveryList');
  for (const value of ['application/json', '*/*', 'application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json']) {
    const plain = await api.get('/api', accept(value));
    t.is(plain.body.kind, 'APIVersions', value);
    t.regex(plain.headers.get('content-type')!, /^application\/json(;|$)/);
    t.notRegex(plain.headers.get('content-type')!, /as=/);
  }
  const table = await api.get('/api', accept('application/json;as=Table;v=v1;g=meta.k8s.io'));
  t.is(table.status, 406, 'discovery is not served as a Table');
  t.is(table.body.reason, 'NotAcceptable');
});

test('a discovery document unchanged since the client\'s copy is 304 Not Modified', withApp, async (t, api) => {
  for (const [path, value] of [['/api', KUBECTL_DISCOVERY], ['/apis', KUBECTL_DISCOVERY], ['/api/v1', 'application/json'], ['/apis', 'application/json']] as const) {
    const first = await api.get(path, accept(value));
    const etag = first.headers.get('etag');
    t.truthy(etag, path);
    const again = await api.get(path, { headers: { accept: value, 'if-none-match': etag! } });
    t.is(again.status, 304, `${path} ${value}`);
    t.is(again.text, '');
  }
  const plain = (await api.get('/apis')).headers.get('etag');
  const aggregated = (await api.get('/apis', accept(KUBECTL_DISCOVERY))).headers.get('etag');
  t.not(plain, aggregated, 'the two formats of one path are different documents');
});

test('routes added for pods/eviction, pods/log and a collection delete appear in discovery as Kubernetes declares them', (t) => {
  const router = new Router();
  const handler = () => undefined;
  router.get('/api/v1/namespaces/:namespace/pods', handler);
  router.delete('/api/v1/namespaces/:namespace/pods', handler);
  router.get('/api/v1/namespaces/:namespace/pods/:name', handler);
  router.post('/api/v1/namespaces/:namespace/pods/:name/eviction', handler);
  router.get('/api/v1/namespaces/:namespace/pods/:name/log', handler);
  router.get('/api/v1/pods', handler);
  router.get('/healthz', handler);
  const served = servedResources([router]);
  t.deepEqual(served.map((g) => `${g.group}/${g.version}`), ['/v1']);
  const list = resourceList(served[0]!);
  // kubectl drain looks for exactly this to know it may evict (policy/v1).
  t.deepEqual(byName(list)['pods/eviction'], { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
  t.deepEqual(byName(list)['pods/log'], { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  t.deepEqual(byName(list).pods.verbs, ['deletecollection', 'get', 'list', 'watch']);
  const aggregated = aggregatedList(served, 'v2');
  const pods = aggregated.items[0]!.versions[0]!.resources[0]!;
  t.deepEqual(pods.subresources, [
    { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
    { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
  ]);
});
