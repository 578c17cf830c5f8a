// Pods that finish, against a real control plane over HTTP with the node's
// token, on a FakeClock: a container's kcs.io/lifetime ends it when its time
// is up (not at the next heartbeat), the pod Succeeds or Fails as its
// restartPolicy says, and a pod that restarts on failure comes back after
// its back-off.
import test, { type ExecutionContext } from 'ava';
import { NodeAgent } from '../../src/agent/agent.ts';
import { Client } from '../../src/client/http.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { createAll, node, NODES, openControlPlane, pod, podPath, PODS, tempStateDir, type TestControlPlane } from '../api/helpers.ts';
import { eventually } from '../support/eventually.ts';

/** Heartbeats far apart: what happens in between is the lifetime timer's doing. */
const HEARTBEAT_MS = 60_000;

async function fixture(t: ExecutionContext): Promise<{ admin: TestControlPlane; clock: FakeClock; agent: NodeAgent }> {
  const admin = await openControlPlane(t, tempStateDir(t));
  await createAll(t, admin, [[NODES, node('n1')]]);
  const clock = new FakeClock();
  const http = new Client({ server: admin.url, token: admin.cp.nodeTokens.tokenFor('n1') });
  const agent = new NodeAgent({ client: http, nodeName: 'n1', clock, heartbeatMs: HEARTBEAT_MS, statusRefreshMs: 600_000, restartBackoff: { baseMs: 1000, maxMs: 30_000 } });
  t.teardown(() => { agent.stop(); http.close(); });
  await agent.start();
  return { admin, clock, agent };
}

const getPod = async (admin: TestControlPlane, name: string) => (await admin.get(podPath(name))).body;
const finishing = (name: string, lifetime: string, restartPolicy: string) => pod(name, { metadata: { annotations: { 'kcs.io/lifetime': lifetime } }, spec: { nodeName: 'n1', restartPolicy } });

/** Waits until the agent holds the stored version of the pod (its timer is set from that). */
async function agentSees(f: { admin: TestControlPlane; agent: NodeAgent }, name: string, check: (p: any) => boolean): Promise<any> {
  return eventually(`the agent to see ${name} as expected`, async () => {
    const stored = await getPod(f.admin, name);
    const seen = f.agent.hostedPods().find((p) => p.metadata.name === name);
    return check(stored) && seen?.metadata.resourceVersion === stored.metadata.resourceVersion ? stored : undefined;
  });
}

test('a pod whose container runs 5 s succeeds 5 s after it started, long before the next heartbeat', async (t) => {
  const f = await fixture(t);
  await createAll(t, f.admin, [[PODS, finishing('batch', '5s', 'Never')]]);
  await agentSees(f, 'batch', (p) => p.status?.phase === 'Running');
  f.clock.advance(4_999);
  const still = await getPod(f.admin, 'batch');
  t.is(still.status.phase, 'Running');
  f.clock.advance(1);
  const done = await agentSees(f, 'batch', (p) => p.status?.phase === 'Succeeded');
  t.like(done.status.containerStatuses[0].state.terminated, { exitCode: 0, reason: 'Completed', finishedAt: '2026-01-01T00:00:05.000Z' });
  t.is(f.agent.stats.healthChecks, 0, 'no heartbeat had come');
});

test('OnFailure restarts a failing container after 1 s, then 2 s of back-off; Never leaves the pod Failed', async (t) => {
  const f = await fixture(t);
  await createAll(t, f.admin, [[PODS, finishing('flaky', '2s exit=1', 'OnFailure')], [PODS, finishing('once', '2s exit=1', 'Never')]]);
  await agentSees(f, 'flaky', (p) => p.status?.phase === 'Running');
  await agentSees(f, 'once', (p) => p.status?.phase === 'Running');
  f.clock.advance(2_000);
  const failed = await agentSees(f, 'once', (p) => p.status?.phase === 'Failed');
  t.like(failed.status.containerStatuses[0].state.terminated, { exitCode: 1, reason: 'Error' });
  const waiting = await agentSees(f, 'flaky', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1);
  t.is(waiting.status.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  f.clock.advance(1_000);
  const again = await agentSees(f, 'flaky', (p) => !!p.status?.containerStatuses?.[0]?.state?.running);
  t.is(again.status.containerStatuses[0].state.running.startedAt, '2026-01-01T00:00:03.000Z');
  f.clock.advance(2_000);
  await agentSees(f, 'flaky', (p) => p.status?.containerStatuses?.[0]?.restartCount === 2);
  f.clock.advance(1_999);
  t.truthy((await getPod(f.admin, 'flaky')).status.containerStatuses[0].state.waiting, 'the second back-off is 2 s');
  f.clock.advance(1);
  await agentSees(f, 'flaky', (p) => !!p.status?.containerStatuses?.[0]?.state?.running);
  t.is((await getPod(f.admin, 'flaky')).status.phase, 'Running');
});
