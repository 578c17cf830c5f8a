// Pods that answer: once its node's agent reports a pod Ready, each of its
// TCP containerPorts is a real HTTP listener on the pod's loopback address,
// answering with the pod, container and node; with its service time (on the
// agent's injected clock) and its concurrency (the others wait their turn);
// and a pod that stops being Ready, or leaves, stops answering.
import test from 'ava';
import { request } from 'node:http';
import { NodeAgent } from '../../src/agent/agent.ts';
import { Client } from '../../src/client/http.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { WatchEvent } from '../../src/objects/types.ts';
import { createAll, node, NODES, openControlPlane, pod, PODS, tempStateDir } from '../api/helpers.ts';
import { eventually } from '../support/eventually.ts';

function get(ip: string, port: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ip, port, path: '/hello', agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    r.on('error', reject);
    r.end();
  });
}

test('a Ready pod answers on its address and ports, one request at a time at concurrency 1, each after its service time', async (t) => {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')], [PODS, pod('web', {
    metadata: { annotations: { 'kcs.io/service-time': '100ms', 'kcs.io/concurrency': '1' } },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 18500, name: 'http' }] }] },
  })]]);
  const clock = new FakeClock();
  const client = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  const agent = new NodeAgent({ client, nodeName: 'n1', clock, heartbeatMs: 1000 });
  t.teardown(() => { agent.stop(); client.close(); });
  await agent.start();
  const ip = await eventually('web listening', async () => {
    const p = (await admin.get(`${PODS}/web`)).body;
    return p.status?.podIP && agent.servers.addresses().includes(`${p.status.podIP}:18500`) ? p.status.podIP as string : undefined;
  });

  const first = get(ip, 18500);
  const second = get(ip, 18500);
  let done = 0;
  void first.then(() => done++);
  void second.then(() => done++);
  await eventually('both requests arrived', () => agent.servers['listeners'].get(`${ip}:18500`)!.waiting.length === 1);
  clock.advance(100);
  const a = await first;
  t.is(done, 1, 'the second waits while the first is served');
  t.like(a, { status: 200, body: { pod: 'default/web', node: 'n1', container: 'app', ip, port: 18500, path: '/hello' } });
  await eventually('the second started', () => agent.servers['listeners'].get(`${ip}:18500`)!.active === 1);
  clock.advance(100);
  t.is((await second).body.served, 2);

  // Made unhealthy, it is not Ready at the next health check: it stops answering.
  await admin.patch(`${PODS}/web`, { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } });
  clock.advance(1000);
  await eventually('web no longer listening', () => agent.servers.addresses().length === 0);
  await t.throwsAsync(get(ip, 18500), { code: 'ECONNREFUSED' });
});

test('a pod answers from the moment the API says it is Ready, before the agent\'s own watch brings that write back', async (t) => {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')]]);
  const http = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  // The agent's client, with its pod watch's MODIFIED events held back while `holding`: the agent
  // learns of the pod, but not of its own status write.
  let holding = true;
  const held: Array<() => void> = [];
  const client = new Proxy(http, {
    get(target, prop) {
      if (prop === 'watch') {
        return (kind: { kind: string }, ns: string | undefined, opts: unknown, onEvent: (e: WatchEvent) => void) =>
          target.watch(kind as never, ns, opts as never, (e) => {
            if (kind.kind === 'Pod' && e.type === 'MODIFIED' && holding) held.push(() => onEvent(e));
            else onEvent(e);
          });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const agent = new NodeAgent({ client, nodeName: 'n1', clock: new FakeClock(), heartbeatMs: 1000 });
  t.teardown(() => { agent.stop(); http.close(); });
  await agent.start();
  await createAll(t, admin, [[PODS, pod('web', { spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 18501 }] }] } })]]);

  const ip = await eventually('web Ready in the API', async () => {
    const p = (await admin.get(`${PODS}/web`)).body;
    return p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? p.status.podIP as string : undefined;
  });
  t.true(held.length > 0, 'the agent has not seen its own write');
  t.like(await get(ip, 18501), { status: 200, body: { pod: 'default/web', ip } }, 'yet the pod answers');
  holding = false;
  for (const deliver of held.splice(0)) deliver();
  t.like(await get(ip, 18501), { status: 200, body: { pod: 'default/web' } }, 'and goes on answering once it has');
});
