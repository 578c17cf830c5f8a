// Failover with real faults on real containers: a killed node container is
// declared failed, its pods move, then the container is restarted and the
// node comes back Ready and empty.
import test from 'ava';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import { eventually } from '../support/eventually.ts';
import { condition, dockerCluster, dockerOrSkip, inspectContainer, NODE, nodeManifest } from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const POD = kindByName('Pod')!;
const EVENT = kindByName('Event')!;
type Event = KubeObject & { reason: string; message: string; involvedObject: { name: string }; firstTimestamp: string };

const pod = (name: string, cpu: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }] } });

dockerTest('docker kill of a node hosting pods: NotReady, pods moved with events naming both nodes, container restarted, node Ready again and empty', async (t) => {
  t.timeout(90_000);
  const c = await dockerCluster(t);
  await c.client.create<Node>(NODE, undefined, nodeManifest('a', { cpu: '4', memory: '1Gi' }));
  await c.readyNode('a');
  for (let i = 0; i < 6; i++) await c.client.create(POD, 'default', pod(`web-${i}`, '500m'));
  await eventually('6 pods Running on a', async () => (await c.client.list<Pod>(POD, 'default')).items.filter((p) => p.spec.nodeName === 'a' && p.status?.phase === 'Running').length === 6);
  await c.client.create<Node>(NODE, undefined, nodeManifest('b', { cpu: '4', memory: '1Gi' }));
  await c.readyNode('b');
  const before = (await c.client.get<Node>(NODE, undefined, 'a')).status!.containerID!.replace('docker://', '');
  const startedAt = (await inspectContainer(before))!.State.StartedAt;

  const killedAt = Date.now();
  await c.runtime.docker.getContainer(before).kill();

  // 1. Declared failed once it misses its heartbeats; not restarted before that.
  const failed = await eventually('a Ready=Unknown', async () => {
    const n = await c.client.get<Node>(NODE, undefined, 'a');
    return condition(n, 'Ready')?.status === 'Unknown' ? n : undefined;
  });
  t.is(condition(failed, 'Ready')?.reason, 'NodeStatusUnknown');
  const lastBeat = (await c.leaseRenewTime('a'))!.getTime();
  t.true(lastBeat <= killedAt + 100, 'no heartbeat after the kill');
  t.true(Date.now() - lastBeat >= 3000, 'not before 3 s (the grace) without a heartbeat');

  // 2. Every pod moves to b, each move an event naming both nodes and why.
  await eventually('6 pods Running on b', async () => (await c.client.list<Pod>(POD, 'default')).items.filter((p) => p.spec.nodeName === 'b' && p.status?.phase === 'Running').length === 6, 30_000);
  const moved = (await c.client.list<Event>(EVENT, 'default')).items.filter((e) => e.reason === 'Moved');
  t.is(moved.length, 6);
  for (const e of moved) t.regex(e.message, new RegExp(`^pod ${e.involvedObject.name} moved from a to b after a missed heartbeats for \\d+\\.\\d s`));

  // 3. The container is restarted (remediation) and the node is Ready again, holding none of the moved pods.
  const back = await eventually('a Ready again', async () => {
    const n = await c.client.get<Node>(NODE, undefined, 'a');
    return condition(n, 'Ready')?.status === 'True' && condition(n, 'RuntimeReady')?.status === 'True' ? n : undefined;
  }, 30_000);
  const restarted = (await inspectContainer(before))!;
  t.true(restarted.State.Running);
  t.not(restarted.State.StartedAt, startedAt, 'the same container, started again');
  t.deepEqual(back.status?.pods, [], 'back empty');
  const nodeEvents = (await c.client.list<Event>(EVENT)).items.filter((e) => e.involvedObject.name === 'a').map((e) => e.reason);
  t.true(nodeEvents.includes('NodeNotReady') && nodeEvents.includes('MachineRestarted'), `events on a: ${nodeEvents}`);
  const notReadyAt = Date.parse((await c.client.list<Event>(EVENT)).items.find((e) => e.reason === 'NodeNotReady' && e.involvedObject.name === 'a')!.firstTimestamp);
  t.true(Date.parse(restarted.State.StartedAt) >= notReadyAt - 1000, 'restarted after it was declared failed, not before');

  await eventually('the invariants hold', async () => checkInvariants((await c.client.list<Node>(NODE)).items, (await c.client.list<Pod>(POD)).items).length === 0);
});
