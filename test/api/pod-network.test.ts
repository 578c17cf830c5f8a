// Pod addresses: every Node gets its own /24 of 127.64.0.0/10 when it is
// created (also when many are created at once), kept across updates and
// given back when it is deleted; a pod on a node gets an address of it
// from the node's agent, and loses it when it leaves the node.
import test from 'ava';
import { NodeAgent } from '../../src/agent/agent.ts';
import { PodAddresses } from '../../src/agent/pod-addresses.ts';
import { Client } from '../../src/client/http.ts';
import { hostIn } from '../../src/objects/pod-network.ts';
import { DEFAULT_NETWORKS } from '../../src/objects/cluster-networks.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { unbound } from '../../src/objects/unbinding.ts';
import { createAll, node, nodePath, NODES, openControlPlane, pod, PODS, tempStateDir, withApp } from './helpers.ts';
import { eventually } from '../support/eventually.ts';

const podCidrAt = (i: number) => DEFAULT_NETWORKS.pods.cidrAt(i);
const podCidrIndex = (cidr: string) => DEFAULT_NETWORKS.pods.indexOf(cidr);

test('the pod network is cut into /24s of 127.64.0.0/10, and nothing outside it is one', (t) => {
  t.is(DEFAULT_NETWORKS.pods.count, 1 << 14);
  t.is(podCidrAt(0), '127.64.0.0/24');
  t.is(podCidrAt(257), '127.65.1.0/24');
  t.is(podCidrAt((1 << 14) - 1), '127.127.255.0/24');
  t.is(podCidrIndex('127.65.1.0/24'), 257);
  for (const bad of ['10.0.0.0/24', '127.63.0.0/24', '127.128.0.0/24', '127.64.0.0/16', '127.64.0.5/24']) t.is(podCidrIndex(bad), undefined, bad);
  t.is(hostIn('127.64.3.0/24', '127.64.3.7'), 7);
  t.is(hostIn('127.64.3.0/24', '127.64.4.7'), undefined);
  t.is(hostIn('127.64.3.0/24', '127.64.3.255'), undefined);
});

test('a node\'s pods get the lowest free addresses, keep them, adopt the ones they report, and free them', (t) => {
  const a = new PodAddresses();
  const p = (uid: string, podIP?: string) => ({ apiVersion: 'v1', kind: 'Pod' as const, metadata: { name: uid, uid }, spec: { containers: [] }, status: podIP ? { podIP } : {} });
  t.is(a.addressOf(p('x')), undefined, 'no range, no address');
  a.setRange('127.64.9.0/24');
  t.is(a.addressOf(p('u1')), '127.64.9.1');
  t.is(a.addressOf(p('u2', '127.64.9.40')), '127.64.9.40', 'a restarted agent adopts what its pod reports');
  t.is(a.addressOf(p('u3', '127.64.8.40')), '127.64.9.2', 'an address of another node is not adopted');
  t.is(a.addressOf(p('u1')), '127.64.9.1', 'kept');
  a.release('u1');
  t.is(a.addressOf(p('u4')), '127.64.9.1', 'freed, then given again');
});

test('Nodes created at once each get a /24 of their own; asked-for, taken and changed ranges are refused', withApp, async (t, api) => {
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) => api.post(NODES, node(`n${i}`))));
  const cidrs = made.map((r) => r.body.spec.podCIDR);
  t.is(new Set(cidrs).size, 40);
  for (const c of cidrs) t.not(podCidrIndex(c), undefined, c);
  const taken = await api.post(NODES, node('dup', { spec: { podCIDR: cidrs[0] } }));
  t.is(taken.status, 422);
  t.regex(taken.text, /spec\.podCIDR.*already allocated/);
  const outside = await api.post(NODES, node('out', { spec: { podCIDR: '10.1.0.0/24' } }));
  t.is(outside.status, 422);
  t.regex(outside.text, /loopback/);
  const changed = await api.patch(nodePath('n0'), { spec: { podCIDR: '127.90.0.0/24' } });
  t.is(changed.status, 422);
  t.regex(changed.text, /immutable/);
  // An update that leaves it out keeps it.
  const current = (await api.get(nodePath('n1'))).body;
  const kept = await api.put(nodePath('n1'), { ...current, spec: { capacity: current.spec.capacity, unschedulable: true } });
  t.is(kept.status, 200, kept.text);
  t.is(kept.body.spec.podCIDR, cidrs[1]);
  // Deleted, its range is free again: the next Node may have it.
  t.is((await api.delete(nodePath('n0'))).status, 200);
  t.is((await api.post(NODES, node('again'))).body.spec.podCIDR, cidrs[0]);
});

test('a pod on a node gets an address of the node\'s range from its agent, and loses it when unbound', async (t) => {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')], [PODS, pod('web', { spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx' }] } })]]);
  const cidr = (await admin.get(nodePath('n1'))).body.spec.podCIDR;
  const client = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  const agent = new NodeAgent({ client, nodeName: 'n1', clock: new FakeClock(), heartbeatMs: 1000 });
  t.teardown(() => { agent.stop(); client.close(); });
  await agent.start();
  const running = await eventually('web Running with an address', async () => {
    const p = (await admin.get(`${PODS}/web`)).body;
    return p.status?.podIP ? p : undefined;
  });
  t.is(hostIn(cidr, running.status.podIP), 1);
  t.deepEqual(running.status.podIPs, [{ ip: running.status.podIP }]);
  t.is(running.status.hostIP, '127.0.0.1');
  // Unbound (drain, failover), it leaves its address with the node.
  const { status } = unbound(running, 'n1 was drained');
  t.is(status?.podIP, undefined);
  t.is(status?.podIPs, undefined);
  t.is(status?.startTime, undefined);
});
