// POST /apis/kcs.io/v1/commits and POST pods/{name}/binding over HTTP: what
// discovery says about them, what they write when they succeed, and the
// requests next to the refused ones in bad-input.test.ts that succeed (so
// a refusal there is the one field at fault, not the whole request).
import test, { type ExecutionContext } from 'ava';
import { MAX_COMMIT_OPERATIONS } from '../../src/api/commit.ts';
import { createAll, FRESH_REVISION, node, nodePath, NODES, pod, podPath, PODS, watch, withApp, withAppOptions, type TestApi } from './helpers.ts';

const COMMITS = '/apis/kcs.io/v1/commits';
const commit = (...operations: unknown[]) => ({ apiVersion: 'kcs.io/v1', kind: 'Commit', operations });
const event = (name: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default', ...extra.metadata },
  involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' }, reason: 'Scheduled', message: 'assigned', type: 'Normal',
});
const binding = (podName: string, nodeName: string, annotations?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, ...(annotations ? { annotations } : {}) }, target: { kind: 'Node', name: nodeName },
});

async function setup(t: ExecutionContext, api: TestApi) {
  const [n1, p1] = await createAll(t, api, [[NODES, node('n1')], [PODS, pod('p1', { metadata: { annotations: { owner: 'team-a' } } })]]);
  return { n1, p1 };
}

// ---- discovery -------------------------------------------------------------------------

test('discovery lists commits under kcs.io/v1 (create only) and pods/binding under v1', withApp, async (t, api) => {
  const groups = await api.get('/apis');
  t.is(groups.status, 200, groups.text);
  t.true(groups.body.groups.some((g: any) => g.name === 'kcs.io' && g.preferredVersion.groupVersion === 'kcs.io/v1'), 'kcs.io is a group');

  const kcs = await api.get('/apis/kcs.io/v1');
  t.is(kcs.status, 200, kcs.text);
  t.like(kcs.body, { kind: 'APIResourceList', groupVersion: 'kcs.io/v1' });
  const commits = kcs.body.resources.filter((r: any) => r.name === 'commits');
  t.is(commits.length, 1, 'listed once');
  t.like(commits[0], { name: 'commits', kind: 'Commit', namespaced: false });
  t.deepEqual(commits[0].verbs, ['create']);
  t.true(kcs.body.resources.some((r: any) => r.name === 'schedulerconfigurations'), 'the group keeps its own kinds');

  const core = await api.get('/api/v1');
  t.is(core.status, 200, core.text);
  const bindings = core.body.resources.filter((r: any) => r.name === 'pods/binding');
  t.is(bindings.length, 1, 'listed once');
  t.like(bindings[0], { name: 'pods/binding', kind: 'Binding', namespaced: true });
  t.deepEqual(bindings[0].verbs, ['create']);
  t.false(core.body.resources.some((r: any) => r.name === 'commits' || r.name === 'nodes/binding'), 'commits live in kcs.io only; nodes have no binding');
  for (const group of ['coordination.k8s.io']) {
    const other = await api.get(`/apis/${group}/v1`);
    t.false(other.body.resources.some((r: any) => r.name === 'commits'), `${group} does not list commits`);
  }
});

// ---- pods/binding ----------------------------------------------------------------------

