import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { DEFAULT_HOST } from '../../src/config.ts';
import { StateLockedError } from '../../src/store/sqlite.ts';
import { createAll, FRESH_REVISION, namespace, NAMESPACES, node, nodePath, NODES, openControlPlane, pod, podPath, PODS, tempStateDir, withApp, withControlPlane } from './helpers.ts';

// ---- authentication ------------------------------------------------------------------

test('a request without a token answers 401 Unauthorized and does nothing', withApp, async (t, api) => {
  for (const [method, path, body] of [['GET', NODES], ['POST', NODES, node('n1')], ['GET', `${NODES}?watch=true`], ['GET', '/api/v1']] as const) {
    const r = await api.request(method, path, { token: null, body });
    t.is(r.status, 401, `${method} ${path}`);
    t.like(r.body, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    t.regex(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

test('a request with a wrong or malformed token answers 401 Unauthorized', withApp, async (t, api) => {
  for (const authorization of [`Bearer ${api.token}x`, 'Bearer ', `Basic ${Buffer.from('admin:admin').toString('base64')}`, api.token, `Bearer ${api.token} extra`]) {
    const r = await api.get(NODES, { token: null, headers: { authorization } });
    t.is(r.status, 401, authorization);
    t.is(r.body.reason, 'Unauthorized');
  }
  const wrong = await api.post(NODES, node('n1'), { token: 'guess' });
  t.is(wrong.status, 401);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
  t.is((await api.get(NODES, { headers: { authorization: `bearer ${api.token}` } })).status, 200, 'the scheme is case-insensitive');
});

test('/healthz, /livez, /readyz and /version answer without a token', withApp, async (t, api) => {
  for (const path of ['/healthz', '/livez', '/readyz']) {
    const r = await api.get(path, { token: null });
    t.is(r.status, 200, path);
    t.is(r.text, 'ok');
  }
  const v = await api.get('/version', { token: null });
  t.is(v.status, 200);
  t.like(v.body, { major: '1' });
  t.regex(v.body.gitVersion, /^v1\.\d+\.\d+/);
});

test('discovery documents list nodes and pods with their status subresources', withApp, async (t, api) => {
  const r = await api.get('/api/v1');
  t.is(r.status, 200);
  t.is(r.body.kind, 'APIResourceList');
  const byName = Object.fromEntries(r.body.resources.map((x: any) => [x.name, x]));
  t.like(byName.nodes, { kind: 'Node', namespaced: false });
  t.like(byName.pods, { kind: 'Pod', namespaced: true });
  t.truthy(byName['pods/status']);
  t.true(byName.pods.verbs.includes('watch'));
  t.deepEqual((await api.get('/api')).body.versions, ['v1']);
});

// ---- routing errors --------------------------------------------------------------------

test('an unknown path answers 404 with a NotFound Status', withApp, async (t, api) => {
  for (const path of ['/api/v1/deployments', '/apis/apps/v1/deployments', '/nope', '/api/v1/namespaces/default/pods/p/logs']) {
    const r = await api.get(path);
    t.is(r.status, 404, path);
    t.like(r.body, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
  }
});

test('a method a resource does not support answers 405 with a MethodNotAllowed Status', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('x')]]);
  const cases: Array<[string, string]> = [
    ['POST', nodePath('x')], ['DELETE', NAMESPACES], ['DELETE', '/api/v1/pods'], ['PUT', NODES], ['PATCH', PODS], ['DELETE', `${nodePath('x')}/status`], ['POST', '/api/v1/pods'],
  ];
  for (const [method, path] of cases) {
    const r = await api.request(method, path, method === 'DELETE' ? {} : { body: node('x') });
    t.is(r.status, 405, `${method} ${path}: ${r.text}`);
    t.like(r.body, { kind: 'Status', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
  }
  t.is(await api.store.currentRevision(), FRESH_REVISION + 1);
});

test('a namespace in the URL that is not a DNS label answers 400', withApp, async (t, api) => {
  const r = await api.post('/api/v1/namespaces/Bad_NS/pods', pod('p'));
  t.is(r.status, 400);
  t.is(r.body.reason, 'BadRequest');
  t.regex(r.body.message, /Bad_NS/);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
});

// ---- the control plane -------------------------------------------------------------------

test('the control plane listens on 127.0.0.1 by default', withControlPlane, async (t, cp) => {
  t.is(DEFAULT_HOST, '127.0.0.1');
  const address = cp.cp.server.address() as AddressInfo;
  t.is(address.address, '127.0.0.1');
  t.is(address.family, 'IPv4');
  t.true(address.port > 0);
  t.is(cp.url, `http://127.0.0.1:${address.port}`);
  t.is((await cp.get('/healthz', { token: null })).status, 200);
  t.is((await cp.get(NODES)).status, 200);
});

test('the admin token is kept in stateDir/admin.token with mode 0600 and reused on restart', async (t) => {
  const dir = tempStateDir(t);
  const first = await openControlPlane(t, dir);
  const file = join(dir, 'admin.token');
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is(readFileSync(file, 'utf8').trim(), first.token);
  t.true(first.token.length >= 32, 'the token is long enough to resist guessing');
  t.is((await first.get(NODES)).status, 200);
  await first.close();

  const second = await openControlPlane(t, dir);
  t.is(second.token, first.token);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is((await second.get(NODES)).status, 200);
  t.is((await second.get(NODES, { token: 'other' })).status, 401);

  const elsewhere = await openControlPlane(t, tempStateDir(t));
  t.not(elsewhere.token, first.token, 'each state dir gets its own token');
});

test('objects survive a restart with the same resourceVersions, and revisions continue after them', async (t) => {
  const dir = tempStateDir(t);
  const first = await openControlPlane(t, dir);
  await createAll(t, first, [[NAMESPACES, namespace('team')]]);
  const created = await createAll(t, first, [[NODES, node('n1')], [PODS, pod('p1')], ['/api/v1/namespaces/team/pods', pod('p2')]]);
  const patched = await first.patch(podPath('p1'), { spec: { nodeName: 'n1' } });
  t.is(patched.status, 200);
  t.is((await first.delete(podPath('p2', 'team'))).status, 200);
  const before = { nodes: (await first.get(NODES)).body, pods: (await first.get('/api/v1/pods')).body };
  await first.close();
  t.is((await fetch(`${first.url}/healthz`).catch((err: Error) => err)) instanceof Error, true, 'the first server is gone');

  const second = await openControlPlane(t, dir);
  t.deepEqual((await second.get(nodePath('n1'))).body, created[0]);
  t.deepEqual((await second.get(podPath('p1'))).body, patched.body);
  t.is((await second.get(podPath('p2', 'team'))).status, 404);
  t.deepEqual((await second.get(NODES)).body, before.nodes);
  t.deepEqual((await second.get('/api/v1/pods')).body, before.pods);
  t.is(before.pods.metadata.resourceVersion, String(FRESH_REVISION + 6));

  const next = await second.post(NODES, node('n2'));
  t.is(next.body.metadata.resourceVersion, String(FRESH_REVISION + 7), 'a restart never reuses a revision');
});

test('a second control plane on the same state dir is refused while the first runs', withControlPlane, async (t, cp, dir) => {
  await t.throwsAsync(startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0 }), { instanceOf: StateLockedError });
  t.is((await cp.get(NODES)).status, 200, 'the first one is undisturbed');
  t.is((await cp.post(NODES, node('n1'))).status, 201);
});
