// Two API servers on one etcd, both taking bindings for the same pods and
// nodes at once: every pod is offered through both, one by one (the
// binding subresource after a ledger reservation) and in batches (Commits),
// with more demand than room. The servers' compare-and-swaps on etcd must
// leave every pod bound at most once, every acknowledged binding kept,
// every ledger true, and no node overcommitted: checked through each
// server and in etcd itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { nodeCapacity, podRequests } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { EtcdStore } from '../../src/store/etcd.ts';
import { client, type Client } from '../api/helpers.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { reservationsOf } from '../../src/scheduler/ledger.ts';
import { binder, COMMITS_PATH, inParallel, newTally, NODES_PATH, podsPath, type Tally } from '../support/racing-binders.ts';

const etcd = sharedEtcd();

const NAMESPACE = 'default';
const NODE_COUNT = 16;
const NODE_CAPACITY = { cpu: '1600m', memory: '2500Mi', pods: '40' };
const POD_COUNT = 800;
/** Pods offered together, and bound together in a Commit (a scheduler's flush takes a few nodes' worth). */
const GROUP = 20;
const GROUPS_AT_ONCE = 2;
const MIN_ATTEMPTS = 10_000;

async function apiServer(t: ExecutionContext): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-ha-binds-'));
  // No runtime: no controllers, so these clients are the only schedulers and nothing tidies the ledgers.
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return cp;
}