test('an outside scheduler binds a pending pod with a Binding: nodeName, PodScheduled=True and the annotations land on the pod', withApp, async (t, api) => {
  const { p1 } = await setup(t, api);
  t.is(p1.spec.nodeName, undefined, 'pending');
  // From the pod's version: the watch sees the binding however late it starts.
  const onNode = watch(t, api, `${PODS}?watch=true&fieldSelector=spec.nodeName%3Dn1&resourceVersion=${p1.metadata.resourceVersion}`);

  const r = await api.post(`${podPath('p1')}/binding`, binding('p1', 'n1', { 'scheduler.example.com/score': '42' }));
  t.is(r.status, 201, r.text);
  t.deepEqual(r.body, { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 });

  const bound = (await api.get(podPath('p1'))).body;
  t.is(bound.spec.nodeName, 'n1');
  const scheduled = bound.status?.conditions?.find((c: any) => c.type === 'PodScheduled');
  t.like(scheduled, { status: 'True', reason: 'Scheduled' });
  t.truthy(scheduled.lastTransitionTime);
  t.deepEqual(bound.metadata.annotations, { owner: 'team-a', 'scheduler.example.com/score': '42' }, "the Binding's annotations are added to the pod's own");
  t.is(bound.metadata.uid, p1.metadata.uid, 'the same pod');
  t.deepEqual(bound.spec.containers, p1.spec.containers, 'nothing else of the spec changes');
  t.true(Number(bound.metadata.resourceVersion) > Number(p1.metadata.resourceVersion));

  const [added] = await onNode.waitFor(1);
  t.is(added!.type, 'ADDED', "the pod enters the node's watch");
  t.is(added!.object.metadata.name, 'p1');

  const again = await api.post(`${podPath('p1')}/binding`, binding('p1', 'n1'));
  t.is(again.status, 409, 'a second binding is refused');
  t.regex(again.body.message, /already assigned to node n1/);
});

test('a Binding without metadata or target.kind binds (both are optional, as in Kubernetes)', withApp, async (t, api) => {
  await setup(t, api);
  const r = await api.post(`${podPath('p1')}/binding`, { apiVersion: 'v1', kind: 'Binding', target: { name: 'n1' } });
  t.is(r.status, 201, r.text);
  const bound = (await api.get(podPath('p1'))).body;
  t.is(bound.spec.nodeName, 'n1');
  t.deepEqual(bound.metadata.annotations, { owner: 'team-a' }, 'annotations untouched');
});

// ---- commits ---------------------------------------------------------------------------

test('a commit binds a pod, writes a node status and creates an event in one transaction', withApp, async (t, api) => {
  const { n1, p1 } = await setup(t, api);
  const r = await api.post(COMMITS, commit(
    { verb: 'update', subresource: 'status', object: { ...n1, status: { allocatable: { cpu: '3' } } } },
    { verb: 'update', subresource: 'binding', object: { ...p1, spec: { ...p1.spec, nodeName: 'n1' }, status: { conditions: [{ type: 'PodScheduled', status: 'True' }] } } },
    { verb: 'create', object: event('p1.1') },
  ));
  t.is(r.status, 201, r.text);
  t.like(r.body, { apiVersion: 'kcs.io/v1', kind: 'Commit' });
  t.deepEqual(r.body.results.map((o: any) => `${o.kind}/${o.metadata.name}`), ['Node/n1', 'Pod/p1', 'Event/p1.1']);
  const revs = r.body.results.map((o: any) => Number(o.metadata.resourceVersion));
  t.deepEqual(revs, [revs[0], revs[0] + 1, revs[0] + 2], 'consecutive revisions');
  t.is(r.body.metadata.resourceVersion, String(revs[2]), "the commit's version is its last write's");
  t.is(await api.store.currentRevision(), revs[2]);

  t.deepEqual((await api.get(nodePath('n1'))).body.status.allocatable, { cpu: '3' });
  t.is((await api.get(podPath('p1'))).body.spec.nodeName, 'n1');
  t.is((await api.get('/api/v1/namespaces/default/events/p1.1')).status, 200);
});

