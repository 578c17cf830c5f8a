// Services over real pods on Docker nodes: three pods on two nodes answer
// on their loopback addresses; requests to the Service's cluster IP reach
// all three, round-robin. When one node's container is killed, its pods'
// endpoints go not-ready once it is declared failed (and they move to the
// other node, with new addresses), and from then on no request goes to
// the dead addresses; connections refused in between are counted by the
// proxy and retried on another endpoint, so the caller sees few errors.
import test from 'ava';
import { request } from 'node:http';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { eventually } from '../support/eventually.ts';
import { dockerCluster, dockerOrSkip, NODE, nodeManifest } from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const POD = kindByName('Pod')!;
const SERVICE = kindByName('Service')!;
const SLICE = kindByName('EndpointSlice')!;
type Slice = KubeObject & { endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }> };

const webPod = (name: string, node: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
  spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 18092, name: 'http' }], resources: { requests: { cpu: '100m' } } }] },
});

/** One request through the Service: the pod that answered, and the address it answered on. */
function call(ip: string, port: number): Promise<{ pod: string; ip: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ip, port, agent: false, timeout: 3000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end();
  });
}
const get = async (ip: string, port: number) => (await call(ip, port)).pod;

dockerTest('a Service over 3 pods on 2 Docker nodes balances round-robin, and stops sending to a killed node\'s pods once its endpoints update', async (t) => {
  t.timeout(120_000);
  const c = await dockerCluster(t);
  for (const n of ['a', 'b']) await c.client.create<Node>(NODE, undefined, nodeManifest(n, { cpu: '2', memory: '256Mi' }));
  await c.readyNode('a');
  await c.readyNode('b');
  // No restart of a's container after the kill: the test watches the outage itself.
  await c.client.patch(NODE, undefined, 'a', { metadata: { annotations: { 'kcs.io/remediation': 'off' } } });
  for (const [name, node] of [['web-1', 'a'], ['web-2', 'a'], ['web-3', 'b']] as const) await c.client.create(POD, 'default', webPod(name, node));
  // A pod that calls the same pods itself, through a Service of its own (the round-robin below
  // counts this test's requests alone): its node's agent, in b's container, makes the calls.
  await c.client.create(SERVICE, 'default', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-for-buyer' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 18091, targetPort: 'http' }] },
  });
  await c.client.create(POD, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'buyer', annotations: { 'kcs.io/calls': 'web-for-buyer:http 10/s' } },
    spec: { nodeName: 'b', containers: [{ name: 'app', image: 'curl', resources: { requests: { cpu: '10m' } } }] },
  });
  const svc = (await c.client.create<KubeObject & { spec: { clusterIP: string } }>(SERVICE, 'default', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 18090, targetPort: 'http' }] },
  })).body;
  const ip = svc.spec.clusterIP;
  t.regex(ip, /^127\./);
  await eventually('3 ready endpoints', async () => {
    const slices = (await c.client.list<Slice>(SLICE, 'default', { labelSelector: 'kubernetes.io/service-name=web' })).items;
    return slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length === 3;
  }, 30_000);
  await eventually('the proxy answering on the cluster IP', async () => get(ip, 18090).then(() => true, () => false));

  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await get(ip, 18090));
  t.deepEqual([...seen].sort(), ['default/web-1', 'default/web-1', 'default/web-2', 'default/web-2', 'default/web-3', 'default/web-3'], 'each pod twice');
  t.is(new Set(seen.slice(0, 3)).size, 3, 'round-robin: three different pods in a row');
  const calls = await eventually('the buyer\'s calls answered by all three', () => {
    const call = c.cp.usage.pod('default', 'buyer', 'b')?.calls?.[0];
    return call && ['web-1', 'web-2', 'web-3'].every((p) => (call.byPod[`default/${p}`] ?? 0) > 0) ? call : undefined;
  }, 30_000);
  t.is(calls.call, 'web-for-buyer:http 10/s');

  const proxy = c.cp.controllers!.serviceProxy;
  const refusedBefore = proxy.stats.refused;
  // The addresses a's pods answer on now: once a is found failed they are ready no more (its pods move to b, with new addresses).
  const deadIps = new Set((await c.client.list<Pod>(POD, 'default')).items.filter((p) => p.spec.nodeName === 'a').map((p) => p.status!.podIP!));
  t.is(deadIps.size, 2);
  const nodeA = await c.client.get<Node>(NODE, undefined, 'a');
  await c.runtime.docker.getContainer(nodeA.status!.containerID!.replace('docker://', '')).kill();
  // Requests keep coming while the node is found failed and the endpoints updated.
  let errors = 0;
  let sent = 0;
  let updated = false;
  const stopAt = Date.now() + 30_000;
  while (!updated && Date.now() < stopAt) {
    sent++;
    await get(ip, 18090).catch(() => errors++);
    const slices = (await c.client.list<Slice>(SLICE, 'default', { labelSelector: 'kubernetes.io/service-name=web' })).items;
    updated = !slices.flatMap((s) => s.endpoints ?? []).some((e) => e.conditions?.ready && e.addresses.some((a) => deadIps.has(a)));
    await new Promise((r) => setTimeout(r, 50));
  }
  t.true(updated, 'the endpoints of a\'s pods went not-ready');
  const after: Array<{ pod: string; ip: string }> = [];
  for (let i = 0; i < 10; i++) after.push(await call(ip, 18090));
  t.false(after.some((a) => deadIps.has(a.ip)), 'after the update, no request goes to the dead node\'s pods');
  t.true(proxy.stats.refused > refusedBefore, 'connections a\'s dead pods refused were counted by the proxy');
  t.true(errors <= Math.ceil(sent * 0.05), `few errors reached the caller: ${errors} of ${sent}`);
  t.log(`kill → endpoints updated: ${sent} requests, ${errors} errors, ${proxy.stats.refused - refusedBefore} refused and retried`);
});
