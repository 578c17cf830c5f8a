// Node benchmark: how fast Nodes become Ready and what they cost, with the
// control plane in a child process (`bin/kcs up`) and Ready observed through
// a watch on /api/v1/nodes. Phases:
//   1  docker, one node at a time: POST of a Node (cpu 2) to Ready=True, after
//      one untimed warm-up node; --repeats times with fresh names, deleting
//      each (and waiting for its container to go) before the next.
//   2  docker, --nodes (50) Nodes POSTed at once (cpu 1, memory 128Mi): each
//      node's POST-to-Ready time, and first POST to all Ready.
//   3  docker, with phase 2's nodes running (so it implies phase 2): the
//      agents' RSS (VmRSS of the node process inside each container, plus the
//      container's cgroup memory for comparison), and the control plane's
//      RSS and CPU% over --mem-window (10) seconds of heartbeats.
//   4  virtual, --virtual-nodes (1000) Nodes created --concurrency (50) at a
//      time: time to all Ready, then the control plane's CPU% and RSS over
//      --cpu-window (20) seconds, and the heartbeat rate achieved (Lease
//      updates seen through a watch on the kube-node-lease namespace). The
//      virtual agents run inside the control plane process: its CPU and RSS
//      include them. If not all are Ready while the cap still leaves room for
//      the window, the window measures those that are (and the bench fails).
// Before the docker phases the node image is built (`bin/kcs image build`), timed on
// its own. Prints a table and one JSON line. Exits non-zero only if a node
// never became Ready, a request failed, containers were left behind, or the
// time cap (which covers the image build too) was hit. Child processes, temp
// state dirs and the containers labelled io.kcs.cluster=<its cluster id> are
// removed on every exit, Ctrl-C included.
//
//   node bench/nodes.ts [--phases 1,2,3,4] [--repeats 5] [--nodes 50]
//                       [--virtual-nodes 1000] [--concurrency 50] [--heartbeat-ms 1000]
//                       [--mem-window 10] [--cpu-window 20] [--time-limit 180]
// Env equivalents: KCS_BENCH_PHASES, KCS_BENCH_REPEATS, KCS_BENCH_NODES,
// KCS_BENCH_VIRTUAL_NODES, KCS_BENCH_CONCURRENCY, KCS_BENCH_HEARTBEAT_MS,
// KCS_BENCH_MEM_WINDOW, KCS_BENCH_CPU_WINDOW, KCS_BENCH_TIME_LIMIT.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { cleanupOnExit, Deadline, intOpt, runImageBuild, withServerOutput, checkBuild, childPids, httpCall, machineCpu, msSince, printTable, processCpuSeconds, processMemory, round, roundAll, startChildControlPlane, summarize, watchStream, type ChildControlPlane, type Summary, type WatchEvent, type WatchStream, runMain, report } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    phases: { type: 'string' },
    repeats: { type: 'string' },
    nodes: { type: 'string' },
    'virtual-nodes': { type: 'string' },
    concurrency: { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'mem-window': { type: 'string' },
    'cpu-window': { type: 'string' },
    'time-limit': { type: 'string' },
  },
});

const REPEATS = intOpt(args.repeats, 'repeats', 5, 1, 100);
const FLEET = intOpt(args.nodes, 'nodes', 50, 1, 500);
const VIRTUAL = intOpt(args['virtual-nodes'], 'virtual-nodes', 1000, 1, 20_000);
const CONCURRENCY = intOpt(args.concurrency, 'concurrency', 50, 1, 1000);
const HEARTBEAT_MS = intOpt(args['heartbeat-ms'], 'heartbeat-ms', 1000, 100, 60_000);
const MEM_WINDOW_S = intOpt(args['mem-window'], 'mem-window', 10, 1, 600);
const CPU_WINDOW_S = intOpt(args['cpu-window'], 'cpu-window', 20, 1, 600);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 180, 10, 3600);
const PHASES = new Set((args.phases ?? process.env.KCS_BENCH_PHASES ?? '1,2,3,4').split(',').map((p) => p.trim()).filter(Boolean));
for (const p of PHASES) {
  if (!['1', '2', '3', '4'].includes(p)) {
    console.error(`--phases takes a comma-separated subset of 1,2,3,4 (got ${JSON.stringify(p)})`);
    process.exit(2);
  }
}
const phase3ImpliesPhase2 = PHASES.has('3') && !PHASES.has('2');
if (PHASES.has('3')) PHASES.add('2');
const DOCKER_PHASES = PHASES.has('1') || PHASES.has('2');

const TARGETS = { fleetP50Ms: 1000, fleetAllReadyMs: 10_000, agentRssMiB: 50 };
const SETTLE_MS = 2000;
const NODES_PATH = '/api/v1/nodes';
const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const CLUSTER_LABEL = 'io.kcs.cluster';
const NODE_LABEL = 'io.kcs.node.name';

