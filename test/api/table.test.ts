// Table responses (kubectl's server-side printing) and the Accept header
// negotiation that chooses them, over a real HTTP server.
import test, { type ExecutionContext } from 'ava';
import { columnsFor } from '../../src/objects/columns.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { createAll, node, nodePath, NODES, pod, podPath, PODS, watch, withApp, withAppOptions, type TestApi } from './helpers.ts';

/** What kubectl get sends. */
const KUBECTL_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const TABLE_V1BETA1 = 'application/json;as=Table;v=v1beta1;g=meta.k8s.io';
const accept = (value: string) => ({ headers: { accept: value } });

async function withPods(t: ExecutionContext, api: TestApi) {
  await createAll(t, api, [
    [NODES, node('n1', { metadata: { labels: { zone: 'a' } } })],
    [PODS, pod('web', { metadata: { labels: { app: 'web' } } })],
    [PODS, pod('db')],
  ]);
}

test('a list asked for as a Table has kcs get\'s columns, the -o wide ones at priority 1, and a row per object', withApp, async (t, api) => {
  await withPods(t, api);
  const r = await api.get(PODS, accept(KUBECTL_ACCEPT));
  t.is(r.status, 200, r.text);
  t.is(r.body.kind, 'Table');
  t.is(r.body.apiVersion, 'meta.k8s.io/v1');
  const wide = columnsFor('Pod', { wide: true, allNamespaces: false });
  const normal = columnsFor('Pod', { wide: false, allNamespaces: false });
  t.deepEqual(r.body.columnDefinitions.map((c: any) => c.name.toUpperCase()), wide.map((c) => c.header), 'kubectl upper-cases the names into kcs get\'s headers');
  t.deepEqual(r.body.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name.toUpperCase()), normal.map((c) => c.header));
  t.like(r.body.columnDefinitions[0], { name: 'Name', type: 'string', format: 'name', priority: 0 });
  for (const c of r.body.columnDefinitions) {
    t.is(typeof c.description, 'string');
    t.is(c.type, 'string');
  }
  const list = await api.get(PODS);
  t.is(r.body.metadata.resourceVersion, list.body.metadata.resourceVersion);
  t.deepEqual(r.body.rows.map((row: any) => row.cells[0]), ['db', 'web']);
  const web = list.body.items.find((p: any) => p.metadata.name === 'web');
  const row = r.body.rows[1];
  t.is(row.cells.length, wide.length);
  t.is(row.cells[wide.findIndex((c) => c.header === 'STATUS')], 'Pending');
  t.is(row.cells[wide.findIndex((c) => c.header === 'CPU')], '100m');
  t.is(row.cells[wide.findIndex((c) => c.header === 'UID')], web.metadata.uid);
  t.deepEqual(row.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: web.metadata }, 'includeObject defaults to Metadata');
});

const tableClock = new FakeClock('2026-01-01T00:00:00Z');

test('ages in a Table count from the API\'s clock', withAppOptions({ clock: tableClock }), async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')]]);
  const ageOf = async () => {
    const r = await api.get(nodePath('n1'), accept(KUBECTL_ACCEPT));
    return r.body.rows[0].cells[r.body.columnDefinitions.findIndex((c: any) => c.name === 'Age')];
  };
  t.is(await ageOf(), '0s');
  tableClock.advance(5 * 60_000);
  t.is(await ageOf(), '5m');
});

test('includeObject=None, Metadata and Object shape each row\'s object on get, list and watch', withApp, async (t, api) => {
  await withPods(t, api);
  const full = (await api.get(podPath('web'))).body;
  const expected: Record<string, unknown> = {
    None: undefined,
    Metadata: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata },
    Object: full,
  };
  for (const include of ['None', 'Metadata', 'Object']) {
    const got = await api.get(`${podPath('web')}?includeObject=${include}`, accept(KUBECTL_ACCEPT));
    t.is(got.body.rows.length, 1);
    t.deepEqual(got.body.rows[0].object, expected[include], `get, ${include}`);
    t.false(include === 'None' && 'object' in got.body.rows[0], 'None leaves the object out');

    const listed = await api.get(`${PODS}?includeObject=${include}&fieldSelector=metadata.name=web`, accept(KUBECTL_ACCEPT));
    t.deepEqual(listed.body.rows[0].object, expected[include], `list, ${include}`);

    const w = watch(t, api, `${PODS}?watch=1&includeObject=${include}&fieldSelector=metadata.name=web`, { accept: KUBECTL_ACCEPT });
    const [added] = await w.waitFor(1);
    t.is(added!.type, 'ADDED');
    t.is(added!.object.kind, 'Table');
    t.deepEqual(added!.object.rows[0].object, expected[include], `watch, ${include}`);
    w.close();
  }
});

