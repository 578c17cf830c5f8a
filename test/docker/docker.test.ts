// Nodes as real Docker containers, end to end: the node controller with a
// DockerRuntime against a real control plane, the agent inside each
// container talking HTTP with its node token. Each test has its own state
// dir and so its own cluster id: tests running at once share the daemon
// but never each other's containers.
import { join } from 'node:path';
import test from 'ava';
import Docker from 'dockerode';
import { writeClientConfig } from '../../src/config.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node } from '../../src/objects/types.ts';
import { CPU_PERIOD_US, DockerRuntime } from '../../src/runtime/docker.ts';
import { parseTable, runKcs } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import {
  CLUSTER_LABEL, clusterContainers, condition, dockerCluster, dockerOrSkip, inspectContainer,
  NODE, NODE_NAME_LABEL, NODE_UID_LABEL, nodeManifest,
} from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const GiB = 1024 ** 3;
const EVENT = kindByName('Event')!;

dockerTest('a Node larger than the host runs as a container with its CPU and memory limits and reports Ready', async (t) => {
  const c = await dockerCluster(t);
  const { body: created } = await c.client.create<Node>(NODE, undefined, nodeManifest('big', { cpu: '16', memory: '1Gi' }));
  const ready = await c.readyNode('big');

  const containers = await clusterContainers(c.clusterId);
  t.is(containers.length, 1);
  const info = (await inspectContainer(containers[0].Id))!;
  t.true(info.State.Running);
  t.is(ready.status!.containerID, `docker://${info.Id}`);
  // 16 CPUs on a 2-core host: a CFS quota of 16 periods, which Docker accepts where NanoCpus would not.
  t.is(info.HostConfig.CpuPeriod, CPU_PERIOD_US);
  t.is(info.HostConfig.CpuQuota, 16 * CPU_PERIOD_US);
  t.is(info.HostConfig.Memory, 1 * GiB);
  t.is(info.HostConfig.NetworkMode, 'host');
  t.true(info.HostConfig.Init);
  t.like(info.Config.Labels, { [CLUSTER_LABEL]: c.clusterId, [NODE_NAME_LABEL]: 'big', [NODE_UID_LABEL]: created.metadata.uid });

  t.is(ready.status!.capacity!.cpu, '16');
  t.is(condition(ready, 'Ready')?.reason, 'KcsAgentReady', 'Ready as the agent in the container reports it');
  t.like(condition(ready, 'RuntimeReady'), { status: 'True', reason: 'MachineRunning' });
  t.truthy(await c.leaseRenewTime('big'), 'the agent holds its heartbeat Lease');
});

dockerTest('kcs get nodes shows a container node Ready with its CPU and container', async (t) => {
  const c = await dockerCluster(t);
  await c.client.create(NODE, undefined, nodeManifest('cli-node', { cpu: '16', memory: '1Gi' }));
  const ready = await c.readyNode('cli-node');
  // `kcs up` writes the client config; here the control plane runs in the test, so the test writes it.
  writeClientConfig(join(c.stateDir, 'kubeconfig'), { server: c.cp.url, token: c.cp.adminToken });

  const res = await runKcs(['get', 'nodes', '-o', 'wide'], { stateDir: c.stateDir });
  t.is(res.code, 0, res.stderr);
  const rows = parseTable(res.stdout);
  t.is(rows.length, 1);
  t.like(rows[0], { NAME: 'cli-node', STATUS: 'Ready', CPU: '16', CONTAINER: ready.status!.containerID!.replace('docker://', '').slice(0, 12) });
});

dockerTest('deleting a Node removes its container', async (t) => {
  const c = await dockerCluster(t);
  await c.client.create(NODE, undefined, nodeManifest('doomed'));
  const id = (await c.readyNode('doomed')).status!.containerID!.replace('docker://', '');
  t.truthy(await inspectContainer(id));

  // Through the HTTP API, as kcs delete would.
  const res = await fetch(`${c.cp.url}/api/v1/nodes/doomed`, { method: 'DELETE', headers: { authorization: `Bearer ${c.cp.adminToken}` } });
  t.is(res.status, 200, await res.text());
  await eventually('the container removed', async () => (await inspectContainer(id)) === undefined);
  t.deepEqual(await clusterContainers(c.clusterId), []);
});

