// Scheduling onto real node containers: three nodes of different sizes,
// pods placed per policy, a pod too large that waits and then binds.
import test from 'ava';
import type { KubeEvent } from '../../src/client/events.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { eventually } from '../support/eventually.ts';
import { dockerCluster, dockerOrSkip, NODE, nodeManifest, pauseContainer } from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const POD = kindByName('Pod')!;
const pod = (name: string, cpu: string, schedulerName?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { ...(schedulerName ? { schedulerName } : {}), containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu, memory: '64Mi' } } }] },
});

dockerTest('pods land on container nodes as each policy says, and run there', async (t) => {
  const c = await dockerCluster(t);
  for (const [name, cpu] of [['small', '2'], ['medium', '4'], ['large', '8']]) {
    await c.client.create<Node>(NODE, undefined, nodeManifest(name, { cpu, memory: '1Gi' }));
  }
  await Promise.all(['small', 'medium', 'large'].map((n) => c.readyNode(n)));
  const placed = async (name: string) => eventually(`${name} Running`, async () => {
    const p = await c.client.get<Pod>(POD, 'default', name);
    return p.status?.phase === 'Running' ? p.spec.nodeName : undefined;
  });
  await c.client.create(POD, 'default', pod('bf', '2', 'best-fit'));
  t.is(await placed('bf'), 'small', 'best-fit: an exact fit');
  await c.client.create(POD, 'default', pod('wf', '1', 'worst-fit'));
  t.is(await placed('wf'), 'large', 'worst-fit: the most CPU left');
  await c.client.create(POD, 'default', pod('ff', '3', 'first-fit'));
  t.is(await placed('ff'), 'large', 'first-fit: large is first by name and has 7 left');
  // The agent inside the container lists what it runs.
  const large = await eventually('large reports its pods', async () => {
    const n = await c.client.get<Node>(NODE, undefined, 'large');
    return n.status?.pods?.length === 2 ? n : undefined;
  });
  t.is(large.status?.allocated?.cpu, '4');
});

dockerTest('a pod too large for every container node waits with the reason, then binds to a big enough new one', async (t) => {
  const c = await dockerCluster(t);
  for (const [name, cpu] of [['a', '1'], ['b', '2'], ['c', '2']]) await c.client.create<Node>(NODE, undefined, nodeManifest(name, { cpu, memory: '1Gi' }));
  await Promise.all(['a', 'b', 'c'].map((n) => c.readyNode(n)));
  await c.client.create(POD, 'default', pod('big', '6'));
  const waiting = await eventually('Unschedulable', async () => {
    const p = await c.client.get<Pod>(POD, 'default', 'big');
    const cond = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return cond?.reason === 'Unschedulable' ? cond : undefined;
  });
  t.is(waiting.message, '0/3 nodes are available: 3 Insufficient cpu.');
  await c.client.create<Node>(NODE, undefined, nodeManifest('d', { cpu: '16', memory: '1Gi' }));
  const running = await eventually('big Running on d', async () => {
    const p = await c.client.get<Pod>(POD, 'default', 'big');
    return p.status?.phase === 'Running' ? p : undefined;
  }, 30_000);
  t.is(running.spec.nodeName, 'd');
});

dockerTest('a paused node container is declared Unknown and its pods move; unpaused, it is Ready again holding none of them', async (t) => {
  const c = await dockerCluster(t);
  for (const name of ['a', 'b']) await c.client.create<Node>(NODE, undefined, nodeManifest(name, { cpu: '4', memory: '1Gi' }));
  await Promise.all(['a', 'b'].map((n) => c.readyNode(n)));
  await c.client.create(POD, 'default', pod('web', '1'));
  const first = await eventually('web Running', async () => {
    const p = await c.client.get<Pod>(POD, 'default', 'web');
    return p.status?.phase === 'Running' ? p : undefined;
  });
  const from = first.spec.nodeName!;
  const to = from === 'a' ? 'b' : 'a';
  const id = (await c.client.get<Node>(NODE, undefined, from)).status!.containerID!.replace('docker://', '');
  await pauseContainer(c.runtime.docker.getContainer(id));
  const moved = await eventually('web Running elsewhere', async () => {
    const p = await c.client.get<Pod>(POD, 'default', 'web');
    return p.spec.nodeName === to && p.status?.phase === 'Running' ? p : undefined;
  }, 30_000);
  t.is(moved.metadata.uid, first.metadata.uid);
  const failed = await c.client.get<Node>(NODE, undefined, from);
  t.is(failed.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'Unknown');
  t.is(failed.status?.containerID, `docker://${id}`, 'not restarted: a paused machine is frozen, not gone');
  await c.runtime.docker.getContainer(id).unpause();
  const back = await eventually('Ready again', async () => {
    const n = await c.client.get<Node>(NODE, undefined, from);
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' ? n : undefined;
  }, 30_000);
  t.deepEqual(back.status?.pods, [], 'fenced: it reports none of the pods that moved');
  t.deepEqual((await c.client.get<Node>(NODE, undefined, to)).status?.pods, [first.metadata.uid]);
});

dockerTest('a control plane down longer than the grace period fails no node when it comes back', async (t) => {
  const c = await dockerCluster(t);
  // steady's agent runs on through the outage; witness's is frozen while the
  // control plane is down, so that node really does stop heartbeating.
  await c.client.create<Node>(NODE, undefined, nodeManifest('steady', { cpu: '2', memory: '512Mi' }));
  await c.client.create<Node>(NODE, undefined, nodeManifest('witness', { cpu: '1', memory: '512Mi' }));
  await Promise.all(['steady', 'witness'].map((n) => c.readyNode(n)));
  const witness = c.runtime.docker.getContainer((await c.client.get<Node>(NODE, undefined, 'witness')).status!.containerID!.replace('docker://', ''));
  t.teardown(() => witness.unpause().catch(() => { /* not paused, or gone */ }));
  await c.client.create(POD, 'default', pod('stays', '2')); // fits steady only
  await eventually('stays Running', async () => (await c.client.get<Pod>(POD, 'default', 'stays')).status?.phase === 'Running');
  // Down for 4 s: longer than the 3 s grace. steady's heartbeats fail meanwhile.
  await c.restart({ downtimeMs: 4000, whileDown: () => pauseContainer(witness) });
  // The health controller declaring witness failed, a grace after it came
  // back, shows it has judged the nodes at a time when steady's last
  // heartbeat before the outage was long past the grace; and a heartbeat of
  // steady's after that shows its renewals are being judged too.
  const notReady = async () => (await c.client.list<KubeEvent>(kindByName('Event')!, 'default')).items.filter((e) => e.reason === 'NodeNotReady');
  await eventually('witness declared failed', async () => (await notReady()).some((e) => e.involvedObject.name === 'witness'), 30_000);
  const judgedAt = Date.now();
  await eventually('a heartbeat of steady after that', async () => ((await c.leaseRenewTime('steady'))?.getTime() ?? 0) > judgedAt);
  const node = await c.client.get<Node>(NODE, undefined, 'steady');
  t.is(node.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
  const p = await c.client.get<Pod>(POD, 'default', 'stays');
  t.is(p.spec.nodeName, 'steady', 'its pod was not moved');
  t.deepEqual((await notReady()).map((e) => e.involvedObject.name), ['witness'], 'steady was not declared failed');
});
