// GET /metrics: who may read it, and what it says after the cluster has done
// things (a control plane with virtual nodes in this process); the cluster
// gauges and the failover histogram on a fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createApp } from '../../src/api/app.ts';
import { ADMIN_USER, adminTokenAuthenticator } from '../../src/api/auth.ts';
import { Registry } from '../../src/api/registry.ts';
import { Informer } from '../../src/client/informer.ts';
import { LocalClient } from '../../src/client/local.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { HealthController, type Lease } from '../../src/controllers/health.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock, rfc3339Micro } from '../../src/util/clock.ts';
import { Metrics } from '../../src/util/metrics.ts';
import { eventually } from '../support/eventually.ts';
import { client, node, NODES, pod, PODS, type Client } from '../api/helpers.ts';
import { parseExposition, samples, value, type Exposition } from './exposition.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const LEASE = kindByName('Lease')!;

/** A control plane with in-process virtual nodes (fast heartbeats), over plain http. */
async function controlPlane(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-metrics-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 200, nodeGraceMs: 5000, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const admin = client(cp.url, cp.adminToken);
  const scrape = async (): Promise<Exposition> => {
    const r = await admin.get('/metrics', { token: cp.metricsToken });
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.text}`);
    return parseExposition(r.text);
  };
  return { cp, admin, scrape };
}

async function created(t: ExecutionContext, api: Client, path: string, obj: unknown): Promise<void> {
  const r = await api.post(path, obj);
  t.is(r.status, 201, r.text);
}

test('GET /metrics needs a token that may read it: none is 401, a node\'s or the controllers\' 403, the metrics reader\'s and the admin\'s 200', async (t) => {
  const { cp, admin } = await controlPlane(t);
  const none = await admin.get('/metrics', { token: null });
  t.is(none.status, 401);
  t.like(none.body, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  for (const [who, token] of [['a node', cp.nodeTokens.tokenFor('n1')], ['the controllers', cp.controllerToken]]) {
    const r = await admin.get('/metrics', { token });
    t.is(r.status, 403, who);
    t.like(r.body, { kind: 'Status', reason: 'Forbidden', code: 403 }, who);
    t.regex(r.body.message, /cannot get path "\/metrics"/, who);
  }
  for (const token of [cp.metricsToken, cp.adminToken]) {
    const r = await admin.get('/metrics', { token });
    t.is(r.status, 200);
    t.regex(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    t.true(parseExposition(r.text).types.size > 0);
  }
});

test('the metrics reader may do nothing but read /metrics', async (t) => {
  const { cp, admin } = await controlPlane(t);
  const reader = client(cp.url, cp.metricsToken);
  t.is((await reader.get(NODES)).status, 403, 'no list');
  t.is((await reader.get('/api/v1/namespaces/default')).status, 403, 'no get');
  t.is((await reader.post(PODS, pod('web'))).status, 403, 'no create');
  t.is((await admin.get(`${PODS}/web`)).status, 404, 'and nothing was written');
});

test('after a node and a pod, the exposition counts the requests, the scheduling, the store and the cluster as it is', async (t) => {
  const { cp, admin, scrape } = await controlPlane(t);
  const createdPods = (e: Exposition) => value(e, 'apiserver_request_total', { verb: 'POST', resource: 'pods', subresource: '', code: '201' }) ?? 0;
  const before = await scrape();
  t.is(value(before, 'kcs_nodes', { condition: 'Ready' }), 0);

  await created(t, admin, NODES, node('n1'));
  await eventually('n1 Ready', async () => (await admin.get(`${NODES}/n1`)).body?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  await created(t, admin, PODS, pod('web'));
  await created(t, admin, PODS, pod('huge', { spec: { containers: [{ name: 'app', resources: { requests: { cpu: '64' } } }] } }));
  await eventually('web Running', async () => (await admin.get(`${PODS}/web`)).body?.status?.phase === 'Running');
  await eventually('huge Unschedulable', async () => (await admin.get(`${PODS}/huge`)).body?.status?.conditions?.some((c: any) => c.reason === 'Unschedulable'));
  t.is((await admin.get(PODS)).status, 200);
  t.is((await admin.get('/api/v1/pods', { token: 'not-a-token' })).status, 401);

  const after = await scrape();
  // The API server, as Kubernetes' apiserver labels it.
  t.is(createdPods(after), createdPods(before) + 2);
  t.true(value(after, 'apiserver_request_total', { verb: 'LIST', resource: 'pods', subresource: '', code: '200' })! >= 1);
  t.true(value(after, 'apiserver_request_total', { verb: 'GET', resource: '', subresource: '', code: '401' })! >= 1, 'a refused request has its method only');
  t.true(value(after, 'apiserver_request_duration_seconds_count', { verb: 'POST', resource: 'pods', subresource: '' })! >= 2);
  t.is(after.types.get('apiserver_request_duration_seconds'), 'histogram');
  // The scheduler: one pod placed, one that fits nowhere.
  t.true(value(after, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile: 'first-fit' })! >= 1);
  t.true(value(after, 'scheduler_schedule_attempts_total', { result: 'unschedulable', profile: 'first-fit' })! >= 1);
  t.true(value(after, 'scheduler_scheduling_attempt_duration_seconds_count', { result: 'scheduled', profile: 'first-fit' })! >= 1);
  // The controllers' queues, by controller.
  for (const name of ['scheduler', 'node', 'health']) {
    t.true(value(after, 'workqueue_adds_total', { name })! >= 1, name);
    t.true(value(after, 'workqueue_work_duration_seconds_count', { name })! >= 1, name);
    t.true(value(after, 'workqueue_depth', { name })! >= 0, name);
  }
  // The store.
  const revision = await cp.store.currentRevision();
  t.true(value(after, 'kcs_store_revision')! > value(before, 'kcs_store_revision')!);
  t.true(value(after, 'kcs_store_revision')! <= revision, 'read before this revision was taken');
  t.is(value(after, 'kcs_store_objects', { resource: 'pods' }), 2);
  t.is(value(after, 'kcs_store_objects', { resource: 'nodes' }), 1);
  t.true(samples(after, 'kcs_store_write_duration_seconds_count').reduce((n, s) => n + s.value, 0) > 0);
  // The cluster now.
  t.is(value(after, 'kcs_nodes', { condition: 'Ready' }), 1);
  t.is(value(after, 'kcs_nodes', { condition: 'NotReady' }), 0);
  t.is(value(after, 'kcs_pods', { phase: 'Running' }), 1);
  t.is(value(after, 'kcs_pods', { phase: 'Pending' }), 1);
  const age = value(after, 'kcs_node_heartbeat_age_seconds', { node: 'n1' });
  t.true(age !== undefined && age >= 0 && age < 5, `n1's heartbeat is recent (${age} s)`);
  // The process, as prom-client names it.
  t.is(after.types.get('process_cpu_seconds_total'), 'counter');
  t.true(after.types.has('nodejs_eventloop_lag_seconds'));
});

