import test from 'ava';
import { createAll, namespace, NAMESPACES, node, NODES, pod, PODS, withApp } from './helpers.ts';

const names = (list: any) => list.items.map((o: any) => o.metadata.name).sort();

test('label selectors filter lists with =, !=, in, notin, exists and !key', withApp, async (t, api) => {
  await createAll(t, api, [
    [NODES, node('a', { metadata: { labels: { env: 'prod', tier: 'web' } } })],
    [NODES, node('b', { metadata: { labels: { env: 'dev' } } })],
    [NODES, node('c')],
  ]);
  const select = async (selector: string) => {
    const r = await api.get(`${NODES}?labelSelector=${encodeURIComponent(selector)}`);
    t.is(r.status, 200, `${selector}: ${r.text}`);
    return names(r.body);
  };
  t.deepEqual(await select('env=prod'), ['a']);
  t.deepEqual(await select('env==dev'), ['b']);
  t.deepEqual(await select('env!=prod'), ['b', 'c']);
  t.deepEqual(await select('env in (prod, dev)'), ['a', 'b']);
  t.deepEqual(await select('env notin (prod)'), ['b', 'c']);
  t.deepEqual(await select('env'), ['a', 'b']);
  t.deepEqual(await select('!env'), ['c']);
  t.deepEqual(await select('env=prod,tier=web'), ['a']);
  t.deepEqual(await select('env=prod,!tier'), []);
  t.deepEqual(await select(''), ['a', 'b', 'c']);

  const bad = await api.get(`${NODES}?labelSelector=${encodeURIComponent('env in prod')}`);
  t.is(bad.status, 400);
  t.is(bad.body.reason, 'BadRequest');
});

test('field selectors filter pods by spec.nodeName and metadata.name; other fields answer 400', withApp, async (t, api) => {
  await createAll(t, api, [
    [NAMESPACES, namespace('other')],
    [PODS, pod('p1', { spec: { nodeName: 'n1' } })],
    [PODS, pod('p2', { spec: { nodeName: 'n2' } })],
    [PODS, pod('p3')],
    ['/api/v1/namespaces/other/pods', pod('p4', { spec: { nodeName: 'n1' } })],
  ]);
  const select = async (path: string, selector: string) => {
    const r = await api.get(`${path}?fieldSelector=${encodeURIComponent(selector)}`);
    t.is(r.status, 200, `${selector}: ${r.text}`);
    return names(r.body);
  };
  t.deepEqual(await select(PODS, 'spec.nodeName=n1'), ['p1']);
  t.deepEqual(await select('/api/v1/pods', 'spec.nodeName=n1'), ['p1', 'p4']);
  t.deepEqual(await select(PODS, 'spec.nodeName='), ['p3']);
  t.deepEqual(await select(PODS, 'spec.nodeName!=n1'), ['p2', 'p3']);
  t.deepEqual(await select(PODS, 'metadata.name=p2'), ['p2']);
  t.deepEqual(await select('/api/v1/pods', 'metadata.namespace=other'), ['p4']);
  t.deepEqual(await select(PODS, 'status.phase=Pending'), ['p1', 'p2', 'p3']);

  const bad = await api.get(`${PODS}?fieldSelector=${encodeURIComponent('spec.containers=x')}`);
  t.is(bad.status, 400);
  t.like(bad.body, { kind: 'Status', reason: 'BadRequest' });
  t.regex(bad.body.message, /spec\.containers/);
  t.is((await api.get(`${NODES}?fieldSelector=spec.nodeName%3Dn1`)).status, 400, 'nodes have no spec.nodeName');
});