test('a watch asked for as Tables sends a one-row Table per event, the column definitions only in the first', withApp, async (t, api) => {
  await withPods(t, api);
  const w = watch(t, api, `${PODS}?watch=1`, { accept: KUBECTL_ACCEPT });
  const initial = await w.waitFor(2);
  t.deepEqual(initial.map((e) => e.type), ['ADDED', 'ADDED']);
  t.is(initial[0]!.object.columnDefinitions.length, columnsFor('Pod', { wide: true, allNamespaces: false }).length);
  t.false('columnDefinitions' in initial[1]!.object, 'later events leave the columns out, as Kubernetes does');

  await createAll(t, api, [[PODS, pod('cache')]]);
  t.is((await api.patch(podPath('cache'), { metadata: { labels: { tier: 'x' } } })).status, 200);
  t.is((await api.delete(podPath('cache'))).status, 200);
  const live = (await w.waitFor(5)).slice(2);
  t.deepEqual(live.map((e) => `${e.type} ${e.object.rows[0].cells[0]}`), ['ADDED cache', 'MODIFIED cache', 'DELETED cache']);
  for (const e of live) {
    t.is(e.object.kind, 'Table');
    t.is(e.object.rows.length, 1);
    t.is(e.object.metadata.resourceVersion, e.object.rows[0].object.metadata.resourceVersion, 'the Table is at its object\'s revision');
  }
  t.deepEqual(live[1]!.object.rows[0].object.metadata.labels, { tier: 'x' });
});

test('a plain watch and list are not Tables', withApp, async (t, api) => {
  await withPods(t, api);
  const list = await api.get(PODS, accept('application/json'));
  t.is(list.body.kind, 'PodList');
  const w = watch(t, api, `${PODS}?watch=1`);
  const [e] = await w.waitFor(1);
  t.is(e!.object.kind, 'Pod');
});

test('the Accept clauses are tried in the client\'s order: the first one served wins', withApp, async (t, api) => {
  await withPods(t, api);
  const kinds = async (value: string) => {
    const r = await api.get(PODS, accept(value));
    t.is(r.status, 200, `${value}: ${r.text}`);
    return `${r.body.apiVersion} ${r.body.kind}`;
  };
  t.is(await kinds(KUBECTL_ACCEPT), 'meta.k8s.io/v1 Table');
  t.is(await kinds(`application/json,${KUBECTL_ACCEPT}`), 'v1 PodList', 'plain JSON listed first wins');
  t.is(await kinds(`application/json;as=Table;v=v2;g=meta.k8s.io,${TABLE_V1BETA1},application/json`), 'meta.k8s.io/v1beta1 Table', 'a version that does not exist is skipped');
  t.is(await kinds('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json'), 'v1 PodList', 'protobuf is not served: the JSON clause after it is');
  t.is(await kinds(`application/json;q=0.5,${TABLE_V1BETA1}`), 'meta.k8s.io/v1beta1 Table', 'a lower q comes later whatever its place');
  t.is(await kinds('*/*'), 'v1 PodList');
  t.is(await kinds('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'), 'meta.k8s.io/v1 PartialObjectMetadataList');

  const beta = await api.get(PODS, accept(TABLE_V1BETA1));
  t.is(beta.body.rows[0].object.apiVersion, 'meta.k8s.io/v1beta1', 'the row metadata is in the Table\'s version');
});

