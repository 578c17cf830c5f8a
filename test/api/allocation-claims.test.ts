// Two API servers on one etcd never hand out one pod range or one cluster
// IP twice: each server's allocator decides from what it knows, which lags
// the other's writes, and the claim written with the object settles it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { ApiError } from '../../src/api/errors.ts';
import type { KcsClient } from '../../src/client/interface.ts';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Service } from '../../src/objects/services.ts';
import type { Node, Status } from '../../src/objects/types.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';

const NODE = kindByName('Node')!;
const SERVICE = kindByName('Service')!;
const etcd = sharedEtcd();

async function server(t: ExecutionContext): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-claims-'));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, leaderElection: false, log: () => {} });
  t.teardown(async () => { await cp.close(); rmSync(dir, { recursive: true, force: true }); });
  return cp;
}

const node = (name: string, podCIDR?: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '1' }, ...(podCIDR ? { podCIDR } : {}) } });
const service = (name: string, clusterIP?: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}) } });
/** The Status a write was refused with (the in-process client throws the server's ApiError). */
const refusal = async (write: Promise<unknown>): Promise<Status | undefined> => write.then(() => undefined, (err: ApiError) => err.toStatus());

/** Both servers up; the second started before the first writes anything, so its allocators know none of it. */
async function twoServers(t: ExecutionContext): Promise<[KcsClient, KcsClient]> {
  const [a, b] = await Promise.all([server(t), server(t)]);
  return [a.adminClient(), b.adminClient()];
}

etcdTest('Nodes created through either server get distinct pod ranges', async (t) => {
  const [a, b] = await twoServers(t);
  for (let i = 0; i < 6; i++) await a.create(NODE, undefined, node(`a${i}`));
  // b's allocator starts at the first /24 it knows free, which a gave out already; then both create 20 at once.
  await Promise.all(Array.from({ length: 20 }, (_, i) => Promise.all([a.create(NODE, undefined, node(`x${i}`)), b.create(NODE, undefined, node(`y${i}`))])));
  const ranges = (await a.list<Node>(NODE)).items.map((n) => n.spec.podCIDR);
  t.is(ranges.length, 46);
  t.is(new Set(ranges).size, 46, `one range each: ${ranges.join(' ')}`);

  // One a Node holds, asked for through the other server: refused as Kubernetes' IPAM would.
  const held = (await a.get<Node>(NODE, undefined, 'a0')).spec.podCIDR as string;
  const refused = await refusal(b.create(NODE, undefined, node('wants-a0s', held)));
  t.is(refused?.code, 422);
  t.is(refused?.details?.causes?.[0]?.field, 'spec.podCIDR');
  t.regex(refused?.message ?? '', /already allocated to another node/);
  // Once the holder is gone, its claim is stale: the range can be had.
  await a.delete(NODE, undefined, 'a0');
  t.is((await b.create<Node>(NODE, undefined, node('wants-a0s', held))).body.spec.podCIDR, held);
});

etcdTest('Nodes created in commits through both servers at once get distinct pod ranges (a commit that lost one is a 409 to retry)', async (t) => {
  const [a, b] = await twoServers(t);
  let retries = 0;
  /** As a NodePool's scaler does: a commit of a few Nodes, sent again after a 409. */
  const commitNodes = async (client: KcsClient, names: string[]) => {
    for (;;) {
      try {
        return await client.commit(names.map((name) => ({ verb: 'create' as const, kind: NODE, object: node(name) })));
      } catch (err) {
        if ((err as ApiError).code !== 409) throw err;
        retries++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, i) => [commitNodes(a, [`a${i}-0`, `a${i}-1`]), commitNodes(b, [`b${i}-0`, `b${i}-1`])]).flat());
  // The etcd is the file's: the Nodes of the test before are there too, and count.
  const nodes = (await a.list<Node>(NODE)).items;
  t.is(nodes.filter((n) => /^[ab]\d-\d$/.test(n.metadata.name!)).length, 32);
  const ranges = nodes.map((n) => n.spec.podCIDR);
  t.is(new Set(ranges).size, nodes.length, `one range each: ${ranges.join(' ')}`);
  t.log(`${retries} commits sent again after losing a range`);
});

etcdTest('Services created at once through both servers get distinct cluster IPs', async (t) => {
  const [a, b] = await twoServers(t);
  const made = await Promise.all(Array.from({ length: 10 }, (_, i) => [a.create<Service>(SERVICE, 'default', service(`a${i}`)), b.create<Service>(SERVICE, 'default', service(`b${i}`))]).flat());
  const ips = made.map((r) => r.body.spec.clusterIP);
  t.is(new Set(ips).size, 20, `one address each: ${ips.join(' ')}`);

  const refused = await refusal(b.create(SERVICE, 'default', service('copy', ips[0])));
  t.is(refused?.code, 422);
  t.is(refused?.details?.causes?.[0]?.field, 'spec.clusterIP');
  t.regex(refused?.message ?? '', /provided IP is already allocated/);
});