// Regression: the agent process once held only unref'd timers and exited
// when the API went away, so its container stopped and was recreated.
dockerTest('a restarted control plane adopts the running container instead of recreating it', async (t) => {
  const c = await dockerCluster(t);
  await c.client.create(NODE, undefined, nodeManifest('n1'));
  const before = await c.readyNode('n1');
  const id = before.status!.containerID!.replace('docker://', '');
  const startedAt = (await inspectContainer(id))!.State.StartedAt;

  await c.restart();
  t.true((await inspectContainer(id))?.State.Running, 'the container kept running while kcs was down');
  const restartedAt = new Date();
  await eventually('the new controllers to reconcile n1', async () => c.cp.controllers!.nodeRunner.stats.reconciles > 0);
  // Ready was True before too: a heartbeat after the restart shows the agent reached the new API server.
  await eventually('a heartbeat to the new control plane', async () => ((await c.leaseRenewTime('n1'))?.getTime() ?? 0) > restartedAt.getTime());
  const after = await c.readyNode('n1');

  t.is(after.status!.containerID, `docker://${id}`);
  t.deepEqual((await clusterContainers(c.clusterId)).map((x) => x.Id), [id]);
  t.is((await inspectContainer(id))!.State.StartedAt, startedAt, 'not restarted either');
});

dockerTest('a node whose agent process is killed is declared failed, then has its container started again and reports Ready', async (t) => {
  const c = await dockerCluster(t);
  await c.client.create(NODE, undefined, nodeManifest('n1'));
  const id = (await c.readyNode('n1')).status!.containerID!.replace('docker://', '');
  const before = (await inspectContainer(id))!;

  // The agent is the init's child (Init: true); its host PID comes from `docker top`.
  const top = await c.runtime.docker.getContainer(id).top({ ps_args: '-o pid,args' });
  const agent = top.Processes.find((p: string[]) => p.join(' ').includes('agent/main.js'));
  t.truthy(agent, `the agent process among ${JSON.stringify(top.Processes)}`);
  const killedAt = new Date();
  process.kill(Number(agent![0]), 'SIGKILL');

  // The controller follows the daemon's events: well before the 30 s resync.
  const restarted = await eventually('the container running again', async () => {
    const info = await inspectContainer(id);
    return info?.State.Running && info.State.StartedAt !== before.State.StartedAt ? info : undefined;
  }, 15_000);
  t.true(new Date(restarted.State.StartedAt) >= killedAt);
  await eventually('a heartbeat from the restarted agent', async () => ((await c.leaseRenewTime('n1'))?.getTime() ?? 0) > killedAt.getTime());
  const ready = await c.readyNode('n1');
  t.is(ready.status!.containerID, `docker://${id}`, 'the same container, started again, not a new one');
  t.deepEqual((await clusterContainers(c.clusterId)).map((x) => x.Id), [id]);
  const events = (await c.client.list<KubeObject & { reason: string; involvedObject: { name: string } }>(EVENT)).items;
  t.true(events.some((e) => e.reason === 'MachineRestarted' && e.involvedObject.name === 'n1'), `a MachineRestarted Event among ${events.map((e) => e.reason)}`);
  // Remediation follows the failure: the node was declared NotReady before its container was started again.
  const notReady = events.find((e) => e.reason === 'NodeNotReady' && e.involvedObject.name === 'n1') as (KubeObject & { firstTimestamp: string }) | undefined;
  t.truthy(notReady, `a NodeNotReady Event among ${events.map((e) => e.reason)}`);
  t.true(Date.parse(restarted.State.StartedAt) >= Date.parse(notReady!.firstTimestamp) - 1000);
});

dockerTest('a container left by an older Node of the same name is replaced, not adopted', async (t) => {
  const c = await dockerCluster(t);
  const { body: older } = await c.client.create<Node>(NODE, undefined, nodeManifest('n1'));
  const staleId = (await c.readyNode('n1')).status!.containerID!.replace('docker://', '');

  // While kcs runs without controllers, n1 is deleted and made again: a new uid, the old container still running.
  await c.restart({ runtime: false });
  await c.client.delete(NODE, undefined, 'n1');
  const { body: newer } = await c.client.create<Node>(NODE, undefined, nodeManifest('n1'));
  t.not(newer.metadata.uid, older.metadata.uid);
  t.truthy(await inspectContainer(staleId), 'the old container is still there');

  await c.restart();
  const ready = await eventually('n1 Ready in a container of its own', async () => {
    const n = await c.readyNode('n1');
    return n.status!.containerID !== `docker://${staleId}` ? n : undefined;
  });
  t.is(await inspectContainer(staleId), undefined, 'the stale container is removed');
  const containers = await clusterContainers(c.clusterId);
  t.is(containers.length, 1);
  t.is(ready.status!.containerID, `docker://${containers[0].Id}`);
  t.is(containers[0].Labels[NODE_UID_LABEL], newer.metadata.uid!);
});