test('a representation no clause can be served in is 406 NotAcceptable; a bad includeObject is 400', withApp, async (t, api) => {
  await withPods(t, api);
  for (const value of [
    'application/json;as=Foo;v=v1;g=meta.k8s.io',
    'application/json;as=Table;v=v1;g=example.com',
    'application/json;as=Table',
    'application/yaml',
    'text/html',
  ]) {
    for (const path of [PODS, podPath('web'), `${PODS}?watch=1`]) {
      const r = await api.get(path, accept(value));
      t.is(r.status, 406, `${path} as ${value}: ${r.text}`);
      t.like(r.body, { kind: 'Status', status: 'Failure', reason: 'NotAcceptable', code: 406 });
      t.regex(r.body.message, /only the following media types are accepted: application\/json/);
    }
  }
  const partialOfList = await api.get(PODS, accept('application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io'));
  t.is(partialOfList.status, 406);
  t.regex(partialOfList.body.message, /PartialObjectMetadata, but the requested object is a list/);

  const bad = await api.get(`${PODS}?includeObject=Everything`, accept(KUBECTL_ACCEPT));
  t.is(bad.status, 400);
  t.like(bad.body, { reason: 'BadRequest' });
  t.regex(bad.body.message, /includeObject: Unsupported value: "Everything": supported values: "Metadata", "None", "Object"/);
  t.is((await api.get(`${PODS}?includeObject=Everything`)).status, 200, 'includeObject means nothing without a Table');
});

test('a Table for cluster-wide pods leaves NAMESPACE to kubectl, which takes it from the row metadata', withApp, async (t, api) => {
  await withPods(t, api);
  const r = await api.get('/api/v1/pods', accept(KUBECTL_ACCEPT));
  t.false(r.body.columnDefinitions.some((c: any) => c.name.toUpperCase() === 'NAMESPACE'));
  t.deepEqual(r.body.rows.map((row: any) => row.object.metadata.namespace), ['default', 'default']);
});

test('every kind is served as a Table; a kind without columns of its own has NAME and AGE', withApp, async (t, api) => {
  const conf = { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { policy: 'first-fit' } };
  await createAll(t, api, [['/apis/kcs.io/v1/schedulerconfigurations', conf]]);
  const r = await api.get('/apis/kcs.io/v1/schedulerconfigurations', accept(KUBECTL_ACCEPT));
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.columnDefinitions.map((c: any) => [c.name, c.format, c.priority]), [['Name', 'name', 0], ['Age', '', 0]]);
  t.is(r.body.rows[0].cells[0], 'default');
  for (const path of [NODES, '/api/v1/events', '/apis/coordination.k8s.io/v1/leases']) {
    const table = await api.get(path, accept(KUBECTL_ACCEPT));
    t.is(table.body.kind, 'Table', path);
  }
});

test('a paged list of Tables carries the continue token', withApp, async (t, api) => {
  await withPods(t, api);
  const first = await api.get(`${PODS}?limit=1`, accept(KUBECTL_ACCEPT));
  t.is(first.body.rows.length, 1);
  t.truthy(first.body.metadata.continue);
  t.is(first.body.metadata.remainingItemCount, 1);
  const second = await api.get(`${PODS}?limit=1&continue=${encodeURIComponent(first.body.metadata.continue)}`, accept(KUBECTL_ACCEPT));
  t.deepEqual([first.body.rows[0].cells[0], second.body.rows[0].cells[0]], ['db', 'web']);
});

test('the metadata alone: PartialObjectMetadata for a get and a watch, PartialObjectMetadataList for a list', withApp, async (t, api) => {
  await withPods(t, api);
  const full = (await api.get(podPath('web'))).body;
  const one = await api.get(podPath('web'), accept('application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io'));
  t.deepEqual(one.body, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata });
  const list = await api.get(PODS, accept('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'));
  t.is(list.body.kind, 'PartialObjectMetadataList');
  t.deepEqual(list.body.items.map((i: any) => [i.kind, i.metadata.name]), [['PartialObjectMetadata', 'db'], ['PartialObjectMetadata', 'web']]);
  const w = watch(t, api, `${PODS}?watch=1&fieldSelector=metadata.name=web`, { accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io' });
  const [e] = await w.waitFor(1);
  t.deepEqual(e!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata });
});
