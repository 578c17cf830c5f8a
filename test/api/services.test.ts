// Services over HTTP: cluster IPs handed out at admission from 127.32.0.0/16
// (the first free, or the one asked for if it is in the range and free),
// headless Services taking none, the address kept for the Service's life,
// Kubernetes' defaults, and no two Services ever sharing an address, even
// created all at once.
import test from 'ava';
import { kindByName } from '../../src/objects/kinds.ts';
import { withApp, type Client } from './helpers.ts';

const SERVICES = '/api/v1/namespaces/default/services';

function service(name: string, spec: Record<string, unknown> = {}): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

async function create(t: { is(a: unknown, b: unknown, m?: string): void }, api: Client, body: unknown): Promise<any> {
  const r = await api.post(SERVICES, body);
  t.is(r.status, 201, r.text);
  return r.body;
}

test('Services get the first free cluster IPs of 127.32.0.0/16 in order, with Kubernetes\' defaults', withApp, async (t, api) => {
  const a = await create(t, api, service('a'));
  const b = await create(t, api, service('b'));
  t.is(a.spec.clusterIP, '127.32.0.1', 'the network address .0.0 is never handed out');
  t.deepEqual(a.spec.clusterIPs, ['127.32.0.1']);
  t.is(b.spec.clusterIP, '127.32.0.2');
  t.like(a.spec, { type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  t.deepEqual(a.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  t.is((await api.get(`${SERVICES}/a`)).body.spec.clusterIP, '127.32.0.1', 'stored as answered');
});

test('the address of a deleted Service is free again, and a gap is filled first', withApp, async (t, api) => {
  for (const name of ['a', 'b', 'c']) await create(t, api, service(name));
  t.is((await api.delete(`${SERVICES}/b`)).status, 200);
  // The allocator reads the watch cache: the delete shows there before the next list answers.
  await api.get(SERVICES);
  t.is((await create(t, api, service('d'))).spec.clusterIP, '127.32.0.2');
  t.is((await create(t, api, service('e'))).spec.clusterIP, '127.32.0.4');
});

test('a Service may ask for a free address of the range, and gets it', withApp, async (t, api) => {
  const asked = await create(t, api, service('dns', { clusterIP: '127.32.0.10' }));
  t.is(asked.spec.clusterIP, '127.32.0.10');
  t.deepEqual(asked.spec.clusterIPs, ['127.32.0.10']);
  t.is((await create(t, api, service('next'))).spec.clusterIP, '127.32.0.1', 'allocation still starts at the bottom');
});

test('an address already taken is refused with 422 naming spec.clusterIP', withApp, async (t, api) => {
  await create(t, api, service('first', { clusterIP: '127.32.0.7' }));
  const r = await api.post(SERVICES, service('second', { clusterIP: '127.32.0.7' }));
  t.is(r.status, 422);
  t.is(r.body.reason, 'Invalid');
  t.is(r.body.details.causes[0].field, 'spec.clusterIP');
  t.regex(r.body.details.causes[0].message, /provided IP is already allocated/);
});

test('an address outside 127.32.0.0/16, or its network or broadcast address, is refused', withApp, async (t, api) => {
  for (const ip of ['10.96.0.10', '127.33.0.1', '127.32.0.0', '127.32.255.255']) {
    const r = await api.post(SERVICES, service(`out-${ip.replace(/\./g, '-')}`, { clusterIP: ip }));
    t.is(r.status, 422, ip);
    t.is(r.body.details.causes[0].field, 'spec.clusterIP', ip);
    t.regex(r.body.details.causes[0].message, /is not in the valid range\. The range of valid IPs is 127\.32\.0\.0\/16/, ip);
  }
  t.is((await create(t, api, service('first'))).spec.clusterIP, '127.32.0.1', 'nothing was taken by the refused creates');
});

test('a headless Service (clusterIP None) takes no address', withApp, async (t, api) => {
  const headless = await create(t, api, service('db', { clusterIP: 'None' }));
  t.is(headless.spec.clusterIP, 'None');
  t.deepEqual(headless.spec.clusterIPs, ['None']);
  t.is((await create(t, api, service('web'))).spec.clusterIP, '127.32.0.1');
});

test('the cluster IP is immutable: an update may leave it out and keeps it, one that changes it is 422', withApp, async (t, api) => {
  const created = await create(t, api, service('web'));
  const omitted = service('web', { ports: [{ port: 8080 }] });
  const put = await api.put(`${SERVICES}/web`, omitted);
  t.is(put.status, 200, put.text);
  t.is(put.body.spec.clusterIP, created.spec.clusterIP, 'a PUT without clusterIP keeps it');
  t.deepEqual(put.body.spec.clusterIPs, created.spec.clusterIPs);
  const changed = await api.patch(`${SERVICES}/web`, { spec: { clusterIP: '127.32.0.99' } });
  t.is(changed.status, 422);
  t.is(changed.body.details.causes[0].field, 'spec.clusterIP');
  t.regex(changed.body.details.causes[0].message, /field is immutable/);
  const headless = await api.patch(`${SERVICES}/web`, { spec: { clusterIP: 'None' } });
  t.is(headless.status, 422, 'nor made headless');
  t.is((await api.get(`${SERVICES}/web`)).body.spec.clusterIP, created.spec.clusterIP);
});

test('a dry-run create shows an address but keeps none', withApp, async (t, api) => {
  const dry = await api.post(`${SERVICES}?dryRun=All`, service('web'));
  t.is(dry.status, 201, dry.text);
  t.is(dry.body.spec.clusterIP, '127.32.0.1');
  t.is((await create(t, api, service('web'))).spec.clusterIP, '127.32.0.1');
});

test('fifty Services created at once get fifty different addresses', withApp, async (t, api) => {
  // Half over HTTP, half in-process: those reach the allocator in the same turns, before the store has written any.
  const kind = kindByName('Service')!;
  const replies = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    if (i % 2) return api.post(SERVICES, service(`s${i}`));
    const { object } = await api.registry.create(kind, 'default', service(`s${i}`));
    return { status: 201, body: object as any };
  }));
  t.deepEqual(replies.map((r) => r.status), replies.map(() => 201));
  const ips = replies.map((r) => r.body.spec.clusterIP as string);
  t.is(new Set(ips).size, 50, `duplicates among ${ips.join(' ')}`);
  const numbers = ips.map((ip) => Number(ip.split('.')[3]) + 256 * Number(ip.split('.')[2])).sort((a, b) => a - b);
  t.deepEqual(numbers, Array.from({ length: 50 }, (_, i) => i + 1), 'the first fifty, none skipped');
  // And the stored objects say the same as the answers.
  const stored = (await api.get(SERVICES)).body.items.map((s: any) => s.spec.clusterIP);
  t.is(new Set(stored).size, 50);
});

test('a Service in a commit is refused: its address is allocated by its own create', withApp, async (t, api) => {
  const r = await api.post('/apis/kcs.io/v1/commits', { apiVersion: 'kcs.io/v1', kind: 'Commit', operations: [{ verb: 'create', object: service('web') }] });
  t.is(r.status, 400, r.text);
  t.regex(r.body.message, /created on its own/);
});
