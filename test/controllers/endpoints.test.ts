// The endpoints controller against an in-process API, acting as the
// controllers' identity, with no runtime: the test writes what agents
// would (a pod's address and Ready condition, a node's Ready condition) as
// admin through the status subresource. Its runner's timers are on a fake
// clock that never moves: everything here happens on watch events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { CONTROLLERS_USER } from '../../src/api/controller-auth.ts';
import { Registry } from '../../src/api/registry.ts';
import { Informer } from '../../src/client/informer.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { LocalClient } from '../../src/client/local.ts';
import { startEndpointsController, startGarbageCollector, type RunningEndpointsController } from '../../src/controllers/manager.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, type Endpoints, type EndpointSlice } from '../../src/objects/endpoint-slices.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { countingClient } from '../support/counting-client.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const SERVICE = kindByName('Service')!;
const SLICE = kindByName('EndpointSlice')!;
const ENDPOINTS = kindByName('Endpoints')!;

interface Cluster {
  admin: KcsClient;
  endpoints: RunningEndpointsController;
  /** Writes the controller made, in order. */
  writes: string[];
}

async function open(t: ExecutionContext, opts: { collector?: boolean } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-endpoints-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const registry = new Registry(store);
  await registry.ready();
  const { client: controllers, writes } = countingClient(new LocalClient(registry, { user: CONTROLLERS_USER }));
  const clock = new FakeClock();
  const nodes = new Informer<Node>(controllers, NODE, { clock });
  const pods = new Informer<Pod>(controllers, POD, { clock });
  await nodes.start();
  await pods.start();
  const endpoints = await startEndpointsController({ client: controllers, pods, nodes, clock });
  const gc = opts.collector ? await startGarbageCollector({ client: controllers, clock, shared: [nodes, pods, ...endpoints.informers] }) : undefined;
  t.teardown(async () => {
    await gc?.stop();
    await endpoints.stop();
    nodes.stop();
    pods.stop();
    registry.cache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { admin: new LocalClient(registry, { user: ADMIN_USER }), endpoints, writes };
}

async function readyNode(admin: KcsClient, name: string, ready = true): Promise<void> {
  let node: Node;
  try {
    node = await admin.get<Node>(NODE, undefined, name);
  } catch {
    node = (await admin.create<Node>(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '4' } } })).body;
  }
  const conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'NodeFailed' }];
  await admin.update(NODE, undefined, name, { ...node, status: { ...node.status, conditions } }, { subresource: 'status' });
}

type PodOptions = { labels?: Record<string, string>; node?: string; ip?: string; ready?: boolean; ports?: Array<{ name?: string; containerPort: number }> };

/** A pod as its agent would leave it: bound, with an address and a Ready condition. */
async function runningPod(admin: KcsClient, name: string, o: PodOptions = {}): Promise<Pod> {
  const manifest = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: o.labels ?? { app: 'web' } },
    spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'app', image: 'x', ...(o.ports ? { ports: o.ports } : {}) }] },
  };
  const created = (await admin.create<Pod>(POD, 'default', manifest)).body;
  if (o.ip === undefined) return created;
  const status = { phase: 'Running', podIP: o.ip, podIPs: [{ ip: o.ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] };
  return (await admin.update<Pod>(POD, 'default', name, { ...created, status }, { subresource: 'status' })).body;
}

async function createService(admin: KcsClient, name: string, spec: Record<string, unknown> = {}) {
  return (await admin.create(SERVICE, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec } })).body;
}

async function slicesOf(admin: KcsClient, service: string): Promise<EndpointSlice[]> {
  return (await admin.list<EndpointSlice>(SLICE, 'default', { labelSelector: `${SERVICE_NAME_LABEL}=${service}` })).items;
}

/** The slices' endpoints as `ip ready` lines, sorted. */
async function endpointLines(admin: KcsClient, service: string): Promise<string> {
  const lines = (await slicesOf(admin, service)).flatMap((s) => s.endpoints.map((e) => `${e.addresses[0]} ${e.conditions.ready ? 'ready' : 'not-ready'}`));
  return lines.sort().join(', ');
}