const startedAt = process.hrtime.bigint();
/** The time cap; past it by 30 s, the process gives up whatever it is waiting for. */
const cap = new Deadline(TIME_LIMIT_S * 1000).hardStop(30);

/** Some nodes did not become Ready in the time allowed. */
class NotReady extends Error {
  override name = 'NotReady';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- cleanup, on every exit ----------------------------------------------------

const { pids: livePids, clusters: liveClusters, children: liveChildren } = cleanupOnExit();

// ---- Ready, as a watch sees it -------------------------------------------------------

interface NodeSeen {
  /** hrtime when its POST was sent. */
  postAt?: bigint;
  /** hrtime and wall clock (ms) when the watch first showed RuntimeReady=True / Ready=True. */
  runtimeReadyAt?: bigint;
  readyAt?: bigint;
  readyWallMs?: number;
  /** The latest RuntimeReady message (why a node is not running, when it is not). */
  runtimeMessage?: string;
}

/** Follows /api/v1/nodes and records when each node first shows RuntimeReady and Ready. */
class ReadyTracker {
  readonly seen = new Map<string, NodeSeen>();
  private readonly waiters = new Set<() => void>();
  private readonly stream: WatchStream;
  private failure?: Error;

  constructor(cp: ChildControlPlane) {
    this.stream = watchStream(cp.url, `${NODES_PATH}?watch=true`, cp.token, (e) => this.onEvent(e));
    void this.stream.ended.then((err) => {
      this.failure = err;
      this.wake();
    });
  }

  started(): Promise<void> {
    return this.stream.started;
  }

  entry(name: string): NodeSeen {
    let s = this.seen.get(name);
    if (!s) this.seen.set(name, (s = {}));
    return s;
  }

  private onEvent(e: WatchEvent): void {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
    const now = process.hrtime.bigint();
    const name = e.object?.metadata?.name as string;
    const conditions = (e.object?.status?.conditions ?? []) as Array<{ type: string; status: string; message?: string }>;
    const s = this.entry(name);
    const runtime = conditions.find((c) => c.type === 'RuntimeReady');
    if (runtime) s.runtimeMessage = runtime.message;
    if (runtime?.status === 'True') s.runtimeReadyAt ??= now;
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True') && s.readyAt === undefined) {
      s.readyAt = now;
      s.readyWallMs = Date.now();
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Resolves when every name has been seen Ready; rejects on timeout (naming the laggards) or if the watch ends. */
  waitReady(names: string[], timeoutMs: number): Promise<void> {
    let check!: () => void;
    const ready = new Promise<void>((resolveWait, reject) => {
      check = () => {
        if (names.every((n) => this.seen.get(n)?.readyAt !== undefined)) resolveWait();
        else if (this.failure) reject(this.failure);
      };
      this.waiters.add(check);
      check();
    });
    return new Deadline(timeoutMs).race(ready, () => {
      const missing = names.filter((n) => this.seen.get(n)?.readyAt === undefined);
      const first = this.seen.get(missing[0]);
      return new NotReady(`${missing.length} of ${names.length} node(s) not Ready after ${round(timeoutMs / 1000)} s (e.g. ${missing[0]}: ${first?.runtimeMessage ?? 'no RuntimeReady condition yet'})`);
    }).finally(() => this.waiters.delete(check));
  }

  close(): void {
    this.stream.close();
  }
}

// ---- helpers -------------------------------------------------------------------------

const nodeBody = (name: string, capacity: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity } });

async function postNode(agent: Agent, cp: ChildControlPlane, tracker: ReadyTracker, name: string, capacity: Record<string, string>): Promise<void> {
  const s = tracker.entry(name);
  s.postAt = process.hrtime.bigint();
  const res = await httpCall(agent, cp.url, 'POST', NODES_PATH, cp.token, nodeBody(name, capacity));
  if (res.status !== 201) throw new Error(`POST Node ${name} -> ${res.status} ${res.body.slice(0, 300)}`);
}

/** ms from a node's POST to its first RuntimeReady / Ready. */
function latencies(tracker: ReadyTracker, names: string[]): { ready: number[]; runtime: number[] } {
  const ready: number[] = [];
  const runtime: number[] = [];
  for (const n of names) {
    const s = tracker.seen.get(n)!;
    if (s.postAt === undefined) continue;
    if (s.readyAt !== undefined) ready.push(Number(s.readyAt - s.postAt) / 1e6);
    if (s.runtimeReadyAt !== undefined) runtime.push(Number(s.runtimeReadyAt - s.postAt) / 1e6);
  }
  return { ready, runtime };
}