test('an open watch is a long-running request until it ends, counted but not timed', async (t) => {
  const { cp, scrape } = await controlPlane(t);
  const open = () => scrape().then((e) => value(e, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'pods' }) ?? 0);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const res = await fetch(`${cp.url}${PODS}?watch=true`, { headers: { authorization: `Bearer ${cp.adminToken}` }, signal: abort.signal });
  t.is(res.status, 200);
  t.is(await open(), 1);
  abort.abort();
  await eventually('the watch to close', async () => (await open()) === 0);
  const e = await scrape();
  t.is(value(e, 'apiserver_request_total', { verb: 'WATCH', resource: 'pods', code: '200' }), 1);
  t.deepEqual(samples(e, 'apiserver_request_duration_seconds_count', { verb: 'WATCH' }), [], 'a watch lasts as long as its client wants: not a latency');
});

test('each control plane has its own metrics', async (t) => {
  const a = await controlPlane(t);
  const b = await controlPlane(t);
  await created(t, a.admin, NODES, node('only-in-a'));
  t.is(value(await a.scrape(), 'kcs_store_objects', { resource: 'nodes' }), 1);
  t.is(value(await b.scrape(), 'kcs_store_objects', { resource: 'nodes' }), 0);
});

// ---- on a fake clock ---------------------------------------------------------------

