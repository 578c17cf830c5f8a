// Network policies on real traffic: requests to a Service's cluster IP from
// a pod's address and from the host go through the service proxy, which
// hands a connection to a pod only if the policies allow it (the same
// decide() that `kcs netpol check` prints), and counts what it denies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { decide, type NetworkPolicy } from '../../src/objects/network-policy.ts';
import type { KubeObject, Namespace, Pod } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { eventually } from '../support/eventually.ts';

const K = (kind: string) => kindByName(kind)!;

function call(ip: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ip, port, agent: false, timeout: 3000, ...(localAddress ? { localAddress } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-kcs-pod'])));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end();
  });
}
const reaches = (ip: string, port: number, from?: string) => call(ip, port, from).then(() => true, () => false);

/** A control plane with virtual nodes in this process (their pods listen here) and node n1. */
async function cluster(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-netpol-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500 });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const c = cp.adminClient();
  await c.create(K('Node'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '8' } } });
  return { cp, c, runtime };
}

test('the service proxy lets through only what the policies allow, from a pod\'s address and from the host, as decide() says', async (t) => {
  const { cp, c } = await cluster(t);
  const pod = (name: string, labels: Record<string, string>, ports: unknown[] = []) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'app', ports }] },
  });
  await c.create(K('Pod'), 'default', pod('web', { app: 'web' }, [{ containerPort: 18200, name: 'http' }]));
  await c.create(K('Pod'), 'default', pod('client', { role: 'client' }));
  await c.create(K('Pod'), 'default', pod('other', { role: 'other' }));
  const svc = (await c.create<KubeObject & { spec: { clusterIP: string } }>(K('Service'), 'default', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 18201, targetPort: 'http' }] },
  })).body;
  const ip = svc.spec.clusterIP;
  const ipOf = async (name: string) => eventually(`${name} has an address`, async () => (await c.get<Pod>(K('Pod'), 'default', name)).status?.podIP);
  const [clientIp, otherIp, webIp] = [await ipOf('client'), await ipOf('other'), await ipOf('web')];
  await eventually('the Service answers', () => reaches(ip, 18201));
  t.true(await reaches(ip, 18201, clientIp), 'no policy: everyone');

  const apply = (policy: unknown) => c.create(K('NetworkPolicy'), 'default', policy);
  // Only pods with role=client may reach web.
  await apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-clients' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] } });
  await eventually('the policy in effect', async () => !(await reaches(ip, 18201, otherIp)));
  const denied = cp.controllers!.serviceProxy.stats.denied;
  t.true(await reaches(ip, 18201, clientIp), 'client: allowed');
  t.false(await reaches(ip, 18201, otherIp), 'other pod: denied');
  t.false(await reaches(ip, 18201), 'the host (not a pod): denied');
  t.true(cp.controllers!.serviceProxy.stats.denied >= denied + 2, 'each denial counted');

  // What decide() says for the same connections is what the traffic did.
  const world = { policies: (await c.list<NetworkPolicy>(K('NetworkPolicy'))).items, namespaces: (await c.list<Namespace>(K('Namespace'))).items };
  const web = await c.get<Pod>(K('Pod'), 'default', 'web');
  const from = async (name: string) => ({ ip: name === 'host' ? '127.0.0.1' : (await c.get<Pod>(K('Pod'), 'default', name)).status!.podIP!, pod: name === 'host' ? undefined : await c.get<Pod>(K('Pod'), 'default', name), namespace: name === 'host' ? undefined : 'default' });
  for (const [name, expected] of [['client', true], ['other', false], ['host', false]] as const) {
    t.is(decide({ from: await from(name), to: { ip: webIp, pod: web, namespace: 'default' }, port: 18200 }, world).allowed, expected, name);
  }

  // An ipBlock for the host adds to it: policies add up.
  await apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-host' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.1/32' } }], ports: [{ port: 'http' }] }] } });
  await eventually('the host allowed again', () => reaches(ip, 18201));
  t.false(await reaches(ip, 18201, otherIp), 'other pod: still denied');
});