/** Docker timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
const dockerTime = (t: string) => Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));

interface ContainerInfo { node: string; id: string; pid: number; createdMs: number; startedMs: number }

async function clusterContainers(docker: Docker, clusterId: string, node?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`${CLUSTER_LABEL}=${clusterId}`];
  if (node) label.push(`${NODE_LABEL}=${node}`);
  return docker.listContainers({ all: true, filters: { label } });
}

async function inspectAll(docker: Docker, clusterId: string): Promise<ContainerInfo[]> {
  const list = await clusterContainers(docker, clusterId);
  return Promise.all(list.map(async (c) => {
    const i = await docker.getContainer(c.Id).inspect();
    return { node: c.Labels[NODE_LABEL], id: c.Id, pid: i.State.Pid, createdMs: dockerTime(i.Created), startedMs: dockerTime(i.State.StartedAt) };
  }));
}

/** The agent: the node process under the container's init (docker-init). */
function agentPid(initPid: number): number | undefined {
  const kids = childPids(initPid);
  const node = kids.find((k) => {
    try {
      return readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'node';
    } catch {
      return false;
    }
  });
  return node ?? kids[0];
}

/** Milliseconds from a node's container being created, started, and its agent being Ready (wall clocks). */
function stageBreakdown(tracker: ReadyTracker, infos: ContainerInfo[], names: string[], postWallMs: Map<string, number>) {
  const toCreate: number[] = [];
  const toStart: number[] = [];
  const toReady: number[] = [];
  for (const n of names) {
    const c = infos.find((i) => i.node === n);
    const s = tracker.seen.get(n);
    const post = postWallMs.get(n);
    if (!c || !s?.readyWallMs || post === undefined) continue;
    toCreate.push(c.createdMs - post);
    toStart.push(c.startedMs - c.createdMs);
    toReady.push(s.readyWallMs - c.startedMs);
  }
  return { postToCreated: summarize(toCreate), createdToStarted: summarize(toStart), startedToReady: summarize(toReady) };
}

async function removeClusterContainers(docker: Docker, clusterId: string): Promise<number> {
  const list = await clusterContainers(docker, clusterId);
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  })));
  return (await clusterContainers(docker, clusterId)).length;
}

async function startCp(runtime: 'docker' | 'virtual'): Promise<{ cp: ChildControlPlane; clusterId: string }> {
  const cp = await startChildControlPlane({ args: ['--runtime', runtime, '--heartbeat-ms', String(HEARTBEAT_MS)] });
  livePids.add(cp.pid);
  const clusterId = readFileSync(join(cp.stateDir, 'cluster-id'), 'utf8').trim();
  if (runtime === 'docker') liveClusters.add(clusterId);
  return { cp, clusterId };
}

async function stopCp(cp: ChildControlPlane): Promise<void> {
  await cp.stop();
  livePids.delete(cp.pid);
}

// ---- results ---------------------------------------------------------------------

interface Results {
  image?: { ms: number; upToDate: boolean };
  single?: { coldMs: number; readyMs: number[]; runtimeReadyMs: number[]; ready: Summary; stages: ReturnType<typeof stageBreakdown> };
  fleet?: { n: number; allReadyMs: number; cpCpuPct: number; machineBusyPct: number; ready: Summary; runtimeReady: Summary; post: Summary; stages: ReturnType<typeof stageBreakdown> };
  memory?: {
    agents: number; agentCpuSinceStartMs: Summary; agentRssMiB: Summary; agentAnonMiB: Summary; agentFileMiB: Summary; agentCgroupMiB: Summary; agentsCpuPct: number; windowS: number;
    cpRssMiB: number; cpPeakRssMiB: number; cpCpuPct: number; cpSysPct: number; otherCpuPct: number;
  };
  virtual?: {
    n: number; readyCount: number; readyBudgetMs: number; allReadyMs: number; ready: Summary; createPerSec: number; baselineRssMiB: number;
    windowS: number; cpCpuPct: number; cpSysPct: number; machineBusyPct: number; otherCpuPct: number; rssMiB: number; peakRssMiB: number;
    leaseUpdates: number; heartbeatsPerSec: number; expectedPerSec: number; leasesRenewed: number; renewIntervalMs: Summary;
  };
}

const failures: string[] = [];

