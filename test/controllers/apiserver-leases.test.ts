// API servers sharing one etcd each keep a Lease saying where they are;
// node agents are given every live server and move to another when theirs
// goes away, and a new leader keeps the machines the old one started
// (one pool of machines shared by both, as a Docker daemon is), replacing
// only a machine whose agent knows no live server, and takes over the
// service proxy's cluster IPs.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { APISERVER_IDENTITY, APISERVER_IDENTITY_LABEL, APISERVER_URL_ANNOTATION, unexpiredApiServers } from '../../src/controllers/apiserver-leases.ts';
import { reachesAnApiServer } from '../../src/controllers/node.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Service } from '../../src/objects/services.ts';
import type { KubeObject, Node } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const SERVICE = kindByName('Service')!;
const LEASE = kindByName('Lease')!;
const EVENT = kindByName('Event')!;
const etcd = sharedEtcd();

test('an agent reaches the cluster while any server it was given is one of the cluster\'s', (t) => {
  t.true(reachesAnApiServer('https://a:1,https://b:2', ['https://b:2', 'https://c:3']));
  t.true(reachesAnApiServer('https://a:1', ['https://a:1']));
  t.false(reachesAnApiServer('https://a:1,https://b:2', ['https://c:3']));
});

/** A control plane on the shared etcd running its machines in runtime; closed once, by the test or at its end. */
async function controlPlane(t: ExecutionContext, runtime: VirtualRuntime): Promise<{ cp: ControlPlane; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-apiserver-leases-'));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 300, nodeGraceMs: 3_000, log: () => {} });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= cp.close());
  t.teardown(async () => { await close(); rmSync(dir, { recursive: true, force: true }); });
  return { cp, close };
}

/** Whether a GET to ip:port is answered (by a pod, through a proxy). */
const answers = (ip: string, port: number) => new Promise<boolean>((resolve) => {
  const req = request({ host: ip, port, agent: false, timeout: 2000 }, (res) => { res.resume(); res.on('end', () => resolve(true)); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => resolve(false));
  req.end();
});
const ready = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const events = async (cp: ControlPlane, reason: string) =>
  (await cp.adminClient().list<KubeObject & { reason?: string }>(EVENT, 'default')).items.filter((e) => e.reason === reason);

etcdTest('agents are given every API server and keep their machine when the server that started it goes away; the new leader takes over the cluster IPs', async (t) => {
  // One pool of machines both control planes manage (a Docker daemon's part); the agents talk HTTP.
  const machines = new VirtualRuntime({ transport: 'http' });
  t.teardown(() => machines.close());
  const first = await controlPlane(t, machines);
  const second = await controlPlane(t, machines);
  t.true(first.cp.leaderElector!.isLeader);

  const leases = await second.cp.adminClient().list(LEASE, 'kube-system', { labelSelector: `${APISERVER_IDENTITY_LABEL}=${APISERVER_IDENTITY}` });
  t.deepEqual(leases.items.map((l) => l.metadata.annotations?.[APISERVER_URL_ANNOTATION]).sort(), [first.cp.url, second.cp.url].sort(), 'each server\'s Lease names its URL');
  await eventually('the first to see the second', () => first.cp.apiServers().includes(second.cp.url), 10_000);
  t.deepEqual(first.cp.apiServers(), [first.cp.url, second.cp.url], 'its own first');

  const admin = second.cp.adminClient();
  await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '2' } } });
  await eventually('n1 Ready', async () => ready(await admin.get<Node>(NODE, undefined, 'n1')));
  const machine = (await machines.get('n1'))!;
  t.is(machine.server, `${first.cp.url},${second.cp.url}`, 'the agent was given both servers');
  // A Service, proxied by the leader only.
  await admin.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', ports: [{ containerPort: 18310, name: 'http' }] }] } });
  const svc = (await admin.create<Service>(SERVICE, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 18301, targetPort: 'http' }] } })).body;
  const address = `${svc.spec.clusterIP}:18301`;
  await eventually('the Service answering through the leader\'s proxy', () => answers(svc.spec.clusterIP!, 18301));
  t.deepEqual(first.cp.controllers!.serviceProxy.addresses(), [address]);
  t.is(second.cp.controllers, undefined, 'the standby proxies nothing');

  await first.close();
  await eventually('the second to lead', () => second.cp.leaderElector!.isLeader);
  await eventually('the second to run the controllers', () => second.cp.controllers);
  // The new leader takes over the cluster IPs.
  await eventually('the Service answering through the new leader\'s proxy', () => answers(svc.spec.clusterIP!, 18301));
  t.deepEqual(second.cp.controllers!.serviceProxy.addresses(), [address]);
  // The agent, whose first server is gone, heartbeats through the second: n1 stays Ready past a grace.
  const heartbeat = async () => (await admin.get<KubeObject & { spec?: { renewTime?: string } }>(LEASE, 'kube-node-lease', 'n1')).spec?.renewTime;
  const before = await heartbeat();
  await eventually('n1\'s heartbeat through the second server', async () => (await heartbeat()) !== before);
  t.true(ready(await admin.get<Node>(NODE, undefined, 'n1')));
  await eventually('the second to drop the first from its servers', () => !second.cp.apiServers().includes(first.cp.url));
  // The node controller, reconciling n1 with only the second server live, keeps its machine.
  const runner = second.cp.controllers!.nodeRunner;
  const reconciled = runner.stats.reconciles;
  await admin.patch(NODE, undefined, 'n1', { metadata: { annotations: { touched: 'yes' } } });
  await eventually('the node controller to reconcile n1 again', () => runner.stats.reconciles > reconciled);
  const restarted = (await machines.get('n1'))!;
  t.is(restarted.id, machine.id, 'the same machine: not replaced because the server that started it went away');
  t.deepEqual((await events(second.cp, 'MachineReplaced')).length, 0);
});

test('from outside the cluster, a server runs while its Lease is unexpired by its own renewTime and duration; other Leases are not servers', (t) => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const lease = (url: string | undefined, renewTime: string, seconds = 20, identity = 'kcs-apiserver') => ({
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: `x${url}`, namespace: 'kube-system', labels: { 'apiserver.kubernetes.io/identity': identity }, annotations: (url ? { 'kcs.io/url': url } : {}) as Record<string, string> },
    spec: { leaseDurationSeconds: seconds, renewTime },
  });
  const live = unexpiredApiServers([
    lease('https://127.0.0.1:7443', '2026-01-01T00:00:55.000000Z'),
    lease('https://127.0.0.1:6443', '2026-01-01T00:00:41.000000Z'),
    lease('https://127.0.0.1:8443', '2026-01-01T00:00:40.000000Z', 20),
    lease('https://127.0.0.1:9443', '2026-01-01T00:00:00.000000Z', 90),
    lease(undefined, '2026-01-01T00:00:59.000000Z'),
    lease('https://127.0.0.1:5443', '2026-01-01T00:00:59.000000Z', 20, 'kube-apiserver'),
    lease('https://127.0.0.1:4443', 'not a time'),
  ], now);
  t.deepEqual(live, [
    { url: 'https://127.0.0.1:6443', renewedAgoMs: 19_000, expiresInMs: 1000 },
    { url: 'https://127.0.0.1:7443', renewedAgoMs: 5000, expiresInMs: 15_000 },
    { url: 'https://127.0.0.1:9443', renewedAgoMs: 60_000, expiresInMs: 30_000 },
  ], 'expired at exactly its end (8443), no URL, another identity, an unreadable time: none of them');
});
