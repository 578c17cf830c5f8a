// Lists over HTTP as Kubernetes pages them (limit, continue,
// remainingItemCount, resourceVersionMatch) and watch bookmarks, with the
// Status a client gets for each parameter it gets wrong.
import test from 'ava';
import { createAll, node, NODES, pod, PODS, watch, withApp, withAppOptions } from './helpers.ts';

test('a list pages with limit and continue, every page at the first page\'s resourceVersion', withApp, async (t, api) => {
  await createAll(t, api, Array.from({ length: 7 }, (_, i) => [NODES, node(`n${i}`)] as [string, unknown]));
  const names: string[] = [];
  let cont: string | undefined;
  const versions = new Set<string>();
  const remaining: number[] = [];
  do {
    const page = await api.get(`${NODES}?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    t.is(page.status, 200);
    t.is(page.body.kind, 'NodeList');
    names.push(...page.body.items.map((n: any) => n.metadata.name));
    versions.add(page.body.metadata.resourceVersion);
    if (page.body.metadata.remainingItemCount !== undefined) remaining.push(page.body.metadata.remainingItemCount);
    cont = page.body.metadata.continue;
    if (names.length === 3) await createAll(t, api, [[NODES, node('n99')]]);
  } while (cont);
  t.deepEqual(names, ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
  t.is(versions.size, 1);
  t.deepEqual(remaining, [4, 1]);
});

test('bad paging parameters are 400 Statuses naming the parameter', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('a')], [NODES, node('b')]]);
  const first = await api.get(`${NODES}?limit=1`);
  const cases: Array<[string, RegExp]> = [
    ['limit=-1', /limit/],
    ['limit=ten', /limit/],
    ['continue=garbage!', /continue/],
    [`continue=${encodeURIComponent(first.body.metadata.continue)}&resourceVersion=3`, /resource version is not allowed when using continue/],
    ['resourceVersionMatch=Exact', /resourceVersionMatch is forbidden unless resourceVersion/],
    ['resourceVersion=2&resourceVersionMatch=Newest', /resourceVersionMatch must be/],
    ['resourceVersion=x', /resourceVersion/],
  ];
  for (const [q, message] of cases) {
    const r = await api.get(`${NODES}?${q}`);
    t.is(r.status, 400, q);
    t.like(r.body, { kind: 'Status', code: 400, reason: 'BadRequest' }, q);
    t.regex(r.body.message, message, q);
  }
  // A continue token is for the list that made it: not for another kind's.
  const other = await api.get(`${PODS}?continue=${encodeURIComponent(first.body.metadata.continue)}`);
  t.is(other.status, 400);
  t.is((await api.get(NODES)).body.items.length, 2, 'the server still answers and lost nothing');
});

test('a continue token outlived by its snapshot is 410 Expired: list again', withAppOptions({ cache: { snapshotTtlMs: 1, maxSnapshots: 1 } }), async (t, api) => {
  await createAll(t, api, [[NODES, node('a')], [NODES, node('b')], [PODS, pod('x')], [PODS, pod('y')]]);
  const nodes = await api.get(`${NODES}?limit=1`);
  await createAll(t, api, [[NODES, node('c')]]);
  // A second paginated list pushes the first one's snapshot out (one is kept).
  await api.get(`${PODS}?limit=1`);
  const r = await api.get(`${NODES}?limit=1&continue=${encodeURIComponent(nodes.body.metadata.continue)}`);
  t.is(r.status, 410);
  t.like(r.body, { kind: 'Status', reason: 'Expired', code: 410 });
});

test('a watch with allowWatchBookmarks gets BOOKMARK events carrying the current resourceVersion', withAppOptions({ cache: { bookmarkIntervalMs: 200 } }), async (t, api) => {
  const w = watch(t, api, `${PODS}?watch=true&allowWatchBookmarks=true&fieldSelector=${encodeURIComponent('spec.nodeName=quiet')}`);
  const [made] = await createAll(t, api, [[PODS, pod('elsewhere', { spec: { nodeName: 'busy' } })]]);
  const events = await w.waitFor(1);
  t.is(events[0].type, 'BOOKMARK');
  t.like(events[0].object, { kind: 'Pod', apiVersion: 'v1' });
  t.true(Number(events[0].object.metadata.resourceVersion) >= Number(made.metadata.resourceVersion));
});
