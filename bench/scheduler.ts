// Scheduler benchmark: P pending pods onto N Ready nodes, each policy,
// through a real control plane (API, registry, SQLite file; --runtime none,
// so nodes are plain Ready Nodes with no agents and only scheduling is
// measured) and the scheduler controller in this process, acting as the
// controllers' identity over each transport: in-process, and over HTTP to
// the same server (the batched bindings as `commits` requests). Prints
// binds/s and decision-time percentiles per transport, policy and node
// count, side by side.
//
//   node bench/scheduler.ts [--pods 2000] [--nodes 100,1000] [--policies first-fit,...] [--transports in-process,http]
// Untimed warm-up runs (2,000 pods on 200 nodes, each policy) come first.
// Targets (issue 4): >= 5,000 binds/s for 10,000 pods on 1,000 nodes; the
// per-decision cost growing sublinearly with the number of nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTROLLERS_USER } from '../src/api/controller-auth.ts';
import { startControlPlane } from '../src/control-plane.ts';
import { Client } from '../src/client/http.ts';
import type { KcsClient } from '../src/client/interface.ts';
import { Informer } from '../src/client/informer.ts';
import { ControllerRunner } from '../src/controllers/runner.ts';
import { EventRecorder } from '../src/client/events.ts';
import { bindRetryDelayMs } from '../src/controllers/manager.ts';
import { SchedulerController } from '../src/controllers/scheduler.ts';
import { kindByName } from '../src/objects/kinds.ts';
import type { Node, Pod } from '../src/objects/types.ts';
import type { PolicyName } from '../src/scheduler/plugins/policies.ts';
import { Deadline, printTable, round, summarize } from './lib.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, nodes: { type: 'string' }, policies: { type: 'string' }, transports: { type: 'string' } } });
type Transport = 'in-process' | 'http';
const TRANSPORTS = (values.transports ?? 'in-process,http').split(',') as Transport[];
for (const t of TRANSPORTS) if (t !== 'in-process' && t !== 'http') throw new Error(`--transports: ${t} is neither in-process nor http`);
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

async function run(transport: Transport, nodes: number, policy: PolicyName, pods = PODS) {
  const PODS = pods;
  const dir = mkdtempSync(join(tmpdir(), 'kcs-bench-sched-'));
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, log: (m) => console.error(m) });
  const admin = cp.adminClient();
  // What the scheduler acts through: the controllers' identity on this transport.
  const client: KcsClient = transport === 'http' ? new Client({ server: cp.url, token: cp.controllerToken }) : cp.clientAs(CONTROLLERS_USER);
  try {
    // Room for every pod: 64 CPUs a node, pods of 100m to 1 CPU.
    for (let i = 0; i < nodes; i++) {
      const name = `n${String(i).padStart(5, '0')}`;
      await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '64', memory: '256Gi', pods: '500' } } });
      await admin.patch(NODE, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
    for (let i = 0; i < PODS; i++) {
      await admin.create(POD, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { schedulerName: policy, containers: [{ name: 'c', resources: { requests: { cpu: `${100 + (i % 10) * 100}m`, memory: '128Mi' } } }] } });
    }
    const podInformer = new Informer<Pod>(client, POD);
    const nodeInformer = new Informer<Node>(client, NODE);
    const decisions: number[] = [];
    // As kcs up runs it (manager.ts): Scheduled events, one worker, bindings in the background.
    const events = new EventRecorder(client, 'scheduler');
    const scheduler: SchedulerController = new SchedulerController({
      client, pods: podInformer, nodes: nodeInformer, events, onDecision: (ms) => decisions.push(ms),
      requeue: (key, failures) => runner.queue.addAfter(key, bindRetryDelayMs(failures)),
      // Once every pod is bound the server is shut; a reply still in flight then fails, which says nothing of the run.
      log: (m) => { if (bound < PODS) console.error(m); },
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
    await profile?.stop(`${transport}-${nodes}-${policy}`);
    await runner.stop();
    podInformer.stop();
    nodeInformer.stop();
    const d = summarize(Float64Array.from(decisions).sort());
    if (runner.stats.failures) console.error(`${transport}, ${nodes} nodes, ${policy}: ${runner.stats.failures} reconciles failed and were retried`);
    return { transport, nodes, policy, pods: PODS, bindsPerSec: round(PODS / seconds), decisionP50Us: round(d.p50 * 1000), decisionP99Us: round(d.p99 * 1000) };
  } finally {
    client.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Untimed runs first, one per policy on enough nodes to use the index, so no
// measured run pays for the JIT warming up its code (the first policy
// measured ran ~35% slower than the same policy measured later).
for (const t of TRANSPORTS) for (const p of POLICIES) await run(t, 200, p, 2000);
const results = [];
// Transports alternate for each configuration, so a drift of the machine's speed hits both alike.
for (const n of NODE_COUNTS) for (const p of POLICIES) for (const t of TRANSPORTS) results.push(await run(t, n, p));
printTable([['transport', 'nodes', 'policy', 'pods', 'binds/s', 'decision p50 µs', 'decision p99 µs'], ...results.map((r) => [r.transport, r.nodes, r.policy, r.pods, r.bindsPerSec, r.decisionP50Us, r.decisionP99Us])]);
console.log('binds/s: pods bound (seen by an informer) over the time from the first decision; decision: filter + score + explain for one pod');
console.log(JSON.stringify({ bench: 'kcs-scheduler', node: process.version, results }));