async function dockerPhases(docker: Docker, results: Results): Promise<void> {
  console.log('building the node image (bin/kcs image build)...');
  const img = await runImageBuild(cap, liveChildren);
  results.image = { ms: img.ms, upToDate: /up to date/.test(img.output) };
  console.log(`  ${img.output.split('\n').at(-1)} (${round(img.ms / 1000)} s)`);

  const { cp, clusterId } = await startCp('docker');
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(FLEET, 10) });
  const tracker = new ReadyTracker(cp);
  try {
    console.log(`docker control plane pid ${cp.pid} at ${cp.url.origin}, cluster ${clusterId}`);
    await tracker.started();

    if (PHASES.has('1')) {
      console.log(`phase 1: one node (cpu 2), 1 warm-up + ${REPEATS} timed`);
      const readyMs: number[] = [];
      const runtimeMs: number[] = [];
      const infos: ContainerInfo[] = [];
      const postWall = new Map<string, number>();
      let coldMs = NaN;
      for (let i = 0; i <= REPEATS; i++) {
        const name = i === 0 ? 'bench-warmup' : `bench-single-${i}`;
        postWall.set(name, Date.now());
        await postNode(agent, cp, tracker, name, { cpu: '2' });
        await tracker.waitReady([name], cap.cap(60_000));
        const l = latencies(tracker, [name]);
        if (i === 0) coldMs = l.ready[0];
        else {
          readyMs.push(l.ready[0]);
          runtimeMs.push(...l.runtime);
          infos.push(...(await inspectAll(docker, clusterId)).filter((c) => c.node === name));
        }
        const del = await httpCall(agent, cp.url, 'DELETE', `${NODES_PATH}/${name}`, cp.token);
        if (del.status !== 200) throw new Error(`DELETE Node ${name} -> ${del.status} ${del.body.slice(0, 300)}`);
        // Untimed: wait for the node controller to remove its container before the next.
        const removal = new Deadline(cap.cap(30_000));
        while ((await clusterContainers(docker, clusterId, name)).length) {
          if (removal.expired()) throw new Error(`the container of deleted Node ${name} is still there after 30 s`);
          await sleep(50);
        }
        console.log(`  ${name}: Ready in ${round(l.ready[0])} ms (RuntimeReady at ${round(l.runtime[0] ?? NaN)} ms)`);
      }
      const names = Array.from({ length: REPEATS }, (_, i) => `bench-single-${i + 1}`);
      results.single = { coldMs, readyMs, runtimeReadyMs: runtimeMs, ready: summarize(readyMs), stages: stageBreakdown(tracker, infos, names, postWall) };
    }

    if (PHASES.has('2')) {
      console.log(`phase 2: ${FLEET} nodes (cpu 1, memory 128Mi) POSTed at once`);
      const names = Array.from({ length: FLEET }, (_, i) => `bench-fleet-${String(i).padStart(3, '0')}`);
      const postWall = new Map<string, number>();
      const postMs: number[] = [];
      const cpu0 = cp.cpuSeconds().total;
      const m0 = machineCpu();
      const t0 = process.hrtime.bigint();
      const posts = await Promise.allSettled(names.map(async (n) => {
        postWall.set(n, Date.now());
        const s = process.hrtime.bigint();
        await postNode(agent, cp, tracker, n, { cpu: '1', memory: '128Mi' });
        postMs.push(msSince(s));
      }));
      const failed = posts.filter((p) => p.status === 'rejected') as PromiseRejectedResult[];
      if (failed.length) throw new Error(`${failed.length} of ${FLEET} node POSTs failed; first: ${(failed[0].reason as Error).message}`);
      await tracker.waitReady(names, cap.cap(120_000));
      const last = names.reduce((m, n) => (tracker.seen.get(n)!.readyAt! > m ? tracker.seen.get(n)!.readyAt! : m), t0);
      const allReadyMs = Number(last - t0) / 1e6;
      // CPU from the first POST to now (just after the last Ready): how saturated the machine was.
      const spanS = msSince(t0) / 1000;
      const cpCpuPct = ((cp.cpuSeconds().total - cpu0) / spanS) * 100;
      const machineBusyPct = ((machineCpu().busy - m0.busy) / spanS) * 100;
      const l = latencies(tracker, names);
      const infos = await inspectAll(docker, clusterId);
      results.fleet = {
        n: FLEET, allReadyMs, cpCpuPct, machineBusyPct, ready: summarize(l.ready), runtimeReady: summarize(l.runtime), post: summarize(postMs),
        stages: stageBreakdown(tracker, infos, names, postWall),
      };
      console.log(`  all ${FLEET} Ready ${round(allReadyMs)} ms after the first POST; per node p50 ${round(results.fleet.ready.p50)} ms, max ${round(results.fleet.ready.max)} ms`);

      if (PHASES.has('3')) {
        console.log(`phase 3: memory and CPU with ${FLEET} nodes heartbeating (${MEM_WINDOW_S} s window)`);
        await sleep(cap.cap(SETTLE_MS));
        const running = infos.filter((c) => names.includes(c.node));
        const agentPids = running.map((c) => agentPid(c.pid));
        if (agentPids.some((p) => p === undefined)) failures.push(`could not find the agent process in ${agentPids.filter((p) => p === undefined).length} container(s)`);
        const pids = agentPids.filter((p): p is number => p !== undefined);
        // The window: only /proc reads at its two ends, so nothing of ours perturbs it.
        const agentCpuSoFar = pids.map(processCpuSeconds);
        const agents0 = agentCpuSoFar.reduce((a, c) => a + c, 0);
        const cp0 = cp.cpuSeconds();
        const m0 = machineCpu();
        const self0 = process.cpuUsage();
        const w0 = process.hrtime.bigint();
        await sleep(cap.cap(MEM_WINDOW_S * 1000));
        const windowS = msSince(w0) / 1000;
        const cp1 = cp.cpuSeconds();
        const agents1 = pids.reduce((a, p) => a + processCpuSeconds(p), 0);
        const m1 = machineCpu();
        const self = process.cpuUsage(self0);
        const cpCpuPct = ((cp1.total - cp0.total) / windowS) * 100;
        const agentsCpuPct = ((agents1 - agents0) / windowS) * 100;
        const selfPct = ((self.user + self.system) / 1e6 / windowS) * 100;
        const otherCpuPct = Math.max(0, ((m1.busy - m0.busy) / windowS) * 100 - cpCpuPct - agentsCpuPct - selfPct);
        const cpMem = cp.memory();
        const mems = pids.map((p) => processMemory(p)).filter((m) => Number.isFinite(m.rssMiB));
        const rss = mems.map((m) => m.rssMiB);
        // The cgroup's view (what `docker stats` shows): usage minus page cache.
        const cgroup = await Promise.all(running.map(async (c) => {
          const st = await docker.getContainer(c.id).stats({ stream: false, 'one-shot': true } as never) as unknown as { memory_stats?: { usage?: number; stats?: Record<string, number> } };
          const ms = st.memory_stats ?? {};
          return ((ms.usage ?? NaN) - (ms.stats?.total_inactive_file ?? ms.stats?.cache ?? ms.stats?.inactive_file ?? 0)) / 1048576;
        }));
        results.memory = {
          agents: rss.length, agentRssMiB: summarize(rss), agentAnonMiB: summarize(mems.map((m) => m.rssAnonMiB)), agentFileMiB: summarize(mems.map((m) => m.rssFileMiB)), agentCgroupMiB: summarize(cgroup.filter(Number.isFinite)), agentsCpuPct, windowS,
          agentCpuSinceStartMs: summarize(agentCpuSoFar.map((c) => c * 1000)),
          cpRssMiB: cpMem.rssMiB, cpPeakRssMiB: cpMem.peakRssMiB, cpCpuPct, cpSysPct: ((cp1.system - cp0.system) / windowS) * 100, otherCpuPct,
        };
        if (rss.length !== FLEET) failures.push(`read the RSS of ${rss.length} agents, expected ${FLEET}`);
      }
    }
  } catch (err) {
    throw withServerOutput(cp, err);
  } finally {
    tracker.close();
    agent.destroy();
    await stopCp(cp);
    const left = await removeClusterContainers(docker, clusterId);
    if (left) failures.push(`${left} container(s) of cluster ${clusterId} could not be removed`);
    else liveClusters.delete(clusterId);
  }
}

