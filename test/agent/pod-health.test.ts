// The agent checking its pods' health against a real control plane, over
// HTTP with its node token, its heartbeats driven by a FakeClock: restarts
// with back-off, recovery, writes only on change, and what its token may
// write.
import test, { type ExecutionContext } from 'ava';
import { NodeAgent } from '../../src/agent/agent.ts';
import { Client } from '../../src/client/http.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { client, createAll, node, openControlPlane, pod, podPath, PODS, NODES, tempStateDir, type TestControlPlane } from '../api/helpers.ts';
import { eventually } from '../support/eventually.ts';

const HEARTBEAT_MS = 1000;

interface Fixture { admin: TestControlPlane; clock: FakeClock; agent: NodeAgent }

async function fixture(t: ExecutionContext): Promise<Fixture> {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')], [NODES, node('n2')]]);
  const clock = new FakeClock();
  const http = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  const agent = new NodeAgent({ client: http, nodeName: 'n1', clock, heartbeatMs: HEARTBEAT_MS, restartBackoff: { baseMs: 1000, maxMs: 30_000 } });
  t.teardown(() => { agent.stop(); http.close(); });
  await agent.start();
  return { admin, clock, agent };
}

const getPod = async (admin: TestControlPlane, name: string) => (await admin.get(podPath(name))).body;

/** Waits until the agent's own view of the pod is the stored version, so the next check works from it. */
async function agentSees(f: Fixture, name: string): Promise<any> {
  return eventually(`the agent to see the latest ${name}`, async () => {
    const stored = await getPod(f.admin, name);
    const seen = f.agent.hostedPods().find((p) => p.metadata.name === name);
    return seen?.metadata.resourceVersion === stored.metadata.resourceVersion ? stored : undefined;
  });
}

/** One heartbeat of the clock and the health check that follows it; returns the pod as it then is. */
async function beat(f: Fixture, name: string): Promise<any> {
  const checks = f.agent.stats.healthChecks;
  f.clock.advance(HEARTBEAT_MS);
  await eventually('the health check', async () => f.agent.stats.healthChecks > checks);
  return agentSees(f, name);
}

const container = (p: any) => p.status.containerStatuses[0];
const ready = (p: any) => p.status.conditions.find((c: any) => c.type === 'Ready');

test('an unhealthy pod is restarted at its heartbeats after 1, 2 s of back-off, writing only when its state changes', async (t) => {
  const f = await fixture(t);
  await createAll(t, f.admin, [[PODS, pod('web', { spec: { nodeName: 'n1' } })]]);
  const running = await eventually('web Running and Ready', async () => {
    const p = await getPod(f.admin, 'web');
    return p.status?.phase === 'Running' && ready(p)?.status === 'True' ? p : undefined;
  });
  t.like(container(running), { name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00.000Z' } } });
  await agentSees(f, 'web');
  const quiet = f.agent.stats.podStatusWrites;
  await beat(f, 'web');
  await beat(f, 'web');
  t.is(f.agent.stats.podStatusWrites, quiet, 'a healthy pod costs no write per heartbeat');

  t.is((await f.admin.patch(podPath('web'), { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } })).status, 200);
  await agentSees(f, 'web');
  let p = await beat(f, 'web'); // 00:00:03: fails
  t.like(container(p), { restartCount: 1, ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error', finishedAt: '2026-01-01T00:00:03.000Z' } } });
  t.like(ready(p), { status: 'False', reason: 'ContainersNotReady' });
  p = await beat(f, 'web'); // 00:00:04: 1 s back-off over, runs again (not ready: still failing)
  t.like(container(p), { restartCount: 1, ready: false, state: { running: { startedAt: '2026-01-01T00:00:04.000Z' } } });
  p = await beat(f, 'web'); // 00:00:05: fails again, 2 s back-off
  t.like(container(p), { restartCount: 2, state: { waiting: { message: 'back-off 2s restarting failed container=app pod=web_default(' + p.metadata.uid + ')' } } });
  const writes = f.agent.stats.podStatusWrites;
  p = await beat(f, 'web'); // 00:00:06: still backing off
  t.is(f.agent.stats.podStatusWrites, writes, 'no write while it waits');
  t.truthy(container(p).state.waiting);
  p = await beat(f, 'web'); // 00:00:07: runs again
  t.like(container(p), { restartCount: 2, state: { running: { startedAt: '2026-01-01T00:00:07.000Z' } } });
  t.is(p.status.phase, 'Running', 'a crash-looping pod is still Running, as in Kubernetes');
  t.is(p.spec.nodeName, 'n1', 'the agent never moves a pod: the control plane does');
});

test('a pod whose annotation is removed is Ready again after its next restart, on the same node', async (t) => {
  const f = await fixture(t);
  await createAll(t, f.admin, [[PODS, pod('api', { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } }, spec: { nodeName: 'n1' } })]]);
  await eventually('api Running', async () => (await getPod(f.admin, 'api')).status?.phase === 'Running');
  await agentSees(f, 'api');
  let p = await beat(f, 'api');
  t.like(container(p), { restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } });
  t.is((await f.admin.patch(podPath('api'), { metadata: { annotations: { 'kcs.io/simulate-unhealthy': null } } })).status, 200);
  await agentSees(f, 'api');
  p = await beat(f, 'api');
  t.like(container(p), { restartCount: 1, ready: true, state: { running: { startedAt: '2026-01-01T00:00:02.000Z' } } });
  t.like(ready(p), { status: 'True' });
  t.is(p.spec.nodeName, 'n1');
});

test('a node\'s token may write the health of pods bound to its node, not of another node\'s pods (403)', async (t) => {
  const f = await fixture(t);
  await createAll(t, f.admin, [[PODS, pod('mine', { spec: { nodeName: 'n1' } })], [PODS, pod('theirs', { spec: { nodeName: 'n2' } })]]);
  const n1 = client(f.admin.url, f.admin.cp.nodeTokens.tokenFor('n1'));
  const health = { status: { containerStatuses: [{ name: 'app', ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } };
  const forbidden = await n1.patch(`${podPath('theirs')}/status`, health);
  t.is(forbidden.status, 403, forbidden.text);
  t.falsy((await getPod(f.admin, 'theirs')).status?.containerStatuses, 'nothing written');
  t.is((await n1.patch(`${podPath('mine')}/status`, health)).status, 200, 'its own pod: allowed');
  t.is((await n1.patch(podPath('mine'), { metadata: { annotations: { 'kcs.io/simulate-unhealthy': 'true' } } })).status, 403, 'nor may it make a pod unhealthy');
  t.false(f.agent.hostedPods().some((p) => p.metadata.name === 'theirs'), 'the agent does not even see them');
});