test('node conditions, pod phases and heartbeat ages are read from the cache at scrape time, ages on the API\'s clock', async (t) => {
  const clock = new FakeClock('2026-03-01T10:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'kcs-metrics-clock-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const metrics = new Metrics({ processMetrics: false });
  const { registry } = createApp({ store, authenticator: adminTokenAuthenticator('t'), clock, metrics });
  await registry.ready();
  const admin = new LocalClient(registry, { user: ADMIN_USER });
  const ready = (status: string) => ({ status: { conditions: [{ type: 'Ready', status }] } });
  for (const [name, status] of [['up', 'True'], ['down', 'False'], ['silent', 'Unknown']] as const) {
    await admin.create(NODE, undefined, node(name));
    await admin.patch(NODE, undefined, name, ready(status), { subresource: 'status' });
  }
  await admin.create(NODE, undefined, node('new'));
  const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, renewTime: rfc3339Micro(clock.now()) } });
  await admin.create(LEASE, 'kube-node-lease', lease('up'));
  await admin.create(LEASE, 'kube-node-lease', lease('gone'));
  await admin.create(POD, 'default', pod('waiting'));
  clock.advance(7_500);

  const e = parseExposition(await metrics.exposition());
  t.deepEqual(Object.fromEntries(samples(e, 'kcs_nodes').map((s) => [s.labels.condition, s.value])), { Ready: 1, NotReady: 1, Unknown: 2 }, 'a node without a Ready condition is Unknown, as kubectl says');
  t.deepEqual(samples(e, 'kcs_node_heartbeat_age_seconds'), [{ name: 'kcs_node_heartbeat_age_seconds', labels: { node: 'up' }, value: 7.5 }], 'a Lease without its Node is no heartbeat');
  t.is(value(e, 'kcs_pods', { phase: 'Pending' }), 1);
  t.is(value(e, 'kcs_pods', { phase: 'Running' }), 0);
  t.is(value(e, 'kcs_store_revision'), await store.currentRevision());
  t.false(e.types.has('process_cpu_seconds_total'), 'process metrics only when asked for');
});

test('a failover is timed from the node declared failed to the last of its pods bound again', async (t) => {
  const clock = new FakeClock();
  const dir = mkdtempSync(join(tmpdir(), 'kcs-metrics-failover-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const registry = new Registry(store);
  const admin = new LocalClient(registry, { user: ADMIN_USER });
  const nodes = new Informer<Node>(admin, NODE);
  const leases = new Informer<Lease>(admin, LEASE, { namespace: 'kube-node-lease' });
  const pods = new Informer<Pod>(admin, POD);
  t.teardown(async () => { nodes.stop(); leases.stop(); pods.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  for (const name of ['n1', 'n2']) {
    await admin.create(NODE, undefined, node(name));
    await admin.patch(NODE, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  }
  await admin.create(LEASE, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { renewTime: rfc3339Micro(clock.now()) } });
  for (const name of ['a', 'b']) {
    await admin.create(POD, 'default', pod(name));
    await registry.bind('default', name, 'n1', undefined);
  }
  await Promise.all([nodes.start(), leases.start(), pods.start()]);
  const metrics = new Metrics({ processMetrics: false });
  const health = new HealthController({ client: admin, nodes, leases, pods, graceMs: 3000, clock, metrics });
  t.teardown(() => health.stop());
  const failovers = async () => {
    const e = parseExposition(await metrics.exposition());
    return { count: value(e, 'kcs_node_failover_duration_seconds_count'), sum: value(e, 'kcs_node_failover_duration_seconds_sum') };
  };

  clock.advance(3001);
  await health.reconcile('n1');
  await eventually('both pods unbound, as the informer sees them', () => ['default/a', 'default/b'].every((k) => pods.get(k) && !pods.get(k)!.spec.nodeName));
  clock.advance(1000);
  await registry.bind('default', 'a', 'n2', undefined);
  await eventually('a bound again', () => pods.get('default/a')?.spec.nodeName === 'n2');
  t.deepEqual(await failovers(), { count: 0, sum: 0 }, 'b still waits');
  clock.advance(1500);
  await registry.bind('default', 'b', 'n2', undefined);
  await eventually('b bound again', () => pods.get('default/b')?.spec.nodeName === 'n2');
  t.deepEqual(await failovers(), { count: 1, sum: 2.5 }, 'declared at once; the last pod bound 2.5 s later');
});