async function virtualPhase(results: Results): Promise<void> {
  const { cp } = await startCp('virtual');
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const tracker = new ReadyTracker(cp);
  let leases: ReturnType<typeof watchStream> | undefined;
  try {
    console.log(`phase 4: ${VIRTUAL} virtual nodes, ${CONCURRENCY} POSTs at a time; virtual control plane pid ${cp.pid} at ${cp.url.origin}`);
    await tracker.started();
    await sleep(500);
    const baselineRssMiB = cp.memory().rssMiB;
    const names = Array.from({ length: VIRTUAL }, (_, i) => `virt-${String(i).padStart(5, '0')}`);
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, VIRTUAL) }, async () => {
      while (next < names.length) {
        cap.remainingMs();
        await postNode(agent, cp, tracker, names[next++], { cpu: '1', memory: '128Mi' });
      }
    }));
    const createMs = msSince(t0);
    // Progress while they come up: how many are Ready, and how busy the server is.
    let lastCpu = cp.cpuSeconds().total;
    let lastAt = process.hrtime.bigint();
    const ticker = setInterval(() => {
      const cpu = cp.cpuSeconds().total;
      const now = process.hrtime.bigint();
      const ready = names.filter((n) => tracker.seen.get(n)?.readyAt !== undefined).length;
      console.log(`  ${round(msSince(t0) / 1000)} s: ${ready}/${VIRTUAL} Ready; server CPU ${round(((cpu - lastCpu) / (Number(now - lastAt) / 1e9)) * 100)}% over the last ${round(Number(now - lastAt) / 1e9)} s; RSS ${round(cp.memory().rssMiB)} MiB`);
      lastCpu = cpu;
      lastAt = now;
    }, 10_000);
    // Leave time for the measuring window: if not all are Ready by then, it measures those that are (and the bench fails).
    const readyBudgetMs = Math.max(5000, Math.min(180_000, cap.remainingMs() - CPU_WINDOW_S * 1000 - 15_000));
    let allReady = true;
    try {
      await tracker.waitReady(names, readyBudgetMs);
    } catch (err) {
      if (!(err instanceof NotReady)) throw err;
      allReady = false;
      failures.push(`phase 4: ${err.message}; the window below measured the nodes that were up`);
    } finally {
      clearInterval(ticker);
    }
    const readyNames = names.filter((n) => tracker.seen.get(n)?.readyAt !== undefined);
    const last = readyNames.reduce((m, n) => (tracker.seen.get(n)!.readyAt! > m ? tracker.seen.get(n)!.readyAt! : m), t0);
    const allReadyMs = allReady ? Number(last - t0) / 1e6 : NaN;
    const l = latencies(tracker, names);
    tracker.close(); // only the lease watch runs during the window
    if (allReady) console.log(`  all ${VIRTUAL} Ready ${round(allReadyMs)} ms after the first POST (POSTs took ${round(createMs)} ms)`);
    else console.log(`  only ${readyNames.length}/${VIRTUAL} Ready ${round(readyBudgetMs / 1000)} s after the first POST (POSTs took ${round(createMs)} ms): measuring anyway`);

    await sleep(cap.cap(SETTLE_MS));
    let counting = false;
    let updates = 0;
    const lastRenew = new Map<string, number>();
    const intervals: number[] = [];
    const renewed = new Set<string>();
    leases = watchStream(cp.url, `${LEASES_PATH}?watch=true`, cp.token, (e) => {
      if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
      const name = e.object.metadata.name as string;
      const renew = Date.parse(e.object.spec?.renewTime);
      if (counting && e.type === 'MODIFIED') {
        updates++;
        renewed.add(name);
        const prev = lastRenew.get(name);
        if (prev !== undefined && Number.isFinite(renew)) intervals.push(renew - prev);
      }
      if (Number.isFinite(renew)) lastRenew.set(name, renew);
    });
    await leases.started;
    await sleep(cap.cap(1000)); // the initial ADDED events (one per lease) pass before counting
    const cp0 = cp.cpuSeconds();
    const m0 = machineCpu();
    const self0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    counting = true;
    const ended = await Promise.race([sleep(cap.cap(CPU_WINDOW_S * 1000)).then(() => undefined), leases.ended]);
    counting = false;
    const windowS = msSince(w0) / 1000;
    const cp1 = cp.cpuSeconds();
    const m1 = machineCpu();
    const self = process.cpuUsage(self0);
    if (ended) throw ended;
    const cpCpuPct = ((cp1.total - cp0.total) / windowS) * 100;
    const machineBusyPct = ((m1.busy - m0.busy) / windowS) * 100;
    const mem = cp.memory();
    results.virtual = {
      n: VIRTUAL, readyCount: readyNames.length, readyBudgetMs, allReadyMs, ready: summarize(l.ready), createPerSec: VIRTUAL / (createMs / 1000), baselineRssMiB,
      windowS, cpCpuPct, cpSysPct: ((cp1.system - cp0.system) / windowS) * 100,
      machineBusyPct, otherCpuPct: Math.max(0, machineBusyPct - cpCpuPct - ((self.user + self.system) / 1e6 / windowS) * 100), rssMiB: mem.rssMiB, peakRssMiB: mem.peakRssMiB,
      leaseUpdates: updates, heartbeatsPerSec: updates / windowS, expectedPerSec: VIRTUAL * (1000 / HEARTBEAT_MS), leasesRenewed: renewed.size,
      renewIntervalMs: summarize(intervals),
    };
  } catch (err) {
    throw withServerOutput(cp, err);
  } finally {
    leases?.close();
    tracker.close();
    agent.destroy();
    await stopCp(cp);
  }
}

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  const loadAtStart = loadavg();
  console.log(`kcs nodes bench: phases ${[...PHASES].sort().join(',')}${phase3ImpliesPhase2 ? ' (3 runs on the nodes of 2)' : ''}; repeats ${REPEATS}; ${FLEET} docker nodes; ${VIRTUAL} virtual nodes; heartbeat ${HEARTBEAT_MS} ms; cap ${TIME_LIMIT_S}s`);
  const results: Results = {};
  try {
    if (DOCKER_PHASES) {
      const docker = new Docker();
      try {
        await docker.ping();
      } catch (err) {
        throw new Error(`no Docker daemon answers (${(err as Error).message}): phases 1-3 need one; run --phases 4 for the virtual runtime only`);
      }
      await dockerPhases(docker, results);
    }
    if (PHASES.has('4')) await virtualPhase(results);
  } catch (err) {
    failures.push(...cap.failures(err));
  }

  // ---- report ---------------------------------------------------------------------
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISS');
  const rows: Array<Array<string | number>> = [['measure', 'n', 'p50', 'max', 'min', 'unit', 'target']];
  const { image, single, fleet, memory, virtual } = results;
  if (image) rows.push([`node image build${image.upToDate ? ' (was up to date)' : ''}`, 1, image.ms / 1000, '', '', 's', '']);
  if (single) {
    rows.push(['1 node: first (cold) POST -> Ready', 1, single.coldMs, '', '', 'ms', '']);
    rows.push(['1 node: POST -> Ready', single.ready.n, single.ready.p50, single.ready.max, single.ready.min, 'ms', '']);
    const rt = summarize(single.runtimeReadyMs);
    rows.push(['  POST -> RuntimeReady (container started)', rt.n, rt.p50, rt.max, rt.min, 'ms', '']);
    rows.push(['  POST -> container created', single.stages.postToCreated.n, single.stages.postToCreated.p50, single.stages.postToCreated.max, single.stages.postToCreated.min, 'ms', '']);
    rows.push(['  created -> started', single.stages.createdToStarted.n, single.stages.createdToStarted.p50, single.stages.createdToStarted.max, single.stages.createdToStarted.min, 'ms', '']);
    rows.push(['  started -> Ready (agent boot+register)', single.stages.startedToReady.n, single.stages.startedToReady.p50, single.stages.startedToReady.max, single.stages.startedToReady.min, 'ms', '']);
  }
  if (fleet) {
    rows.push([`${fleet.n} nodes: POST -> Ready, per node`, fleet.ready.n, fleet.ready.p50, fleet.ready.max, fleet.ready.min, 'ms', `p50<=${TARGETS.fleetP50Ms} ${mark(fleet.ready.p50 <= TARGETS.fleetP50Ms)}`]);
    rows.push([`${fleet.n} nodes: first POST -> all Ready`, 1, fleet.allReadyMs, '', '', 'ms', `<=${TARGETS.fleetAllReadyMs} ${mark(fleet.allReadyMs <= TARGETS.fleetAllReadyMs)}`]);
    rows.push([`  CPU meanwhile: control plane (whole machine ${round(fleet.machineBusyPct)}% of ${cpus().length * 100}%)`, 1, fleet.cpCpuPct, '', '', '%', '']);
    rows.push(['  POST latency', fleet.post.n, fleet.post.p50, fleet.post.max, fleet.post.min, 'ms', '']);
    rows.push(['  POST -> RuntimeReady (container started)', fleet.runtimeReady.n, fleet.runtimeReady.p50, fleet.runtimeReady.max, fleet.runtimeReady.min, 'ms', '']);
    rows.push(['  POST -> container created', fleet.stages.postToCreated.n, fleet.stages.postToCreated.p50, fleet.stages.postToCreated.max, fleet.stages.postToCreated.min, 'ms', '']);
    rows.push(['  created -> started', fleet.stages.createdToStarted.n, fleet.stages.createdToStarted.p50, fleet.stages.createdToStarted.max, fleet.stages.createdToStarted.min, 'ms', '']);
    rows.push(['  started -> Ready (agent boot+register)', fleet.stages.startedToReady.n, fleet.stages.startedToReady.p50, fleet.stages.startedToReady.max, fleet.stages.startedToReady.min, 'ms', '']);
  }
  if (memory) {
    rows.push(['agent RSS (VmRSS of node in container)', memory.agentRssMiB.n, memory.agentRssMiB.p50, memory.agentRssMiB.max, memory.agentRssMiB.min, 'MiB', `<=${TARGETS.agentRssMiB} ${mark(memory.agentRssMiB.max <= TARGETS.agentRssMiB)}`]);
    rows.push(['  of which anonymous (heap, stacks)', memory.agentAnonMiB.n, memory.agentAnonMiB.p50, memory.agentAnonMiB.max, memory.agentAnonMiB.min, 'MiB', '']);
    rows.push(['  of which file-backed (node binary, shared)', memory.agentFileMiB.n, memory.agentFileMiB.p50, memory.agentFileMiB.max, memory.agentFileMiB.min, 'MiB', '']);
    rows.push(['agent cgroup memory (usage - cache)', memory.agentCgroupMiB.n, memory.agentCgroupMiB.p50, memory.agentCgroupMiB.max, memory.agentCgroupMiB.min, 'MiB', '']);
    rows.push(['agent CPU time from its start (boot, register, heartbeats)', memory.agentCpuSinceStartMs.n, memory.agentCpuSinceStartMs.p50, memory.agentCpuSinceStartMs.max, memory.agentCpuSinceStartMs.min, 'ms', '']);
    rows.push([`all ${memory.agents} agents CPU over ${round(memory.windowS)} s`, 1, memory.agentsCpuPct, '', '', '%', '']);
    rows.push([`control plane CPU over ${round(memory.windowS)} s (sys ${round(memory.cpSysPct)}%)`, 1, memory.cpCpuPct, '', '', '%', '']);
    rows.push([`control plane RSS (peak ${round(memory.cpPeakRssMiB)})`, 1, memory.cpRssMiB, '', '', 'MiB', '']);
    rows.push(['rest of machine (dockerd, ...) CPU', 1, memory.otherCpuPct, '', '', '%', '']);
  }
  if (virtual) {
    if (virtual.readyCount === virtual.n) rows.push([`${virtual.n} virtual: first POST -> all Ready`, 1, virtual.allReadyMs, '', '', 'ms', '']);
    else rows.push([`${virtual.n} virtual: NOT all Ready: ${virtual.readyCount} after ${round(virtual.readyBudgetMs / 1000)} s`, 1, '', '', '', 'ms', 'FAILED']);
    rows.push([`${virtual.n} virtual: POST -> Ready, per node`, virtual.ready.n, virtual.ready.p50, virtual.ready.max, virtual.ready.min, 'ms', '']);
    rows.push([`control plane + agents CPU over ${round(virtual.windowS)} s (sys ${round(virtual.cpSysPct)}%)`, 1, virtual.cpCpuPct, '', '', '%', '']);
    rows.push(['  rest of machine CPU meanwhile', 1, virtual.otherCpuPct, '', '', '%', `whole machine ${round(virtual.machineBusyPct)}%`]);
    rows.push([`control plane + agents RSS (${round(virtual.baselineRssMiB)} with 0 nodes; peak ${round(virtual.peakRssMiB)})`, 1, virtual.rssMiB, '', '', 'MiB', '']);
    rows.push([`heartbeats (Lease updates; expected ${round(virtual.expectedPerSec)}/s${virtual.readyCount < virtual.n ? `, ${round(virtual.expectedPerSec * virtual.readyCount / virtual.n)}/s from the Ready ones` : ''})`, virtual.leaseUpdates, virtual.heartbeatsPerSec, '', '', '/s', `${virtual.leasesRenewed}/${virtual.n} leases renewed`]);
    rows.push(['  renew interval per lease', virtual.renewIntervalMs.n, virtual.renewIntervalMs.p50, virtual.renewIntervalMs.max, virtual.renewIntervalMs.min, 'ms', `p99 ${round(virtual.renewIntervalMs.p99)}`]);
  }
  console.log('');
  printTable(rows);
  console.log('');
  console.log(`node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; total ${round(msSince(startedAt) / 1000)} s`);
  console.log('CPU% = share of one core (100% = one core). Times in phases 1-2 run from sending the POST to the watch showing Ready=True; stage rows use docker\'s Created/StartedAt and this machine\'s wall clock.');
  if (virtual) console.log('Phase 4: the virtual agents run inside the control plane process, so its CPU and RSS include all of them (and the one lease watch this bench holds).');

  const s = (x: Summary) => roundAll({ n: x.n, p50: x.p50, p90: x.p90, max: x.max, min: x.min });
  const json = {
    bench: 'kcs-nodes', node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), phases: [...PHASES].sort(), heartbeatMs: HEARTBEAT_MS,
    imageBuildMs: image && round(image.ms), imageUpToDate: image?.upToDate,
    single: single && { coldMs: round(single.coldMs), readyMs: s(single.ready), samplesMs: single.readyMs.map(round), runtimeReadyMs: s(summarize(single.runtimeReadyMs)), postToCreatedMs: s(single.stages.postToCreated), createdToStartedMs: s(single.stages.createdToStarted), startedToReadyMs: s(single.stages.startedToReady) },
    fleet: fleet && { nodes: fleet.n, allReadyMs: round(fleet.allReadyMs), cpCpuPct: round(fleet.cpCpuPct), machineBusyPct: round(fleet.machineBusyPct), readyMs: s(fleet.ready), runtimeReadyMs: s(fleet.runtimeReady), postMs: s(fleet.post), postToCreatedMs: s(fleet.stages.postToCreated), createdToStartedMs: s(fleet.stages.createdToStarted), startedToReadyMs: s(fleet.stages.startedToReady) },
    memory: memory && { agents: memory.agents, agentCpuSinceStartMs: s(memory.agentCpuSinceStartMs), agentRssMiB: s(memory.agentRssMiB), agentAnonMiB: s(memory.agentAnonMiB), agentFileMiB: s(memory.agentFileMiB), agentCgroupMiB: s(memory.agentCgroupMiB), agentsCpuPct: round(memory.agentsCpuPct), windowS: round(memory.windowS), cpCpuPct: round(memory.cpCpuPct), cpSysPct: round(memory.cpSysPct), cpRssMiB: round(memory.cpRssMiB), cpPeakRssMiB: round(memory.cpPeakRssMiB), otherCpuPct: round(memory.otherCpuPct) },
    virtual: virtual && { nodes: virtual.n, readyCount: virtual.readyCount, allReadyMs: round(virtual.allReadyMs), readyMs: s(virtual.ready), createPerSec: round(virtual.createPerSec), windowS: round(virtual.windowS), cpCpuPct: round(virtual.cpCpuPct), cpSysPct: round(virtual.cpSysPct), machineBusyPct: round(virtual.machineBusyPct), otherCpuPct: round(virtual.otherCpuPct), rssMiB: round(virtual.rssMiB), peakRssMiB: round(virtual.peakRssMiB), baselineRssMiB: round(virtual.baselineRssMiB), leaseUpdates: virtual.leaseUpdates, heartbeatsPerSec: round(virtual.heartbeatsPerSec), expectedPerSec: virtual.expectedPerSec, leasesRenewed: virtual.leasesRenewed, renewIntervalMs: { ...s(virtual.renewIntervalMs), p99: round(virtual.renewIntervalMs.p99) }, cpuIncludesAgents: true },
    targets: TARGETS,
    failures: failures.length, timedOut: cap.passed,
  };
  return report(json, failures);
}

runMain(main);