async function expectEndpoints(admin: KcsClient, service: string, expected: string): Promise<void> {
  let have = '';
  await eventually(() => `endpoints of ${service}: ${expected} (have ${have})`, async () => (have = await endpointLines(admin, service)) === expected);
}

test('a Service\'s slice lists its bound, addressed pods, ready or not, and its Endpoints the same split', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  const ready = await runningPod(admin, 'web-1', { ip: '127.64.0.2' });
  await runningPod(admin, 'web-2', { ip: '127.64.0.3', ready: false });
  await runningPod(admin, 'pending', {});
  await runningPod(admin, 'other', { ip: '127.64.0.4', labels: { app: 'db' } });
  const svc = await createService(admin, 'web');

  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.0.3 not-ready');
  const [slice] = await slicesOf(admin, 'web');
  t.regex(slice!.metadata.name!, /^web-[a-z0-9]{5}$/);
  t.deepEqual(slice!.metadata.labels, { tier: 'front', [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: MANAGED_BY });
  t.deepEqual(slice!.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }]);
  t.is(slice!.addressType, 'IPv4');
  t.deepEqual(slice!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.deepEqual(slice!.endpoints[0], {
    addresses: ['127.64.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1',
    targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: ready.metadata.uid! },
  });

  const ep = await eventually('the Endpoints object', () => admin.get<Endpoints>(ENDPOINTS, 'default', 'web').catch(() => undefined));
  t.deepEqual(ep.subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports]), [[['127.64.0.2'], ['127.64.0.3'], [{ name: 'http', port: 8080, protocol: 'TCP' }]]]);
  t.is(ep.subsets![0]!.addresses![0]!.targetRef.name, 'web-1');
});

test('a named targetPort is resolved in each pod; pods serving it on different ports get separate slices, pods without it none', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  await runningPod(admin, 'a', { ip: '127.64.0.2', ports: [{ name: 'http', containerPort: 8080 }] });
  await runningPod(admin, 'b', { ip: '127.64.0.3', ports: [{ name: 'http', containerPort: 9090 }] });
  await runningPod(admin, 'c', { ip: '127.64.0.4', ports: [{ name: 'metrics', containerPort: 9100 }] });
  await createService(admin, 'web', { ports: [{ name: 'web', port: 80, targetPort: 'http' }] });

  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.0.3 ready');
  const byPort = (await slicesOf(admin, 'web')).map((s) => `${s.ports[0]!.port}: ${s.endpoints.map((e) => e.targetRef.name).join()}`).sort();
  t.deepEqual(byPort, ['8080: a', '9090: b']);
});

test('pods added, deleted and relabelled change the slice; a Service without pods keeps one empty slice', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  await createService(admin, 'web');
  await eventually('the placeholder slice', async () => (await slicesOf(admin, 'web')).length === 1);
  const [placeholder] = await slicesOf(admin, 'web');
  t.deepEqual([placeholder!.endpoints, placeholder!.ports], [[], []]);

  await runningPod(admin, 'web-1', { ip: '127.64.0.2' });
  await runningPod(admin, 'web-2', { ip: '127.64.0.3' });
  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.0.3 ready');
  t.is((await slicesOf(admin, 'web')).length, 1, 'the placeholder gave way to the slice of the pods');

  await admin.patch(POD, 'default', 'web-1', { metadata: { labels: { app: 'old' } } });
  await expectEndpoints(admin, 'web', '127.64.0.3 ready');
  await admin.patch(POD, 'default', 'web-1', { metadata: { labels: { app: 'web' } } });
  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.0.3 ready');
  await admin.delete(POD, 'default', 'web-2');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready');
});

test('a node going NotReady turns its pods\' endpoints not ready, and Ready again turns them back', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  await readyNode(admin, 'n2');
  await runningPod(admin, 'on-1', { ip: '127.64.0.2', node: 'n1' });
  await runningPod(admin, 'on-2', { ip: '127.64.1.2', node: 'n2' });
  await createService(admin, 'web');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.1.2 ready');

  await readyNode(admin, 'n1', false);
  await expectEndpoints(admin, 'web', '127.64.0.2 not-ready, 127.64.1.2 ready');
  // The Endpoints are written after the slices, in the same reconcile.
  const ep = await eventually('the Endpoints to follow', async () => {
    const e = await admin.get<Endpoints>(ENDPOINTS, 'default', 'web');
    return e.subsets?.[0]?.notReadyAddresses ? e : undefined;
  });
  t.deepEqual(ep.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip), ['127.64.0.2']);
  t.deepEqual(ep.subsets?.[0]?.addresses?.map((a) => a.ip), ['127.64.1.2']);
  await readyNode(admin, 'n1');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.1.2 ready');
});

