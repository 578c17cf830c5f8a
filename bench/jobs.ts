// Batch throughput: --jobs (1,000) Jobs of --pods (10) one-second pods each
// on --nodes (100) virtual nodes, a third each at low, medium and high
// priority (PriorityClasses bench-low 100, bench-mid 1000, bench-high
// 10000, taken round-robin).
//
// One `bin/kcs up --runtime virtual` child (plain http); its nodes run the
// pods in its process. Each node has 4 CPUs and each pod requests 250m, so
// 16 pods fit on a node, 1,600 at once on 100: the cluster is full for most
// of the run and the scheduling queue decides who goes next. Every Job has
// completions = parallelism = --pods and its pods' kcs.io/lifetime is 1s.
// All Jobs are created at once (16 clients), then this process watches:
//   pods   ADDED (the Job controller made it) -> spec.nodeName set (bound):
//          the queue wait, by the pod's priority
//   jobs   the Complete condition: completions per second
// Reported: the time from the first create to the last Job complete, Jobs
// and pods completed per second (and the ideal for the cluster's size: pods
// x 1 s / slots), queue wait p50/p99/max by priority, pods preempted (their
// Preempted events), and the server's CPU and peak memory. One JSON line.
//
//   node bench/jobs.ts [--jobs 1000] [--pods 10] [--nodes 100] [--time-limit S]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import {
  apiAgent, checkBuild, Deadline, httpCall, intOpt, printTable, report, round, runMain, startChildControlPlane, summarize, watchStream, withServerOutput,
} from './lib.ts';

const { values: args } = parseArgs({ options: { jobs: { type: 'string' }, pods: { type: 'string' }, nodes: { type: 'string' }, 'time-limit': { type: 'string' } } });
const JOBS = intOpt(args.jobs, 'jobs', 1000, 1, 100_000);
const PODS = intOpt(args.pods, 'pods', 10, 1, 1000);
const NODES = intOpt(args.nodes, 'nodes', 100, 1, 10_000);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 600, 30, 7200);
const NODE_CPU = 4;
const POD_MILLI_CPU = 250;
const CLASSES = [{ name: 'bench-low', value: 100 }, { name: 'bench-mid', value: 1000 }, { name: 'bench-high', value: 10_000 }];

