// Behaviours a review found missing, kept from coming back.
import { request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { withApp, withControlPlane } from './helpers.ts';

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '1' } } });

test('a watch with nothing to report sends its status line and headers at once', withApp, async (t, api) => {
  // From the current revision: nothing has happened since, so there is nothing to send.
  const rv = (await api.get('/api/v1/nodes')).body.metadata.resourceVersion;
  const { status, type } = await new Promise<{ status?: number; type?: string }>((resolve, reject) => {
    const u = new URL(api.url);
    const req = request({ host: u.hostname, port: u.port, path: `/api/v1/nodes?watch=true&resourceVersion=${rv}`, headers: { authorization: `Bearer ${api.token}` } }, (res) => {
      resolve({ status: res.statusCode, type: res.headers['content-type'] });
      res.destroy();
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.setTimeout(2000, () => reject(new Error('no headers within 2 s')));
    req.end();
  });
  t.is(status, 200);
  t.regex(type ?? '', /application\/json/);
});

test('a method the path does not allow is a 405 Status naming method and path', withApp, async (t, api) => {
  const r = await api.request('PUT', '/api/v1/nodes', { body: node('x') });
  t.is(r.status, 405);
  t.is(r.body.reason, 'MethodNotAllowed');
  t.regex(r.body.message, /PUT.*\/api\/v1\/nodes/);
});

test('a bad timeoutSeconds is a 400, not a watch that ends at once', withApp, async (t, api) => {
  const r = await api.get('/api/v1/nodes?watch=true&timeoutSeconds=soon');
  t.is(r.status, 400);
  t.regex(r.body.message, /timeoutSeconds/);
});

test('label selectors with stray syntax are refused', withApp, async (t, api) => {
  for (const sel of ['a=b=c', 'a=b)', 'a,,b', 'a in (x,y']) {
    const r = await api.get(`/api/v1/nodes?labelSelector=${encodeURIComponent(sel)}`);
    t.is(r.status, 400, sel);
  }
});

test('DELETE with a stale resourceVersion precondition is a Conflict and deletes nothing', withApp, async (t, api) => {
  const created = await api.post('/api/v1/nodes', node('n1'));
  await api.patch('/api/v1/nodes/n1', { metadata: { labels: { a: 'b' } } });
  const stale = await api.delete('/api/v1/nodes/n1', { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: created.body.metadata.resourceVersion } } });
  t.is(stale.status, 409);
  t.is((await api.get('/api/v1/nodes/n1')).status, 200);
  const wrongUid = await api.delete('/api/v1/nodes/n1', { body: { preconditions: { uid: 'not-it' } } });
  t.is(wrongUid.status, 409);
  const right = await api.delete('/api/v1/nodes/n1', { body: { preconditions: { uid: created.body.metadata.uid } } });
  t.is(right.status, 200);
  t.is((await api.get('/api/v1/nodes/n1')).status, 404);
});

test('deeply nested YAML flow collections are refused quickly', withApp, async (t, api) => {
  const started = Date.now();
  const r = await api.post('/api/v1/nodes', 'spec: ' + '['.repeat(500_000), { type: 'application/yaml' });
  t.is(r.status, 400);
  t.regex(r.body.message, /nests deeper/);
  t.true(Date.now() - started < 2000, 'answered without parsing the whole document');
});

test('the state directory and store are readable by their owner only', withControlPlane, async (t, _cp, stateDir) => {
  t.is(statSync(stateDir).mode & 0o777, 0o700);
  t.is(statSync(join(stateDir, 'kcs.db')).mode & 0o777, 0o600);
});