// Needs no daemon: the runtime's daemon is a socket that does not exist.
// Regression: the control plane once failed to start when the runtime could
// not list its machines, and a failing list() never reached the Node.
test('an unreachable Docker daemon shows on the Node as RuntimeReady=False DockerUnavailable while the API keeps serving', async (t) => {
  const c = await dockerCluster(t, { runtime: (clusterId) => new DockerRuntime({ clusterId, docker: new Docker({ socketPath: '/nonexistent.sock' }) }) });
  await c.client.create(NODE, undefined, nodeManifest('n1'));
  const failed = await eventually('RuntimeReady=False', async () => {
    const c2 = condition(await c.client.get<Node>(NODE, undefined, 'n1'), 'RuntimeReady');
    return c2?.status === 'False' ? c2 : undefined;
  }, 10_000);
  t.is(failed.reason, 'DockerUnavailable');
  t.regex(failed.message!, /nonexistent\.sock/);

  const res = await fetch(`${c.cp.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${c.cp.adminToken}` } });
  t.is(res.status, 200);
  t.deepEqual(((await res.json()) as { items: Node[] }).items.map((n) => n.metadata.name), ['n1']);
});

dockerTest('10 Nodes applied at once all become Ready, each in a container of its own', async (t) => {
  const c = await dockerCluster(t);
  const names = Array.from({ length: 10 }, (_, i) => `w${i}`);
  await Promise.all(names.map((name) => c.client.create(NODE, undefined, nodeManifest(name, { cpu: '2', memory: '512Mi' }))));
  const nodes = await Promise.all(names.map((name) => c.readyNode(name, 40_000)));

  const containers = await clusterContainers(c.clusterId);
  t.is(containers.length, 10);
  t.true(containers.every((x) => x.State === 'running'));
  t.deepEqual(
    nodes.map((n) => n.status!.containerID).sort(),
    containers.map((x) => `docker://${x.Id}`).sort(),
  );
  t.deepEqual(containers.map((x) => x.Labels[NODE_NAME_LABEL]).sort(), [...names].sort());
});

dockerTest('a node that runs out of memory is reported OOMKilled and restarted with growing delays', async (t) => {
  const c = await dockerCluster(t);
  // 8 MiB is less than the agent needs: the kernel kills it at start, every time.
  await c.client.create<Node>(NODE, undefined, nodeManifest('tiny', { cpu: '1', memory: '8Mi' }));
  let last = 'no RuntimeReady condition';
  const looping = await eventually(() => `RuntimeReady=False CrashLoopBackOff (last seen: ${last})`, async () => {
    const n = await c.client.get<Node>(NODE, undefined, 'tiny');
    const cond = condition(n, 'RuntimeReady');
    if (cond) last = `${cond.status} ${cond.reason}: ${cond.message}`;
    return cond?.status === 'False' && cond.reason === 'CrashLoopBackOff' ? cond : undefined;
  });
  t.regex(looping.message!, /exit code 137/);
  // Docker may report a death before it records the OOM kill behind it, so
  // the first restart may only say "killed"; a later one names OOMKilled.
  const restarts = await eventually('a restart that names OOMKilled', async () => {
    const events = (await c.client.list<KubeObject & { reason: string; message: string; type: string; involvedObject: { name: string } }>(EVENT)).items
      .filter((e) => e.involvedObject.name === 'tiny' && e.reason === 'MachineRestarted');
    return events.some((e) => /OOMKilled: the node ran out of its memory limit/.test(e.message)) ? events : undefined;
  }, 30_000);
  t.true(restarts.every((e) => e.type === 'Warning'));
  t.is((await clusterContainers(c.clusterId)).length, 1, 'restarted in place, never duplicated');
});

dockerTest('a resized Node gets a new container with the new limits', async (t) => {
  const c = await dockerCluster(t);
  await c.client.create<Node>(NODE, undefined, nodeManifest('grow', { cpu: '1', memory: '256Mi' }));
  const before = (await c.readyNode('grow')).status!.containerID!.replace('docker://', '');
  await c.client.patch(NODE, undefined, 'grow', { spec: { capacity: { cpu: '4', memory: '512Mi' } } });
  const after = await eventually('a new container', async () => {
    const n = await c.client.get<Node>(NODE, undefined, 'grow');
    const id = n.status?.containerID?.replace('docker://', '');
    return id && id !== before && condition(n, 'RuntimeReady')?.status === 'True' ? id : undefined;
  });
  const info = (await inspectContainer(after))!;
  t.is(info.HostConfig.CpuQuota, 400_000);
  t.is(info.HostConfig.Memory, 512 * 1024 * 1024);
  t.is(await inspectContainer(before), undefined, 'the old one is gone');
});
