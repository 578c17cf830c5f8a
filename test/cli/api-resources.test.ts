// `kcs api-resources` as a real bin/kcs process against a real `kcs up`: it
// reads discovery from the server, as kubectl api-resources does.
import test from 'ava';
import { KINDS } from '../../src/objects/kinds.ts';
import { headersOf, parseTable, sharedServer } from './helpers.ts';

const server = sharedServer(test);

/** Every resource the server should list: the kinds, commits, usage reports and history, pods' calls, and the resource metrics API. */
const expected = [
  ...KINDS.map((k) => ({ name: k.plural, shortNames: k.shortNames.join(','), apiVersion: k.apiVersion, namespaced: String(k.namespaced), kind: k.kind, group: k.group })),
  { name: 'commits', shortNames: '', apiVersion: 'kcs.io/v1', namespaced: 'false', kind: 'Commit', group: 'kcs.io' },
  { name: 'nodeusagereports', shortNames: '', apiVersion: 'kcs.io/v1', namespaced: 'false', kind: 'NodeUsageReport', group: 'kcs.io' },
  { name: 'networkpolicyreviews', shortNames: '', apiVersion: 'kcs.io/v1', namespaced: 'false', kind: 'NetworkPolicyReview', group: 'kcs.io' },
  { name: 'nodeusagehistories', shortNames: '', apiVersion: 'kcs.io/v1', namespaced: 'false', kind: 'NodeUsageHistory', group: 'kcs.io' },
  { name: 'podcalls', shortNames: '', apiVersion: 'kcs.io/v1', namespaced: 'true', kind: 'PodCalls', group: 'kcs.io' },
  { name: 'nodes', shortNames: '', apiVersion: 'metrics.k8s.io/v1beta1', namespaced: 'false', kind: 'NodeMetrics', group: 'metrics.k8s.io' },
  { name: 'pods', shortNames: '', apiVersion: 'metrics.k8s.io/v1beta1', namespaced: 'true', kind: 'PodMetrics', group: 'metrics.k8s.io' },
];
/** A resource is named by its name and API version: nodes are in v1 and in metrics.k8s.io. */
const keyOf = (name: string, apiVersion: string) => `${name} ${apiVersion}`;

test('kcs api-resources lists every resource with its short names, API version, scope and kind, the core group first', async (t) => {
  const r = await server().kcs(['api-resources']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(headersOf(r.stdout), ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
  const rows = parseTable(r.stdout);
  const byName = Object.fromEntries(rows.map((row) => [keyOf(row.NAME!, row.APIVERSION!), row]));
  t.deepEqual(Object.keys(byName).sort(), expected.map((e) => keyOf(e.name, e.apiVersion)).sort(), 'no subresources, nothing missing');
  for (const e of expected) {
    t.deepEqual(byName[keyOf(e.name, e.apiVersion)], { NAME: e.name, SHORTNAMES: e.shortNames, APIVERSION: e.apiVersion, NAMESPACED: e.namespaced, KIND: e.kind }, e.name);
  }
  const groups = rows.map((row) => (row.APIVERSION.includes('/') ? row.APIVERSION.split('/')[0] : ''));
  t.deepEqual(groups, [...groups].sort(), 'sorted by group, the core group first');
});

test('kcs api-resources --namespaced=true|false keeps one scope; -o wide adds verbs and categories; -o name prints resource.group', async (t) => {
  const s = server();
  const names = (text: string) => parseTable(text).map((row) => row.NAME).sort();
  const namespaced = await s.kcs(['api-resources', '--namespaced=true']);
  t.deepEqual(names(namespaced.stdout), expected.filter((e) => e.namespaced === 'true').map((e) => e.name).sort());
  const cluster = await s.kcs(['api-resources', '--namespaced=false']);
  t.deepEqual(names(cluster.stdout), expected.filter((e) => e.namespaced === 'false').map((e) => e.name).sort());
  t.deepEqual(names((await s.kcs(['api-resources', '--no-namespaced'])).stdout), names(cluster.stdout));

  const wide = await s.kcs(['api-resources', '-o', 'wide']);
  t.is(wide.code, 0, wide.stderr);
  t.deepEqual(headersOf(wide.stdout), ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES']);
  const pods = parseTable(wide.stdout).find((row) => row.NAME === 'pods' && row.APIVERSION === 'v1')!;
  t.is(pods.CATEGORIES, 'all');
  t.true(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'].every((v) => pods.VERBS.split(',').includes(v)), pods.VERBS);
  t.is(parseTable(wide.stdout).find((row) => row.NAME === 'commits')!.VERBS, 'create');
  t.is(parseTable(wide.stdout).find((row) => row.NAME === 'nodes' && row.APIVERSION === 'metrics.k8s.io/v1beta1')!.VERBS, 'get,list', 'metrics are read, never watched');

  const name = await s.kcs(['api-resources', '-o', 'name']);
  t.deepEqual(name.stdout.trim().split('\n').sort(), expected.map((e) => (e.group ? `${e.name}.${e.group}` : e.name)).sort());

  const listable = await s.kcs(['api-resources', '--verbs=list,watch', '-o', 'name']);
  t.false(listable.stdout.split('\n').includes('commits.kcs.io'), 'commits cannot be listed');
  const byKind = await s.kcs(['api-resources', '--sort-by=kind', '--no-headers']);
  const kinds = byKind.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/).at(-1)!);
  t.deepEqual(kinds, [...kinds].sort(), '--sort-by=kind');
  const core = await s.kcs(['api-resources', '--api-group=', '--no-headers']);
  t.true(core.stdout.trim().split('\n').every((line) => / v1 /.test(line)), core.stdout);
});
