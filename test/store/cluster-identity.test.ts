// API servers sharing one etcd share one cluster identity, kept in etcd:
// each has its own state directory, yet the admin token, a node's token and
// the CA of one are good on the others, and /version names one cluster. The
// first server publishes what its state directory already held (an
// existing cluster keeps its tokens); the API never serves the record.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { EtcdStore } from '../../src/store/etcd.ts';
import { CLUSTER_IDENTITY_KEY, CLUSTER_NETWORKS_KEY, NetworksDisagreeError, type ClusterIdentity } from '../../src/store/cluster-identity.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { requestWithCa } from '../support/https-request.ts';

const etcd = sharedEtcd();
/** Each test its own etcd prefix would be ideal; instead, each clears the record first (the tests are serial). */
async function clearIdentity(): Promise<void> {
  const store = await EtcdStore.open({ endpoints: [(await etcd()).endpoint] });
  try {
    for (const key of [CLUSTER_IDENTITY_KEY, CLUSTER_NETWORKS_KEY]) if (await store.get(key)) await store.delete(key);
  } finally {
    await store.close();
  }
}

function stateDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(t: ExecutionContext, dir: string, ranges: { clusterCidr?: string; serviceClusterIpRange?: string } = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, tls: true, leaderElection: false, log: () => {}, ...ranges });
  t.teardown(() => cp.close());
  return cp;
}

const get = (cp: ControlPlane, path: string, token: string, ca = cp.caPem) =>
  requestWithCa(cp.url + path, { ca, headers: { authorization: `Bearer ${token}` } });

etcdTest('a second API server adopts the first one\'s identity: tokens, node tokens and CA work on both', async (t) => {
  await clearIdentity();
  // The first server's state directory already holds a cluster (a single-server kcs up moving to etcd).
  const firstDir = stateDir(t);
  const before = await startControlPlane({ stateDir: firstDir, host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  const oldAdminToken = before.adminToken;
  await before.close();

  const first = await server(t, firstDir);
  t.is(first.adminToken, oldAdminToken, 'the first server publishes the tokens its state directory held');
  const second = await server(t, stateDir(t));

  t.is(second.adminToken, first.adminToken);
  t.is(second.controllerToken, first.controllerToken);
  t.is(second.metricsToken, first.metricsToken);
  t.is(second.caPem, first.caPem, 'one cluster CA');
  t.is(readFileSync(second.metricsTokenFile, 'utf8').trim(), first.metricsToken, 'Prometheus\'s token file holds the shared token');

  // The first's CA and admin token on the second (its own serving certificate, issued by the shared CA).
  const version = await get(second, '/version', first.adminToken, first.caPem);
  t.is(version.status, 200);
  t.is(JSON.parse(version.text).clusterId, JSON.parse((await get(first, '/version', first.adminToken)).text).clusterId, 'one cluster id');
  t.is((await get(second, '/api/v1/nodes', first.adminToken, first.caPem)).status, 200);

  // A node's token minted by one server authenticates on the other, as that node only.
  const created = await requestWithCa(first.url + '/api/v1/nodes', { ca: first.caPem, method: 'POST', headers: { authorization: `Bearer ${first.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '2' } } }) });
  t.is(created.status, 201, created.text);
  const nodeToken = first.nodeTokens.tokenFor('n1');
  t.is((await get(second, '/api/v1/nodes/n1', nodeToken)).status, 200, 'n1\'s token is good on the second server');
  t.is((await get(second, '/api/v1/namespaces/default/pods', nodeToken)).status, 403, 'and only as n1');
  t.is((await get(second, '/api/v1/nodes', 'kcs-node.n1.forged')).status, 401);
});

etcdTest('two servers started at once end up with one identity', async (t) => {
  await clearIdentity();
  const [a, b] = await Promise.all([server(t, stateDir(t)), server(t, stateDir(t))]);
  t.is(a.adminToken, b.adminToken);
  t.is(a.caPem, b.caPem);
  t.is(a.nodeTokens.tokenFor('x'), b.nodeTokens.tokenFor('x'));
});

etcdTest('the identity is kept outside what the API serves', async (t) => {
  await clearIdentity();
  const cp = await server(t, stateDir(t));
  const store = await EtcdStore.open({ endpoints: [(await etcd()).endpoint] });
  t.teardown(() => store.close());
  const kept = JSON.parse((await store.get(CLUSTER_IDENTITY_KEY))!.value) as ClusterIdentity;
  t.is(kept.adminToken, cp.adminToken);
  t.true(kept.caKey.includes('PRIVATE KEY'));
  // Lists and watches are served from the object cache, which keeps /registry/ keys only; a get's key is
  // /registry/{plural}/..., whatever the name: a name that climbs out of it is refused, and reads nothing.
  t.is(cp.registry.cache.current(CLUSTER_IDENTITY_KEY), undefined);
  const climbing = await get(cp, `/api/v1/nodes/${encodeURIComponent('../../kcs/cluster-identity')}`, cp.adminToken);
  t.true(climbing.status >= 400 && climbing.status < 500, `${climbing.status}`);
  t.false(climbing.text.includes(cp.controllerToken));
});

etcdTest('servers of one cluster hand out from the same ranges: one given others is refused, naming the flags, and stores nothing', async (t) => {
  await clearIdentity();
  const first = await server(t, stateDir(t), { clusterCidr: '127.128.0.0/10', serviceClusterIpRange: '127.33.0.0/16' });
  const same = await server(t, stateDir(t), { clusterCidr: '127.128.0.0/10', serviceClusterIpRange: '127.33.0.0/16' });
  t.is(same.adminToken, first.adminToken, 'given the same ranges: one cluster');
  const other = stateDir(t);
  const err = await t.throwsAsync(server(t, other, { serviceClusterIpRange: '127.33.0.0/16' }), { instanceOf: NetworksDisagreeError });
  t.regex(err!.message, /uses --cluster-cidr 127\.128\.0\.0\/10 \(this server was given 127\.64\.0\.0\/10\): give every server of one cluster the same ranges/);
  t.notRegex(err!.message, /service-cluster-ip-range/, 'only the range that differs is named');
  const store = await EtcdStore.open({ endpoints: [(await etcd()).endpoint] });
  t.teardown(() => store.close());
  t.deepEqual(JSON.parse((await store.get(CLUSTER_NETWORKS_KEY))!.value), { clusterCidr: '127.128.0.0/10', serviceCidr: '127.33.0.0/16' }, 'the first server\'s, unchanged');
  // The first keeps serving.
  const node = await get(first, '/api/v1/nodes', first.adminToken);
  t.is(node.status, 200);
});
