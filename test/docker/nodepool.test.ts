// Node autoscaling with real containers: a NodePool at min 1, max 4 grows
// for pods that fit nowhere (one real container per new node) until every
// pod is bound, then shrinks back to min once they are deleted and its
// nodes stay unneeded for the cool-down. Throughout, the invariant checker
// finds no pod on two nodes and no node over capacity, and once quiet
// every bound pod is listed by its node.
import test from 'ava';
import type { NodePool } from '../../src/controllers/autoscaler.ts';
import { isNodeReady } from '../../src/objects/conditions.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { NODEPOOL_LABEL } from '../../src/scheduler/autoscaling.ts';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import { eventually } from '../support/eventually.ts';
import { clusterContainers, dockerCluster, dockerOrSkip, NODE } from './helpers.ts';

const dockerTest = dockerOrSkip(test);
const POD = kindByName('Pod')!;
const NODEPOOL = kindByName('NodePool')!;
const EVENT = kindByName('Event')!;
type Event = KubeObject & { reason: string; message: string; involvedObject: { kind: string; name: string } };

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '600m', memory: '64Mi' } } }] } });

dockerTest('a NodePool grows with real containers until every pod is bound, then shrinks back to min after the cool-down', async (t) => {
  t.timeout(120_000);
  const c = await dockerCluster(t);
  const poolNodes = async () => (await c.client.list<Node>(NODE, undefined, { labelSelector: `${NODEPOOL_LABEL}=small` })).items;
  const problems: string[] = [];
  const checking = setInterval(() => {
    void Promise.all([c.client.list<Node>(NODE), c.client.list<Pod>(POD)])
      // The safety invariants hold at every instant; "a bound pod's node lists it" only once the agent has reported (checked when quiet, below).
      .then(([nodes, pods]) => problems.push(...checkInvariants(nodes.items, pods.items).filter((p) => !p.includes('does not list it'))))
      .catch(() => { /* the cluster is closing */ });
  }, 200);
  t.teardown(() => clearInterval(checking));

  await c.client.create(NODEPOOL, undefined, {
    apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'small' },
    spec: { minNodes: 1, maxNodes: 4, template: { metadata: { labels: { size: 'small' } }, spec: { capacity: { cpu: '1', memory: '256Mi' } } }, scaleDown: { unneededSeconds: 2, delayAfterAddSeconds: 0 } },
  });
  const [first] = await eventually('the pool at its min, 1 node, Ready', async () => {
    const nodes = await poolNodes();
    return nodes.length === 1 && isNodeReady(nodes[0]!) ? nodes : undefined;
  }, 30_000);
  t.is(first!.metadata.ownerReferences?.[0]?.kind, 'NodePool');

  // Four 600m pods on 1-CPU nodes: one fits the first node, three fit nowhere.
  await c.client.commit(Array.from({ length: 4 }, (_, i) => ({ verb: 'create' as const, kind: POD, object: { ...pod(`work-${i}`), metadata: { name: `work-${i}`, namespace: 'default' } } })));
  const bound = await eventually('all 4 pods bound and Running', async () => {
    const pods = (await c.client.list<Pod>(POD, 'default')).items;
    return pods.filter((p) => p.spec.nodeName && p.status?.phase === 'Running').length === 4 ? pods : undefined;
  }, 60_000);
  await eventually('every invariant once quiet', async () => checkInvariants((await c.client.list<Node>(NODE)).items, (await c.client.list<Pod>(POD)).items).length === 0);
  const grown = await poolNodes();
  t.is(grown.length, 4);
  t.is(new Set(bound.map((p) => p.spec.nodeName)).size, 4, 'one pod per node: each 1-CPU node holds one 600m pod');
  // Every pool node is a real, running container of this cluster.
  const containers = (await clusterContainers(c.clusterId)).filter((ct) => ct.State === 'running');
  for (const n of grown) t.true(containers.some((ct) => `docker://${ct.Id}` === n.status?.containerID), `${n.metadata.name} runs in a container`);
  // Each pending pod asked for its node once (in one decision, or a few if the scheduler found them unschedulable apart).
  const ups = (await c.client.list<Event>(EVENT, 'default')).items.filter((e) => e.reason === 'ScaledUp' && e.involvedObject.name === 'small').map((e) => e.message);
  const forPods = ups.map((m) => /^scaled up nodepool\/small from (\d) to (\d): (\d) pods? unschedulable, each fits a 1-CPU, 256Mi node$/.exec(m)).filter((m) => m !== null);
  t.is(forPods.reduce((sum, m) => sum + Number(m[3]), 0), 3, ups.join('\n'));
  t.true(forPods.every((m) => Number(m[2]) - Number(m[1]) === Number(m[3])), 'one node per pod: each 600m pod needs a 1-CPU node of its own');
  t.is(forPods.at(-1)?.[2], '4');

  // Deleted: the nodes are unneeded; after the cool-down they go, one by one, down to min.
  for (let i = 0; i < 4; i++) await c.client.delete(POD, 'default', `work-${i}`);
  await eventually('the pool back at 1 node', async () => (await poolNodes()).length === 1, 60_000);
  await eventually('the removed nodes\' containers gone', async () => (await clusterContainers(c.clusterId)).length === 1, 30_000);
  const pool = await eventually('the pool\'s status says 1', async () => {
    const p = await c.client.get<NodePool>(NODEPOOL, undefined, 'small');
    return p.status?.currentNodes === 1 && p.status.desiredNodes === 1 ? p : undefined;
  });
  t.regex(pool.status!.message!, /^scaled down nodepool\/small from 2 to 1: node small-\S+ was under 50% \(0%\) for 2s and its 0 pods fit elsewhere$/);
  const downs = (await c.client.list<Event>(EVENT, 'default')).items.filter((e) => e.reason === 'ScaledDown');
  t.is(downs.length, 3);
  t.deepEqual(problems, [], 'no pod on two nodes, no node over capacity');
});
