// Scheduler benchmark: P pending pods onto N Ready nodes, each policy,
// through the store (the real registry, SQLite file, informers and the
// scheduler controller in this process; nodes are plain Ready Nodes with no
// agents, so only scheduling is measured). Prints binds/s and decision-time
// percentiles per policy and node count, plus one JSON line.
//
//   node bench/scheduler.ts [--pods 2000] [--nodes 100,1000] [--policies first-fit,best-fit,worst-fit,spread,binpack]
// Untimed warm-up runs (2,000 pods on 200 nodes, each policy) come first.
// Targets (issue 4): >= 5,000 binds/s for 10,000 pods on 1,000 nodes; the
// per-decision cost growing sublinearly with the number of nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from '../src/api/registry.ts';
import { LocalClient } from '../src/client/local.ts';
import { ADMIN_USER } from '../src/api/auth.ts';
import { Informer } from '../src/client/informer.ts';
import { ControllerRunner } from '../src/controllers/runner.ts';
import { EventRecorder } from '../src/client/events.ts';
import { bindRetryDelayMs } from '../src/controllers/manager.ts';
import { SchedulerController } from '../src/controllers/scheduler.ts';
import { kindByName } from '../src/objects/kinds.ts';
import type { Node, Pod } from '../src/objects/types.ts';
import type { PolicyName } from '../src/scheduler/plugins/policies.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { Deadline, printTable, round, summarize } from './lib.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, nodes: { type: 'string' }, policies: { type: 'string' } } });
const PODS = Number(values.pods ?? 2000);
const NODE_COUNTS = (values.nodes ?? '100,1000').split(',').map(Number);
const POLICIES = (values.policies ?? 'first-fit,best-fit,worst-fit,spread,binpack').split(',') as PolicyName[];
const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

/** With KCS_BENCH_PROFILE=DIR, a CPU profile of each timed part (open in Chrome DevTools). */
async function startProfile() {
  const dir = process.env.KCS_BENCH_PROFILE;
  if (!dir) return undefined;
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(dir, `scheduler-${name}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function run(nodes: number, policy: PolicyName, pods = PODS) {
  const PODS = pods;
  const dir = mkdtempSync(join(tmpdir(), 'kcs-bench-sched-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  try {
    const client = new LocalClient(new Registry(store), { user: ADMIN_USER });
    // Room for every pod: 64 CPUs a node, pods of 100m to 1 CPU.
    for (let i = 0; i < nodes; i++) {
      const name = `n${String(i).padStart(5, '0')}`;
      await client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '64', memory: '256Gi', pods: '500' } } });
      await client.patch(NODE, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
    for (let i = 0; i < PODS; i++) {
      await client.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { schedulerName: policy, containers: [{ name: 'c', resources: { requests: { cpu: `${100 + (i % 10) * 100}m`, memory: '128Mi' } } }] } });
    }
    const podInformer = new Informer<Pod>(client, POD);
    const nodeInformer = new Informer<Node>(client, NODE);
    const decisions: number[] = [];
    // As kcs up runs it (manager.ts): Scheduled events, one worker, bindings in the background.
    const events = new EventRecorder(client, 'scheduler');
    const scheduler: SchedulerController = new SchedulerController({
      client, pods: podInformer, nodes: nodeInformer, events, onDecision: (ms) => decisions.push(ms),
      requeue: (key, failures) => runner.queue.addAfter(key, bindRetryDelayMs(failures)), log: (m) => console.error(m),
    });
    const runner = new ControllerRunner(scheduler, { workers: 1 });
    let bound = 0;
    let allBound!: () => void;
    const done = new Promise<void>((resolve) => { allBound = resolve; });
    podInformer.on({ update: (prev, next) => { if (!prev.spec.nodeName && next.spec.nodeName && ++bound === PODS) allBound(); } });
    await nodeInformer.start();
    await podInformer.start();
    const profile = await startProfile();
    const started = performance.now();
    runner.start();
    for (const key of scheduler.pendingKeys()) runner.enqueue(key);
    await new Deadline(600_000).race(done, () => new Error(`only ${bound} of ${PODS} bound after 10 minutes`)).catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
    const seconds = (performance.now() - started) / 1000;
    await profile?.stop(`${nodes}-${policy}`);
    await runner.stop();
    podInformer.stop();
    nodeInformer.stop();
    const d = summarize(Float64Array.from(decisions).sort());
    if (runner.stats.failures) console.error(`${nodes} nodes, ${policy}: ${runner.stats.failures} reconciles failed and were retried`);
    return { nodes, policy, pods: PODS, bindsPerSec: round(PODS / seconds), decisionP50Us: round(d.p50 * 1000), decisionP99Us: round(d.p99 * 1000) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Untimed runs first, one per policy on enough nodes to use the index, so no
// measured run pays for the JIT warming up its code (the first policy
// measured ran ~35% slower than the same policy measured later).
for (const p of POLICIES) await run(200, p, 2000);
const results = [];
for (const n of NODE_COUNTS) for (const p of POLICIES) results.push(await run(n, p));
printTable([['nodes', 'policy', 'pods', 'binds/s', 'decision p50 µs', 'decision p99 µs'], ...results.map((r) => [r.nodes, r.policy, r.pods, r.bindsPerSec, r.decisionP50Us, r.decisionP99Us])]);
console.log('binds/s: pods bound (seen by an informer) over the time from the first decision; decision: filter + score + explain for one pod');
console.log(JSON.stringify({ bench: 'kcs-scheduler', node: process.version, results }));
