// What a node agent reports as its pods' usage: each container's kcs.io/usage
// profile computed on the agent's (injected) clock from when the node
// started the pod, sent each heartbeat over HTTP with its node token, and
// served back by metrics.k8s.io.
import test from 'ava';
import { NodeAgent } from '../../src/agent/agent.ts';
import { Client } from '../../src/client/http.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { createAll, node, NODES, openControlPlane, pod, PODS, tempStateDir } from '../api/helpers.ts';
import { eventually } from '../support/eventually.ts';

const HEARTBEAT_MS = 1000;

test('usage follows each container\'s profile on the agent\'s clock, from when its node started it, and reaches metrics.k8s.io', async (t) => {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')], [PODS, pod('wave', {
    metadata: { annotations: { 'kcs.io/usage': '{cpu: sine min=100m max=500m period=60s, memory: ramp from=100Mi to=200Mi over=100s}' } },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '1', memory: '512Mi' } } }] },
  })]]);
  const clock = new FakeClock('2026-06-01T00:00:00Z');
  const client = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  const agent = new NodeAgent({ client, nodeName: 'n1', clock, heartbeatMs: HEARTBEAT_MS });
  t.teardown(() => { agent.stop(); client.close(); });
  await agent.start();
  // Running on n1 since the agent's now: the profile's time zero.
  await eventually('the pod Running with its startTime', async () => (await admin.get(`${PODS}/wave`)).body.status?.startTime === '2026-06-01T00:00:00Z');
  const usageAt = async () => {
    await eventually('the pod known Running to the agent', () => agent.hostedPods().some((p) => p.status?.phase === 'Running'));
    return agent.usageReport().pods[0]!.containers[0]!;
  };
  t.deepEqual(await usageAt(), { name: 'app', milliCpu: 100, memory: 100 * 2 ** 20 });
  clock.advance(15_000); // a quarter period: half-way up the sine; 15% of the ramp
  t.deepEqual(await usageAt(), { name: 'app', milliCpu: 300, memory: Math.round(115 * 2 ** 20) });
  clock.advance(15_000); // half a period: the top
  t.deepEqual(await usageAt(), { name: 'app', milliCpu: 500, memory: 130 * 2 ** 20 });
  clock.advance(75_000); // past the ramp's end: held at its last value
  t.like(await usageAt(), { memory: 200 * 2 ** 20 });

  // The heartbeats carried it to the API, as the node's own report.
  const served = await eventually('the latest report in metrics.k8s.io', async () => {
    const r = await admin.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/wave');
    return r.status === 200 && r.body.containers[0].usage.memory === `${200 * 1024}Ki` ? r.body : undefined;
  });
  t.is(served.window, '1s');
  const n = await admin.get('/apis/metrics.k8s.io/v1beta1/nodes/n1');
  t.is(n.body.usage.memory, `${200 * 1024}Ki`, 'the node: the sum of its pods');
});