runMain(async () => {
  if (!checkBuild()) return 1;
  const deadline = new Deadline(TIME_LIMIT_S * 1000);
  const cp = await startChildControlPlane({ args: ['--runtime', 'virtual', '--no-dashboard'] });
  const failures: string[] = [];
  try {
    const agent = apiAgent(cp, 16);
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await httpCall(agent, cp.url, method, path, cp.token, body === undefined ? undefined : JSON.stringify(body));
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body);
    };
    const inParallel = async (count: number, width: number, one: (i: number) => Promise<unknown>) => {
      let next = 0;
      await Promise.all(Array.from({ length: width }, async () => { while (next < count) await one(next++); }));
    };

    for (const c of CLASSES) await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: c.name }, value: c.value });
    await inParallel(NODES, 16, (i) => call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: `batch-${i}` }, spec: { capacity: { cpu: String(NODE_CPU), memory: '64Gi', pods: '110' } } }));
    await deadline.race((async () => {
      for (;;) {
        const list = await call('GET', '/api/v1/nodes');
        if (list.items.filter((n: any) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length >= NODES) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })());

    const added = new Map<string, number>();
    const waits = new Map<number, number[]>(CLASSES.map((c) => [c.value, []]));
    const bound = new Set<string>();
    const pods = watchStream(cp.url, '/api/v1/namespaces/default/pods?watch=true', cp.token, (e) => {
      const p = e.object;
      const now = performance.now();
      const key = p.metadata.uid;
      if (!added.has(key)) added.set(key, now);
      if (p.spec.nodeName && !bound.has(key)) {
        bound.add(key);
        waits.get(p.spec.priority ?? 0)?.push(now - added.get(key)!);
      }
    });
    let complete = 0;
    let lastComplete = 0;
    const done = new Set<string>();
    const jobs = watchStream(cp.url, '/apis/batch/v1/namespaces/default/jobs?watch=true', cp.token, (e) => {
      const j = e.object;
      if (done.has(j.metadata.name)) return;
      if (j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True')) {
        done.add(j.metadata.name);
        complete++;
        lastComplete = performance.now();
      } else if (j.status?.conditions?.some((c: any) => c.type === 'Failed' && c.status === 'True')) {
        done.add(j.metadata.name);
        failures.push(`job ${j.metadata.name} failed: ${JSON.stringify(j.status.conditions)}`);
      }
    });
    await new Promise((r) => setTimeout(r, 500)); // the watches open
    const cpuBefore = cp.cpuSeconds().total;

    const started = performance.now();
    await inParallel(JOBS, 16, (i) => call('POST', '/apis/batch/v1/namespaces/default/jobs', {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: `job-${i}` },
      spec: {
        completions: PODS, parallelism: PODS, backoffLimit: 6,
        template: {
          metadata: { annotations: { 'kcs.io/lifetime': '1s' } },
          spec: { restartPolicy: 'Never', priorityClassName: CLASSES[i % CLASSES.length]!.name, containers: [{ name: 'work', image: 'busybox', resources: { requests: { cpu: `${POD_MILLI_CPU}m`, memory: '64Mi' } } }] },
        },
      },
    }));
    const created = performance.now();
    await deadline.race((async () => { while (done.size < JOBS) await new Promise((r) => setTimeout(r, 100)); })());
    pods.close();
    jobs.close();
    const seconds = (lastComplete - started) / 1000;
    const cpu = cp.cpuSeconds().total - cpuBefore;
    const preempted = (await call('GET', '/api/v1/namespaces/default/events?fieldSelector=reason%3DPreempted')).items.length;
    const slots = NODES * Math.floor((NODE_CPU * 1000) / POD_MILLI_CPU);
    const ideal = Math.ceil((JOBS * PODS) / slots);

    console.log(`machine: ${cpus().length} CPUs, node ${process.version}; ${JOBS} Jobs x ${PODS} pods of 1 s on ${NODES} nodes (${slots} pods at once)`);
    printTable([
      ['measure', 'value'],
      ['creating the Jobs (16 clients)', `${round((created - started) / 1000)} s`],
      ['first create -> last Job Complete', `${round(seconds)} s (ideal ${ideal} s: ${JOBS * PODS} pod-seconds over ${slots} slots)`],
      ['Jobs completed per second', round(complete / seconds)],
      ['pods completed per second', round((complete * PODS) / seconds)],
      ['pods preempted', preempted],
      ['server CPU during the run', `${round(cpu)} s`],
      ['server peak memory', `${round(cp.memory().peakRssMiB)} MiB`],
    ]);
    const rows: Array<Array<string | number>> = [['priority', 'pods', 'queue wait p50', 'p99', 'max']];
    const byPriority: Record<string, unknown> = {};
    for (const c of [...CLASSES].reverse()) {
      const s = summarize(waits.get(c.value)!);
      byPriority[c.name] = { n: s.n, p50Ms: round(s.p50), p99Ms: round(s.p99), maxMs: round(s.max) };
      rows.push([`${c.name} (${c.value})`, s.n, `${round(s.p50 / 1000)} s`, `${round(s.p99 / 1000)} s`, `${round(s.max / 1000)} s`]);
    }
    printTable(rows);
    return report({ bench: 'jobs', jobs: JOBS, podsPerJob: PODS, nodes: NODES, seconds: round(seconds), jobsPerSecond: round(complete / seconds), podsPerSecond: round((complete * PODS) / seconds), idealSeconds: ideal, preempted, queueWait: byPriority, serverCpuSeconds: round(cpu), peakRssMiB: round(cp.memory().peakRssMiB) }, failures);
  } catch (err) {
    throw withServerOutput(cp, err);
  } finally {
    await cp.stop();
  }
});
