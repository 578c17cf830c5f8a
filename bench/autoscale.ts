// Scale-up latency with Docker nodes: from a pod found unschedulable to a
// new node of its NodePool Ready, to the pod bound there, to the pod
// Running (its new node's agent says so). cluster-autoscaler, for
// comparison, scans every 10 s, then a cloud VM boots for a minute or more.
//
// One `bin/kcs up --runtime docker` child (plain http, heartbeats every
// 1000 ms). A NodePool `bench` (min 0, max --runs, 1-CPU nodes, scale-down
// off) is created, then in each run a 600m pod that fits on no existing
// node (each earlier node holds one already). From the pod and node watches:
//   unschedulable   the pod's PodScheduled=False/Unschedulable
//   node created    the new Node's ADDED event (the autoscaler decided)
//   node Ready      its Ready=True (container started, agent registered)
//   bound           the pod's spec.nodeName set
//   running         the pod Running on it
// Each figure is measured from unschedulable. Prints a table per run, the
// p50 and max, and one JSON line.
//
//   node bench/autoscale.ts [--runs 5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBuild, httpCall, apiAgent, intOpt, printTable, removeClusterContainersSync, round, startChildControlPlane, summarize, watchStream, withServerOutput, Deadline } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const RUNS = intOpt(opt('runs'), 'runs', 5, 1, 20);

if (!checkBuild()) process.exit(1);
const cp = await startChildControlPlane({ args: ['--runtime', 'docker', '--no-dashboard'] });
const clusterId = readFileSync(join(cp.stateDir, 'cluster-id'), 'utf8').trim();
const agent = apiAgent(cp, 8);
const call = async (method: string, path: string, body?: unknown) => {
  const r = await httpCall(agent, cp.url, method, path, cp.token, body === undefined ? undefined : JSON.stringify(body));
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
};

interface Times { unschedulable?: number; created?: number; ready?: number; bound?: number; running?: number; node?: string }
const runs: Times[] = [];
let current: Times | undefined;
const podName = (i: number) => `scale-${i}`;

const pods = watchStream(cp.url, '/api/v1/namespaces/default/pods?watch=true', cp.token, (e) => {
  const p = e.object;
  if (!current || p.metadata.name !== podName(runs.length)) return;
  const now = performance.now();
  const unschedulable = p.status?.conditions?.some((c: { type: string; status: string; reason?: string }) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable && current.unschedulable === undefined) current.unschedulable = now;
  if (p.spec.nodeName && current.bound === undefined) current.bound = now;
  if (p.spec.nodeName && p.status?.phase === 'Running' && current.running === undefined) current.running = now;
});
const nodes = watchStream(cp.url, '/api/v1/nodes?watch=true&labelSelector=kcs.io%2Fnodepool%3Dbench', cp.token, (e) => {
  if (!current) return;
  const n = e.object;
  const now = performance.now();
  if (e.type === 'ADDED' && current.created === undefined && !current.node) {
    current.created = now;
    current.node = n.metadata.name;
  }
  const ready = n.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  if (n.metadata.name === current.node && ready && current.ready === undefined) current.ready = now;
});

let failed = false;
let nodesMade = 0;
try {
  await Promise.all([pods.started, nodes.started]);
  await call('POST', '/apis/kcs.io/v1/nodepools', {
    apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'bench' },
    spec: { minNodes: 0, maxNodes: RUNS, template: { spec: { capacity: { cpu: '1', memory: '256Mi' } } }, scaleDown: { enabled: false } },
  });
  for (let i = 0; i < RUNS; i++) {
    current = {};
    await call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: podName(i) },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '600m', memory: '64Mi' } } }] },
    });
    const deadline = new Deadline(60_000);
    while (current.running === undefined) {
      if (deadline.expired()) throw new Error(`run ${i + 1}: the pod was not Running on a new node within 60 s: ${JSON.stringify(current)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    runs.push(current);
    current = undefined;
  }
  // One node per pod: a pass that asked twice for the same pod would show here.
  nodesMade = (await call('GET', '/api/v1/nodes?labelSelector=kcs.io%2Fnodepool%3Dbench')).items.length;
} catch (err) {
  failed = true;
  console.error(withServerOutput(cp, err));
} finally {
  pods.close();
  nodes.close();
  await cp.stop();
  removeClusterContainersSync(clusterId);
}

const since = (t: Times, k: keyof Omit<Times, 'node'>) => round((t[k]! - t.unschedulable!) / 1000);
const rows: Array<Array<string | number>> = [['run', 'node', 'node created (s)', 'node Ready (s)', 'pod bound (s)', 'pod Running (s)']];
runs.forEach((t, i) => rows.push([i + 1, t.node ?? '', since(t, 'created'), since(t, 'ready'), since(t, 'bound'), since(t, 'running')]));
const p = (k: keyof Omit<Times, 'node'>) => summarize(runs.map((t) => since(t, k)));
for (const [label, s] of [['p50', 'p50'], ['max', 'max']] as const) {
  rows.push([label, '', round(p('created')[s]), round(p('ready')[s]), round(p('bound')[s]), round(p('running')[s])]);
}
console.log('scale-up latency, Docker nodes, measured from the pod found Unschedulable (seconds):');
printTable(rows);
console.log(`nodes made: ${nodesMade} for ${runs.length} pods (one each expected)`);
console.log('cluster-autoscaler for comparison: a 10 s scan interval, then a cloud VM that boots in a minute or more.');
if (nodesMade !== runs.length) failed = true;
console.log(JSON.stringify({ bench: 'autoscale', runs: runs.length, nodesMade, created: p('created'), ready: p('ready'), bound: p('bound'), running: p('running') }));
process.exit(failed ? 1 : 0);