test('a pod\'s own listener refuses a direct caller the policies deny (asked of the API by its node), and serves one they allow', async (t) => {
  const { cp, c, runtime } = await cluster(t);
  for (const [name, labels, ports] of [['db', { app: 'db' }, [{ containerPort: 18300 }]], ['api', { role: 'api' }, []], ['batch', { role: 'batch' }, []]] as const) {
    await c.create(K('Pod'), 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'app', ports }] } });
  }
  const ipOf = async (name: string) => eventually(`${name} has an address`, async () => (await c.get<Pod>(K('Pod'), 'default', name)).status?.podIP);
  const [dbIp, apiIp, batchIp] = [await ipOf('db'), await ipOf('api'), await ipOf('batch')];
  await eventually('db answers', () => reaches(dbIp, 18300, apiIp));
  await c.create(K('NetworkPolicy'), 'default', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'db-from-api' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }], ports: [{ port: 18300 }] }] } });
  // Verdicts are kept a second: the next one after that follows the policy.
  await eventually('batch refused by db itself', async () => !(await reaches(dbIp, 18300, batchIp)), 10_000);
  t.true(await reaches(dbIp, 18300, apiIp), 'api: allowed');
  t.false(await reaches(dbIp, 18300, batchIp), 'batch: refused');
  const agent = (runtime as unknown as { machines: Map<string, { agent: { servers: { stats: { denied: number } } } }> }).machines.get('n1')!.agent;
  t.true(agent.servers.stats.denied >= 1, 'counted by the listener');
});

test('a pod\'s own calls (kcs.io/calls) are judged as that pod\'s: an egress policy stops them at the proxy, counted on both sides', async (t) => {
  const { cp, c } = await cluster(t);
  await c.create(K('Pod'), 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shop', labels: { app: 'shop' } }, spec: { containers: [{ name: 'app', ports: [{ containerPort: 18210 }] }] } });
  await c.create(K('Service'), 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop' }, spec: { selector: { app: 'shop' }, ports: [{ port: 18211, targetPort: 18210 }] } });
  await c.create(K('Pod'), 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'buyer', labels: { role: 'buyer' }, annotations: { 'kcs.io/calls': 'shop 20/s' } }, spec: { containers: [{ name: 'app' }] } });
  interface Call { sent: number; answered: number; errors: Record<string, number> }
  // What the buyer's node last reported (the API serves it as PodCalls).
  const callOf = async (): Promise<Call | undefined> => cp.usage.pod('default', 'buyer', 'n1')?.calls?.[0];
  const failed = (call: Call) => Object.values(call.errors).reduce((a, b) => a + b, 0);
  await eventually('the buyer\'s calls answered', async () => ((await callOf())?.answered ?? 0) >= 5);

  const denied = cp.controllers!.serviceProxy.stats.denied;
  // Calls made before the endpoints were ready may have failed already: only failures after this count.
  const before = failed((await callOf())!);
  await c.create(K('NetworkPolicy'), 'default', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'buyers-send-nothing' }, spec: { podSelector: { matchLabels: { role: 'buyer' } }, policyTypes: ['Egress'] } });
  // The policy in effect: calls fail. A second later (20 more failed at 20/s) any call answered before it has landed.
  const settled = await eventually('the buyer\'s calls failing for a second', async () => {
    const call = await callOf();
    return call && failed(call) >= before + 20 ? call : undefined;
  });
  const later = await eventually('ten more failed', async () => {
    const call = await callOf();
    return call && failed(call) >= failed(settled) + 10 ? call : undefined;
  });
  t.is(later.answered, settled.answered, 'no call answered once the policy stopped them');
  t.true(cp.controllers!.serviceProxy.stats.denied - denied >= 30, 'each refused by the proxy and counted there');
});