test('a commit refused for one stale write writes none; the same commit at the current version writes all', withApp, async (t, api) => {
  const { n1, p1 } = await setup(t, api);
  const ops = (podVersion: string) => commit(
    { verb: 'create', object: event('e1') },
    { verb: 'update', subresource: 'status', object: { ...n1, status: { allocatable: { cpu: '3' } } } },
    { verb: 'update', subresource: 'status', object: { ...p1, metadata: { ...p1.metadata, resourceVersion: podVersion }, status: { phase: 'Running' } } },
  );
  const before = await api.store.currentRevision();
  const stale = await api.post(COMMITS, ops(String(Number(p1.metadata.resourceVersion) - 1)));
  t.is(stale.status, 409, stale.text);
  t.like(stale.body, { kind: 'Status', reason: 'Conflict', details: { name: 'p1', kind: 'pods' } });
  t.is(await api.store.currentRevision(), before, 'nothing written');
  t.is((await api.get('/api/v1/namespaces/default/events/e1')).status, 404, 'the event of the refused commit does not exist');
  t.is((await api.get(nodePath('n1'))).body.status, undefined, "the node's status is unchanged");

  const current = await api.post(COMMITS, ops(p1.metadata.resourceVersion));
  t.is(current.status, 201, current.text);
  t.is((await api.get('/api/v1/namespaces/default/events/e1')).status, 200);
  t.is((await api.get(podPath('p1'))).body.status.phase, 'Running');
});

test('a commit with one invalid create writes nothing; without it the rest is written', withApp, async (t, api) => {
  const { n1 } = await setup(t, api);
  const good = [
    { verb: 'update', subresource: 'status', object: { ...n1, status: { allocatable: { cpu: '3' } } } },
    { verb: 'create', object: event('e1') },
  ];
  const before = await api.store.currentRevision();
  const bad = await api.post(COMMITS, commit(...good, { verb: 'create', object: { ...event('e2'), type: 7 } }));
  t.is(bad.status, 422, bad.text);
  t.like(bad.body, { reason: 'Invalid', details: { name: 'e2', kind: 'Event' } });
  t.true(bad.body.details.causes.some((c: any) => c.field === 'type'), JSON.stringify(bad.body.details));
  t.is(await api.store.currentRevision(), before, 'nothing written');
  const ok = await api.post(COMMITS, commit(...good));
  t.is(ok.status, 201, ok.text);
});

test(`a commit of exactly ${MAX_COMMIT_OPERATIONS} operations is applied; one more is refused`, withApp, async (t, api) => {
  t.timeout(30_000);
  const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ verb: 'create', object: event(`e${i}`) }));
  const over = await api.post(COMMITS, commit(...ops(MAX_COMMIT_OPERATIONS + 1)));
  t.is(over.status, 422, over.text.slice(0, 300));
  t.is(await api.store.currentRevision(), FRESH_REVISION);
  const at = await api.post(COMMITS, commit(...ops(MAX_COMMIT_OPERATIONS)));
  t.is(at.status, 201, at.text.slice(0, 300));
  t.is(at.body.results.length, MAX_COMMIT_OPERATIONS);
  t.is(await api.store.currentRevision(), FRESH_REVISION + MAX_COMMIT_OPERATIONS);
});

/** A commit creating one event, padded with an annotation to exactly `size` bytes. */
function paddedCommit(size: number): string {
  const head = '{"apiVersion":"kcs.io/v1","kind":"Commit","operations":[{"verb":"create","object":{"apiVersion":"v1","kind":"Event","metadata":{"name":"big","namespace":"default","annotations":{"pad":"';
  const tail = '"}},"involvedObject":{"kind":"Pod","name":"p1"},"reason":"R","message":"m","type":"Normal"}}]}';
  return head + 'x'.repeat(size - head.length - tail.length) + tail;
}

test('a commit body may be 8 times the object limit, and no more', withAppOptions({ bodyLimit: 4096 }), async (t, api) => {
  const alone = await api.post('/api/v1/namespaces/default/events', JSON.parse(paddedCommit(8 * 4096)).operations[0].object);
  t.is(alone.status, 413, 'the object it carries is refused on its own');
  const over = await api.post(COMMITS, paddedCommit(8 * 4096 + 1));
  t.is(over.status, 413, over.text);
  t.like(over.body, { kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
  t.regex(over.body.message, /limit is 32768 bytes/);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
  const at = await api.post(COMMITS, paddedCommit(8 * 4096));
  t.is(at.status, 201, at.text.slice(0, 300));
  t.is(at.body.results[0].metadata.name, 'big');
});