test('a terminating pod is no endpoint', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  await runningPod(admin, 'web-1', { ip: '127.64.0.2' });
  await runningPod(admin, 'web-2', { ip: '127.64.0.3' });
  await admin.patch(POD, 'default', 'web-2', { metadata: { finalizers: ['example.com/hold'] } });
  await createService(admin, 'web');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready, 127.64.0.3 ready');
  const deleting = await admin.delete(POD, 'default', 'web-2');
  t.truthy(deleting.metadata.deletionTimestamp, 'held by its finalizer, the pod is still there');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready');
  t.is((await slicesOf(admin, 'web'))[0]!.endpoints.length, 1);
});

test('more than 100 endpoints take more than one slice', async (t) => {
  const { admin } = await open(t);
  await readyNode(admin, 'n1');
  for (let i = 0; i < 101; i++) await runningPod(admin, `web-${String(i).padStart(3, '0')}`, { ip: `127.64.0.${i + 2}` });
  await createService(admin, 'web');
  await eventually('101 endpoints', async () => (await slicesOf(admin, 'web')).reduce((n, s) => n + s.endpoints.length, 0) === 101);
  t.deepEqual((await slicesOf(admin, 'web')).map((s) => s.endpoints.length).sort((a, b) => a - b), [1, 100]);
});

test('a converged Service is reconciled with zero writes', async (t) => {
  const { admin, endpoints, writes } = await open(t);
  await readyNode(admin, 'n1');
  await runningPod(admin, 'web-1', { ip: '127.64.0.2' });
  await createService(admin, 'web');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready');
  await eventually('the Endpoints object', () => admin.get(ENDPOINTS, 'default', 'web').catch(() => undefined));
  await eventually('the informers to show both', () => endpoints.informers.every((i) => i.list().length > 0));
  const before = writes.length;
  await endpoints.controller.reconcile('default/web');
  t.deepEqual(writes.slice(before), []);
});

test('a Service whose selector is removed loses the slices the controller made', async (t) => {
  const { admin } = await open(t);
  await createService(admin, 'web');
  await eventually('the placeholder slice', async () => (await slicesOf(admin, 'web')).length === 1);
  await admin.patch(SERVICE, 'default', 'web', { spec: { selector: null } });
  await eventually('the slice to be gone', async () => (await slicesOf(admin, 'web')).length === 0);
  t.deepEqual(await slicesOf(admin, 'web'), []);
});

test('a Service without a selector gets no slice from the controller; its Endpoints are the user\'s', async (t) => {
  const { admin, endpoints } = await open(t);
  await createService(admin, 'external', { selector: undefined });
  await createService(admin, 'marker');
  await eventually('the marker Service reconciled', async () => (await slicesOf(admin, 'marker')).length === 1);
  await endpoints.controller.reconcile('default/external');
  t.deepEqual(await slicesOf(admin, 'external'), []);
  await t.throwsAsync(admin.get(ENDPOINTS, 'default', 'external'), { message: /not found/ });
});

test('the slices and Endpoints go with their Service (the garbage collector)', async (t) => {
  const { admin } = await open(t, { collector: true });
  await readyNode(admin, 'n1');
  await runningPod(admin, 'web-1', { ip: '127.64.0.2' });
  await createService(admin, 'web');
  await expectEndpoints(admin, 'web', '127.64.0.2 ready');
  await eventually('the Endpoints object', () => admin.get(ENDPOINTS, 'default', 'web').catch(() => undefined));
  await admin.delete(SERVICE, 'default', 'web');
  await eventually('the slices to be gone', async () => (await slicesOf(admin, 'web')).length === 0);
  await eventually('the Endpoints to be gone', () => admin.get(ENDPOINTS, 'default', 'web').then(() => false, () => true));
  t.deepEqual(await slicesOf(admin, 'web'), []);
});