/** Requests spread over 20m-60m cpu and 32-96 MiB: 800 of them ask for more cpu, memory and pod slots than the 16 nodes have (25.6 cpu, 39 GiB, 640 slots). */
function podManifest(i: number) {
  const cpu = 20 + ((i * 7) % 41);
  const memory = 32 + ((i * 13) % 65);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${String(i).padStart(4, '0')}`, namespace: NAMESPACE }, spec: { containers: [{ name: 'c', image: 'app', resources: { requests: { cpu: `${cpu}m`, memory: `${memory}Mi` } } }] } };
}

async function created<T>(api: Client, path: string, body: unknown): Promise<T> {
  const res = await api.post(path, body);
  if (res.status !== 201) throw new Error(`creating at ${path}: ${res.status} ${res.text}`);
  return res.body as T;
}

async function listed<T>(api: Client, path: string): Promise<T[]> {
  const res = await api.get(path);
  if (res.status !== 200) throw new Error(`listing ${path}: ${res.status} ${res.text}`);
  return res.body.items as T[];
}

/** Entries in key order: maps built in different orders compare equal. */
const sorted = (map: Map<string, string>) => Object.fromEntries([...map].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

/** Each pod's node (or '' while pending), by name. */
const placement = (pods: Pod[]) => sorted(new Map(pods.map((p) => [p.metadata.name!, p.spec.nodeName ?? ''])));

etcdTest('two API servers on one etcd binding the same pods to the same nodes at once: each pod bound once, no node overcommitted, no acknowledged binding lost', async (t) => {
  // Thousands of requests, each through an API server and etcd, on a machine that may be running other suites too.
  t.timeout(120_000);
  const [first, second] = [await apiServer(t), await apiServer(t)];
  const servers = [{ name: 'first', api: client(first.url, first.adminToken) }, { name: 'second', api: client(second.url, second.adminToken) }];

  await inParallel(Array.from({ length: NODE_COUNT }, (_, i) => i), 8, async (i) => {
    await created(servers[i % 2]!.api, NODES_PATH, { apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${String(i).padStart(2, '0')}` }, spec: { capacity: NODE_CAPACITY } });
  });
  // Created a hundred to a Commit: what is measured is the binding.
  const pods: Pod[] = [];
  for (let i = 0; i < POD_COUNT; i += 100) {
    const operations = Array.from({ length: Math.min(100, POD_COUNT - i) }, (_, j) => ({ verb: 'create', object: podManifest(i + j) }));
    pods.push(...(await created<{ results: Pod[] }>(servers[(i / 100) % 2]!.api, COMMITS_PATH, { apiVersion: 'kcs.io/v1', kind: 'Commit', operations })).results);
  }

  // Each group of pods is offered through both servers at the same moment: one by one through both, in Commits through
  // both, or both ways through each; the groups in flight at once contend for the same nodes. Each server has one
  // client binding one by one and two binding in batches (two schedulers' flushes).
  const tally: Tally = newTally();
  const [a, b] = await Promise.all(servers.map(async ({ name, api }) => ({ single: await binder(name, api, tally), batched: [await binder(name, api, tally), await binder(name, api, tally)] })));
  const offers = [
    (group: Pod[]) => [...group.map(a!.single.oneByOne), ...group.map(b!.single.oneByOne)],
    (group: Pod[]) => [...a!.batched, ...b!.batched].map((c) => c.inBatch(group)),
    (group: Pod[]) => [...group.map(a!.single.oneByOne), b!.batched[0]!.inBatch(group), ...group.map(b!.single.oneByOne), a!.batched[0]!.inBatch(group)],
  ];
  const groups = Array.from({ length: Math.ceil(POD_COUNT / GROUP) }, (_, i) => pods.slice(i * GROUP, (i + 1) * GROUP));
  const started = Date.now();
  await inParallel(groups.map((group, i) => ({ group, offer: offers[i % offers.length]! })), GROUPS_AT_ONCE, async ({ group, offer }) => { await Promise.all(offer(group)); });
  t.log(`${tally.attempts.binding + tally.attempts.commit} bind attempts in ${Date.now() - started} ms:`, JSON.stringify({ requests: tally.requests, attempts: tally.attempts, acknowledged: tally.acknowledged.length, refused: tally.refused }));

  // One view of the outcome, the same through either server and in etcd itself.
  const [viaFirst, viaSecond] = [await listed<Pod>(servers[0]!.api, podsPath(NAMESPACE)), await listed<Pod>(servers[1]!.api, podsPath(NAMESPACE))];
  const store = await EtcdStore.open({ endpoints: [(await etcd()).endpoint] });
  t.teardown(() => store.close());
  const inEtcd = (await store.list(`/registry/pods/${NAMESPACE}/`)).items.map((kv) => JSON.parse(kv.value) as Pod);
  const nodes = (await store.list('/registry/nodes/')).items.map((kv) => JSON.parse(kv.value) as Node);
  t.is(inEtcd.length, POD_COUNT);
  t.deepEqual(placement(viaFirst), placement(inEtcd), 'the first server lists what etcd holds');
  t.deepEqual(placement(viaSecond), placement(inEtcd), 'the second server lists what etcd holds');

  // Every acknowledged binding is there, each pod acknowledged at most once, and nothing bound that was not acknowledged.
  const bound = inEtcd.filter((p) => p.spec.nodeName);
  const acknowledged = new Map<string, string>();
  for (const ack of tally.acknowledged) {
    t.false(acknowledged.has(ack.pod), `${ack.pod} acknowledged twice: on ${acknowledged.get(ack.pod)} and, by the ${ack.server} server's ${ack.path}, on ${ack.node}`);
    acknowledged.set(ack.pod, ack.node);
  }
  t.is(tally.acknowledged.length, bound.length, 'as many acknowledged bindings as bound pods');
  t.deepEqual(sorted(new Map(bound.map((p) => [p.metadata.name!, p.spec.nodeName!]))), sorted(acknowledged), 'each bound pod on the node its acknowledgement named');
  for (const server of servers) {
    t.true(tally.acknowledged.some((a) => a.server === server.name && a.path === 'binding') && tally.acknowledged.some((a) => a.server === server.name && a.path === 'commit'), `the ${server.name} server bound pods both ways`);
  }

  // Every answer was one the protocol expects (an unexpected one would explain any mismatch below).
  t.deepEqual(tally.unexpected, [], 'every answer is a binding, a 409 Conflict, or room taken');

  // No node overcommitted, and each ledger holds exactly its bound pods.
  const free = new Map<string, { milliCpu: number; memory: number; pods: number }>();
  for (const node of nodes) {
    const name = node.metadata.name!;
    const on = bound.filter((p) => p.spec.nodeName === name);
    const cap = nodeCapacity(node);
    const left = on.reduce((f, p) => ({ milliCpu: f.milliCpu - podRequests(p).milliCpu, memory: f.memory - podRequests(p).memory, pods: f.pods - 1 }), cap);
    t.true(left.milliCpu >= 0 && left.memory >= 0 && left.pods >= 0, `${name}: ${on.length} pods bound, asking ${cap.milliCpu - left.milliCpu}m cpu and ${cap.memory - left.memory} bytes, of ${cap.pods} pods, ${cap.milliCpu}m and ${cap.memory}`);
    free.set(name, left);
    const ledger = new Map(reservationsOf(node).map((r) => [r.uid, `${r.milliCpu}m/${r.memory}`]));
    const where = (uid: string) => { const p = inEtcd.find((q) => q.metadata.uid === uid); return `${p?.metadata.name} (${p?.spec.nodeName ? `bound to ${p.spec.nodeName}` : 'pending'})`; };
    const extra = [...ledger.keys()].filter((uid) => !on.some((p) => p.metadata.uid === uid)).map(where);
    t.deepEqual(sorted(ledger), sorted(new Map(on.map((p) => [p.metadata.uid!, `${podRequests(p).milliCpu}m/${podRequests(p).memory}`]))), `${name}'s ledger holds its bound pods${extra.length ? `; it also holds ${extra.join(', ')}` : ''}`);
  }

  // The race was run as claimed: the attempts made both ways, and demand beyond room, so the
  // servers refused bindings and every pod left pending fits nowhere.
  t.true(tally.attempts.binding + tally.attempts.commit >= MIN_ATTEMPTS, `${tally.attempts.binding + tally.attempts.commit} bind attempts`);
  t.true(Math.min(tally.attempts.binding, tally.attempts.commit) >= MIN_ATTEMPTS / 20, 'both ways of binding carry a share');
  t.true(tally.refused.alreadyAssigned >= 100, `${tally.refused.alreadyAssigned} bindings refused as already assigned`);
  t.true(tally.refused.podChanged >= 50, `${tally.refused.podChanged} commits refused on a pod bound meanwhile`);
  t.true(tally.refused.nodeChanged >= 100, `${tally.refused.nodeChanged} ledger writes refused on a node changed meanwhile`);
  const pending = inEtcd.filter((p) => !p.spec.nodeName);
  t.true(pending.length >= POD_COUNT / 10, `${pending.length} pods left pending`);
  const fitsSomewhere = pending.filter((p) => [...free.values()].some((f) => f.pods >= 1 && f.milliCpu >= podRequests(p).milliCpu && f.memory >= podRequests(p).memory));
  t.deepEqual(fitsSomewhere.map((p) => p.metadata.name), [], 'no pod left pending that some node has room for');
});
