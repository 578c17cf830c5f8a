// Scale benchmark: thousands of virtual nodes and a hundred thousand pods on
// one control plane (`bin/kcs up --runtime virtual --heartbeat-ms H
// --node-grace-ms G`, in a child process), driven over HTTP with the admin
// token by N concurrent keep-alive clients, and observed through watches
// read line by line (a few fields picked out of each line's text, no
// JSON.parse per event, so this process stays cheap beside the server on a
// small machine). Each phase starts a fresh control plane, so figures do not
// mix. Phases (--phases, default all):
//   nodes    for each N in --node-counts (1000,2000,5000): N Nodes POSTed by
//            --clients (50) clients; time from the first POST to all Ready
//            (the watch on /api/v1/nodes, started before it, shows each
//            node's Ready condition True), the POST rate, the control
//            plane's RSS then and the CPU seconds it used meanwhile.
//   pods     --nodes (5000) Nodes all Ready first, then --pods (150000) pods
//            (cpu 10m, memory 16Mi: every pod fits) POSTed by --clients
//            clients: the create rate, first POST -> all bound (spec.nodeName
//            set, as a watch on the pods shows) and -> all Running (the
//            agents confirm them; waited for at most --running-timeout s
//            after all are bound, and not a failure if they are not), the
//            control plane's RSS and peak RSS, and its CPU seconds per 1000
//            pods created and bound. Before it, on a fresh control plane
//            with NO nodes (pods stay Pending), the create rate of
//            --baseline-pods (20000; 0 skips it) pods, with the same watch
//            and clients; and the ratio of the two rates (target >= 0.8).
//   steady   on the control plane of phase pods (so it implies it), a
//            --steady-seconds (300) hold with nothing failing: false
//            NotReady (any node whose Ready condition is seen non-True),
//            Lease renewals (watch on kube-node-lease: per lease, the gap
//            between consecutive renewTimes, and the lag, gap minus the
//            heartbeat), the control plane's CPU% and RSS sampled every 5 s,
//            and, from half-way through the window, the wall time of
//            `bin/kcs get nodes` and `bin/kcs get pods -A`, --cli-runs (3)
//            times each (KCS_CONFIG = the child's client config). Lease gaps
//            are reported for the whole window and for its quiet half
//            before the CLI runs.
//   student  --student-nodes (100) Nodes of 64 CPUs, then --student-pods
//            (5000) pods requesting cpu 1 each from --student-clients (20)
//            clients: first POST -> all bound, and pods/s = pods / that time
//            (target >= 2500/s).
//   shutdown --shutdown-nodes (3500) Nodes all Ready, then --clients clients
//            creating pods without pause; 5 s into that, SIGTERM: the time
//            until the control plane has exited (target <= 5 s), and whether
//            it exited by itself (it is killed after 10 s).
// A watch the server ends, or ends with an ERROR event (410), is resumed
// from the last resourceVersion seen (from now, replaying every object, if
// that is refused). Each measure also says how much CPU the rest of the
// machine used meanwhile (high means noisy figures), and this bench's own.
// A phase that fails is reported and the next one runs. Every wait is
// bounded by the --time-limit cap. Prints a table and one JSON
// line. Exits non-zero only if a phase could not complete (a request failed,
// the server died, the cap passed, nodes never Ready, pods never bound);
// missed performance targets are printed as "target met: yes/no". Child
// processes and temp state dirs are removed on every exit, Ctrl-C included.
//
// --store etcd runs every control plane on a private etcd of its own (a
// fresh member on loopback ports for each, stopped by its PID after it;
// Debian's etcd-server, or KCS_ETCD) instead of its SQLite file; its
// figures then exclude etcd's CPU, reported apart for each phase. As
// `kcs up` does with an etcd store, the controllers are leader-elected:
// the lone control plane leads from its first try, before `kcs up`
// reports its URL, so the phases time the same controllers.
// --store both runs the selected phases on SQLite, then on etcd, and adds
// a side-by-side table of each phase's headline figures and a JSON line
// {"bench":"kcs-scale-stores",...}; etcd-tls is an etcd serving only TLS
// clients with a client certificate; a comma-separated list runs each and
// sets each beside the first.
//
//   node bench/scale.ts [--phases nodes,pods,steady,student,shutdown] [--node-counts 1000,2000,5000]
//                       [--clients 50] [--nodes 5000] [--pods 150000] [--baseline-pods 20000]
//                       [--running-timeout 300] [--steady-seconds 300] [--cli-runs 3]
//                       [--student-nodes 100] [--student-pods 5000] [--student-clients 20] [--shutdown-nodes 3500]
//                       [--heartbeat-ms 10000] [--node-grace-ms 40000] [--time-limit 7200]
//                       [--store sqlite|etcd|etcd-tls|both|a,b,...]
// A quick run (about 2 minutes): --node-counts 200,500 --nodes 500 --pods 5000 --baseline-pods 2000
// --steady-seconds 20 --student-nodes 20 --student-pods 1000 (on etcd add --shutdown-nodes 500:
// its 3500 nodes take minutes on 2 cores)
// Env equivalents: KCS_BENCH_PHASES, KCS_BENCH_NODE_COUNTS, KCS_BENCH_CLIENTS,
// KCS_BENCH_NODES, KCS_BENCH_PODS, KCS_BENCH_BASELINE_PODS, KCS_BENCH_RUNNING_TIMEOUT,
// KCS_BENCH_STEADY_SECONDS, KCS_BENCH_CLI_RUNS, KCS_BENCH_STUDENT_NODES,
// KCS_BENCH_STUDENT_PODS, KCS_BENCH_STUDENT_CLIENTS, KCS_BENCH_SHUTDOWN_NODES, KCS_BENCH_HEARTBEAT_MS,
// KCS_BENCH_NODE_GRACE_MS, KCS_BENCH_TIME_LIMIT, KCS_BENCH_STORE.
import { spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkBuild, cleanupOnExit, Deadline, httpCall, intOpt, KCS_BIN, machineCpu, msSince, printTable, processCpuSeconds, processMemory, ROOT, round, roundAll,
  runMain, startChildControlPlane, summarize, watchLines, withServerOutput, type ChildControlPlane, type Summary, type WatchStream,
} from './lib.ts';
import { compareScaleRuns, type ScaleSummary } from './scale-compare.ts';
import { startStore, storesOpt, type BenchStore, type StoreName } from './stores.ts';

const { values: args } = parseArgs({
  options: {
    phases: { type: 'string' },
    'node-counts': { type: 'string' },
    clients: { type: 'string' },
    nodes: { type: 'string' },
    pods: { type: 'string' },
    'baseline-pods': { type: 'string' },
    'running-timeout': { type: 'string' },
    'steady-seconds': { type: 'string' },
    'cli-runs': { type: 'string' },
    'student-nodes': { type: 'string' },
    'student-pods': { type: 'string' },
    'shutdown-nodes': { type: 'string' },
    'student-clients': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'node-grace-ms': { type: 'string' },
    'time-limit': { type: 'string' },
    store: { type: 'string' },
  },
});

/** A comma-separated list of integers from --<name> or $KCS_BENCH_<NAME>, each within [min, max]; anything else exits 2. */
function intListOpt(flag: string | undefined, name: string, dflt: number[], min: number, max: number): number[] {
  const env = `KCS_BENCH_${name.toUpperCase().replaceAll('-', '_')}`;
  const raw = flag ?? process.env[env];
  if (raw === undefined) return dflt;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!list.length || list.some((v) => !Number.isInteger(v) || v < min || v > max)) {
    console.error(`--${name} (${env}) takes a comma-separated list of integers in [${min}, ${max}] (got ${raw})`);
    process.exit(2);
  }
  return list;
}

const PHASE_NAMES = ['nodes', 'pods', 'steady', 'student', 'shutdown'] as const;
type PhaseName = (typeof PHASE_NAMES)[number];
const PHASES = new Set<PhaseName>();
for (const p of (args.phases ?? process.env.KCS_BENCH_PHASES ?? PHASE_NAMES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
  if (!(PHASE_NAMES as readonly string[]).includes(p)) {
    console.error(`--phases takes a comma-separated subset of ${PHASE_NAMES.join(',')} (got ${JSON.stringify(p)})`);
    process.exit(2);
  }
  PHASES.add(p as PhaseName);
}
const steadyImpliesPods = PHASES.has('steady') && !PHASES.has('pods');
if (PHASES.has('steady')) PHASES.add('pods');

const NODE_COUNTS = intListOpt(args['node-counts'], 'node-counts', [1000, 2000, 5000], 1, 100_000);
const CLIENTS = intOpt(args.clients, 'clients', 50, 1, 1000);
const NODES = intOpt(args.nodes, 'nodes', 5000, 1, 100_000);
const PODS = intOpt(args.pods, 'pods', 150_000, 1, 2_000_000);
const BASELINE_PODS = intOpt(args['baseline-pods'], 'baseline-pods', 20_000, 0, 2_000_000);
const RUNNING_TIMEOUT_S = intOpt(args['running-timeout'], 'running-timeout', 300, 0, 86_400);
const STEADY_S = intOpt(args['steady-seconds'], 'steady-seconds', 300, 1, 86_400);
const CLI_RUNS = intOpt(args['cli-runs'], 'cli-runs', 3, 0, 100);
const STUDENT_NODES = intOpt(args['student-nodes'], 'student-nodes', 100, 1, 100_000);
const STUDENT_PODS = intOpt(args['student-pods'], 'student-pods', 5000, 1, 2_000_000);
const STUDENT_CLIENTS = intOpt(args['student-clients'], 'student-clients', 20, 1, 1000);
const SHUTDOWN_NODES = intOpt(args['shutdown-nodes'], 'shutdown-nodes', 3500, 1, 100_000);
const HEARTBEAT_MS = intOpt(args['heartbeat-ms'], 'heartbeat-ms', 10_000, 100, 600_000);
const NODE_GRACE_MS = intOpt(args['node-grace-ms'], 'node-grace-ms', 40_000, 200, 3_600_000);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 7200, 10, 86_400);
const STORES = storesOpt(args.store);

const TARGETS = { createRateRatio: 0.8, studentPodsPerSec: 2500, shutdownMs: 5000 };
const NODES_PATH = '/api/v1/nodes';
const PODS_PATH = '/api/v1/namespaces/default/pods';
const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
/** How often progress is printed while waiting, and the control plane sampled during the steady window. */
const PROGRESS_MS = 10_000;
const SAMPLE_MS = 5000;

/** The time cap; past it by 60 s, the process gives up whatever it is waiting for. */
const cap = new Deadline(TIME_LIMIT_S * 1000).hardStop(60);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const { pids: livePids, children: liveChildren } = cleanupOnExit();
const failures: string[] = [];

// ---- reading watch lines cheaply ---------------------------------------------------
// Each line is {"type":"...","object":{...,"metadata":{"name":"...",...,"resourceVersion":"..."},...}}
// as the server writes it: the few fields needed are found in the text.

function typeOf(line: string): string {
  return line.startsWith('{"type":"') ? line.slice(9, line.indexOf('"', 9)) : (JSON.parse(line) as { type: string }).type;
}

function fieldAfter(line: string, key: string, from = 0): string | undefined {
  const i = line.indexOf(key, from);
  if (i < 0) return undefined;
  const s = i + key.length;
  return line.slice(s, line.indexOf('"', s));
}

/** The object's own name: the first "name" inside "metadata". */
function nameOf(line: string): string | undefined {
  const m = line.indexOf('"metadata":{');
  return m < 0 ? undefined : fieldAfter(line, '"name":"', m);
}

/** metadata.resourceVersion: the first one in the line (metadata comes before spec and status). */
function rvOf(line: string): string | undefined {
  return fieldAfter(line, '"resourceVersion":"');
}

/** The status of a Node's Ready condition, undefined if it has none. */
function readyOf(line: string): string | undefined {
  const i = line.indexOf('"type":"Ready"');
  if (i < 0) return undefined;
  const start = line.lastIndexOf('{', i);
  const end = line.indexOf('}', i);
  return fieldAfter(line.slice(start, end), '"status":"');
}

/** The index of a bench object named `${prefix}${index}` (zero-padded), or -1. */
function indexOf(name: string | undefined, prefix: string, count: number): number {
  if (!name?.startsWith(prefix)) return -1;
  const i = Number(name.slice(prefix.length));
  return Number.isInteger(i) && i >= 0 && i < count ? i : -1;
}

const objName = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;

// ---- a watch that survives the server ending it --------------------------------------

/**
 * Follows a watch: when the server ends it (a slow reader, a restart) or
 * sends an ERROR (410 Expired), it watches again from the last
 * resourceVersion seen; if that is refused too (compacted), from now,
 * which replays every object as ADDED (handlers must be idempotent). Fails
 * after 20 attempts in a row that delivered nothing, or at the cap.
 */
class Follow {
  lastRv?: string;
  restarts = 0;
  errors = 0;
  lastError?: string;
  lines = 0;
  readonly started: Promise<void>;
  private stream?: WatchStream;
  private closed = false;
  private failedWith?: Error;
  private emptyAttempts = 0;
  private resolveStarted!: () => void;
  private rejectStarted!: (err: Error) => void;

  private readonly cp: ChildControlPlane;
  private readonly path: string;
  private readonly onLine: (type: string, line: string) => void;

  constructor(cp: ChildControlPlane, path: string, onLine: (type: string, line: string) => void) {
    this.cp = cp;
    this.path = path;
    this.onLine = onLine;
    this.started = new Promise((resolveStart, rejectStart) => {
      this.resolveStarted = resolveStart;
      this.rejectStarted = rejectStart;
    });
    this.started.catch(() => {});
    this.open(undefined);
  }

  /** The error that ended it for good, if one has. */
  get failure(): Error | undefined {
    return this.failedWith;
  }

  private open(rv: string | undefined): void {
    let delivered = false;
    let refused = false;
    const path = `${this.path}?watch=true${rv ? `&resourceVersion=${rv}` : ''}`;
    const stream = watchLines(this.cp.url, path, this.cp.token, (line) => {
      const type = typeOf(line);
      if (type === 'ERROR') {
        this.errors++;
        this.lastError = line.slice(0, 300);
        if (!delivered) refused = true;
        return;
      }
      delivered = true;
      this.lines++;
      const v = rvOf(line);
      if (v) this.lastRv = v;
      this.onLine(type, line);
    });
    this.stream = stream;
    void stream.started.then(() => this.resolveStarted(), () => {});
    void stream.ended.then((err) => {
      if (this.closed || this.stream !== stream) return;
      this.emptyAttempts = delivered ? 0 : this.emptyAttempts + 1;
      if (this.emptyAttempts >= 20 || cap.expired()) {
        this.failedWith = new Error(`watch ${this.path} could not be resumed (${this.emptyAttempts} attempts in a row delivered nothing): ${err.message}${this.lastError ? `; last ERROR event: ${this.lastError}` : ''}`);
        this.rejectStarted(this.failedWith);
        return;
      }
      this.restarts++;
      // Refused straight away: the revision is gone, so start from now (a full replay).
      const next = refused ? undefined : this.lastRv;
      setTimeout(() => {
        if (!this.closed) this.open(next);
      }, Math.min(2000, 50 * 2 ** this.emptyAttempts));
    });
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
  }
}

// ---- waiting, bounded ----------------------------------------------------------------

/** CPU% of one core the control plane used since the last call. */
function cpuMeter(pid: number): () => number {
  let last = processCpuSeconds(pid);
  let at = performance.now();
  return () => {
    const cpu = processCpuSeconds(pid);
    const now = performance.now();
    const pct = ((cpu - last) / ((now - at) / 1000)) * 100;
    last = cpu;
    at = now;
    return pct;
  };
}

/**
 * Polls `done` every 50 ms until it holds (true), `budgetMs` passes (false),
 * or the cap passes (TimeCap). Throws if the control plane exits or a
 * watch fails for good. Prints `progress()` every PROGRESS_MS.
 */
async function waitUntil(cp: ChildControlPlane, done: () => boolean, follows: Follow[], progress: () => string, budgetMs = Infinity): Promise<boolean> {
  const meter = cpuMeter(cp.pid);
  const until = performance.now() + budgetMs;
  let nextPrint = performance.now() + PROGRESS_MS;
  while (!done()) {
    const exit = cp.exitStatus();
    if (exit) throw new Error(`the control plane exited (${exit})`);
    for (const f of follows) if (f.failure) throw f.failure;
    if (performance.now() >= until) return false;
    await sleep(cap.cap(50));
    if (performance.now() >= nextPrint) {
      nextPrint += PROGRESS_MS;
      console.log(`    ${progress()}; server CPU ${round(meter())}%, RSS ${round(processMemory(cp.pid).rssMiB)} MiB`);
    }
  }
  return true;
}

// ---- requests ------------------------------------------------------------------------

/**
 * POSTs `count` bodies with `clients` concurrent keep-alive clients. A
 * socket error, 429 or 5xx is retried (twice); a 409 on a retry means the
 * first attempt went through. Records when each was sent (postAt, ms on the
 * performance clock) and when the `mark`-th answer came. Throws if any
 * failed for good.
 */
async function postAll(agent: Agent, cp: ChildControlPlane, path: string, count: number, clients: number, body: (i: number) => string,
  postAt?: Float64Array, mark?: { n: number; at?: number }): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const worker = async () => {
    while (next < count && failed < 100) {
      cap.remainingMs();
      const i = next++;
      const b = body(i);
      if (postAt) postAt[i] = performance.now();
      for (let attempt = 0; ; attempt++) {
        let problem: string | undefined;
        let retry = false;
        try {
          const res = await httpCall(agent, cp.url, 'POST', path, cp.token, b);
          if (res.status === 201 || (res.status === 409 && attempt > 0)) break;
          problem = `POST ${path} #${i} -> ${res.status} ${res.body.slice(0, 300)}`;
          retry = res.status === 429 || res.status >= 500;
        } catch (err) {
          problem = `POST ${path} #${i} -> ${(err as Error).message}`;
          retry = true;
        }
        if (!retry || attempt >= 2) {
          failed++;
          firstFailure ??= problem;
          break;
        }
        await sleep(cap.cap(200 * (attempt + 1)));
      }
      if (++done === mark?.n) mark.at = performance.now();
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, count) }, worker));
  if (failed) throw new Error(`${failed} POST(s) to ${path} failed${failed >= 100 ? ' (stopped at 100)' : ''}; first: ${firstFailure}`);
}

const nodeBody = (name: string, capacity: string) => `{"apiVersion":"v1","kind":"Node","metadata":{"name":"${name}"},"spec":{"capacity":${capacity}}}`;
const podBody = (name: string, requests: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}"},"spec":{"containers":[{"name":"c","resources":{"requests":${requests}}}]}}`;

async function startCp(store: BenchStore): Promise<ChildControlPlane> {
  const cp = await startChildControlPlane({ args: ['--runtime', 'virtual', '--heartbeat-ms', String(HEARTBEAT_MS), '--node-grace-ms', String(NODE_GRACE_MS), ...store.upArgs] });
  livePids.add(cp.pid);
  return cp;
}

async function stopCp(cp: ChildControlPlane): Promise<void> {
  await cp.stop();
  livePids.delete(cp.pid);
}

// ---- nodes -----------------------------------------------------------------------------

interface NodeRun {
  count: number;
  readyCount: number;
  /** First POST -> the watch shows the last node Ready; NaN if not all were. */
  readyMs: number;
  /** First POST -> last POST answered. */
  postMs: number;
  postRate: number;
  /** Per node, POST -> Ready. */
  readyLatencyMs?: Summary;
  rssMiB: number;
  peakRssMiB: number;
  /** Control-plane CPU seconds from the first POST to all Ready (or to giving up). */
  cpuSeconds: number;
  cpuPct: number;
  benchCpuSeconds: number;
  watchRestarts: number;
  /** Nodes seen Ready, then not, while waiting for the rest. */
  lostReady: number;
  /** CPU the rest of the machine used meanwhile, % of one core: high means noisy figures. */
  otherCpuPct: number;
}

/**
 * Creates `count` Nodes named `${prefix}NNNNNN` and waits until all are
 * Ready, filling `out` as it goes (so a failure still reports how far it got).
 */
async function createNodes(cp: ChildControlPlane, count: number, capacity: Record<string, string>, prefix: string, clients: number, out: Partial<NodeRun>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const ready = new Uint8Array(count);
  const postAt = new Float64Array(count);
  const readyAt = new Float64Array(count).fill(NaN);
  let readyCount = 0;
  let lostReady = 0;
  let allReadyAt = NaN;
  const follow = new Follow(cp, NODES_PATH, (type, line) => {
    if (type === 'DELETED') return;
    const i = indexOf(nameOf(line), prefix, count);
    if (i < 0) return;
    const isReady = readyOf(line) === 'True';
    if (isReady && !ready[i]) {
      ready[i] = 1;
      if (Number.isNaN(readyAt[i])) readyAt[i] = performance.now();
      if (++readyCount === count) allReadyAt = performance.now();
    } else if (!isReady && ready[i]) {
      ready[i] = 0;
      readyCount--;
      lostReady++;
    }
  });
  const caps = JSON.stringify(capacity);
  out.count = count;
  let cpu0 = NaN;
  let t0 = NaN;
  let m0 = NaN;
  const self0 = process.cpuUsage();
  try {
    await cap.race(follow.started);
    cpu0 = processCpuSeconds(cp.pid);
    m0 = machineCpu().busy;
    t0 = performance.now();
    await postAll(agent, cp, NODES_PATH, count, clients, (i) => nodeBody(objName(prefix, i), caps), postAt);
    out.postMs = performance.now() - t0;
    out.postRate = count / (out.postMs / 1000);
    console.log(`    ${count} POSTs answered in ${round(out.postMs)} ms (${round(out.postRate)}/s); waiting for Ready`);
    await waitUntil(cp, () => readyCount === count, [follow], () => `${round((performance.now() - t0) / 1000)} s: ${readyCount}/${count} Ready`);
  } finally {
    const now = performance.now();
    follow.close();
    agent.destroy();
    const mem = processMemory(cp.pid);
    const self = process.cpuUsage(self0);
    const lat: number[] = [];
    for (let i = 0; i < count; i++) if (!Number.isNaN(readyAt[i])) lat.push(readyAt[i] - postAt[i]);
    const cpuSeconds = processCpuSeconds(cp.pid) - cpu0;
    const wallS = (now - t0) / 1000;
    Object.assign(out, {
      otherCpuPct: Math.max(0, ((machineCpu().busy - m0 - cpuSeconds - (self.user + self.system) / 1e6) / wallS) * 100),
      readyCount, readyMs: allReadyAt - t0, readyLatencyMs: summarize(lat), rssMiB: mem.rssMiB, peakRssMiB: mem.peakRssMiB,
      cpuSeconds, cpuPct: (cpuSeconds / wallS) * 100,
      benchCpuSeconds: (self.user + self.system) / 1e6, watchRestarts: follow.restarts, lostReady,
    });
    out.postMs ??= NaN;
    out.postRate ??= NaN;
  }
}

// ---- pods ------------------------------------------------------------------------------

interface PodRun {
  count: number;
  clients: number;
  createMs: number;
  createRate: number;
  /** The rate over the first `markAt` creates (what the baseline measures), when asked for. */
  markAt?: number;
  createRateAtMark?: number;
  seen: number;
  bound: number;
  running: number;
  /** First POST -> the watch shows the last pod bound / Running; NaN if not all were. */
  allBoundMs: number;
  allRunningMs: number;
  bindLatencyMs?: Summary;
  /** Per pod, bound -> Running (as the watch showed them). */
  runLatencyMs?: Summary;
  /** Bound pods seen unbound again, Running ones seen not Running (nothing failed, so neither should happen). */
  unbinds: number;
  unrun: number;
  rssMiB: number;
  peakRssMiB: number;
  /** Control-plane CPU seconds from the first POST to all bound (or to giving up). */
  cpuSeconds: number;
  cpuSecondsPer1000Pods: number;
  benchCpuSeconds: number;
  watchRestarts: number;
  watchLines: number;
  otherCpuPct: number;
}

const SEEN = 1;
const BOUND = 2;
const RUNNING = 4;

/**
 * Creates `count` pods named `${prefix}NNNNNN` and, with `wait`, waits for
 * all to be bound, then (for at most runningBudgetMs) Running, filling `out`.
 */
async function createPods(cp: ChildControlPlane, count: number, requests: Record<string, string>, prefix: string, clients: number,
  opts: { wait: boolean; runningBudgetMs?: number; markAt?: number }, out: Partial<PodRun>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const state = new Uint8Array(count);
  const postAt = new Float64Array(count);
  const boundAt = new Float64Array(count).fill(NaN);
  const runningAt = new Float64Array(count).fill(NaN);
  let seen = 0;
  let bound = 0;
  let running = 0;
  let unbinds = 0;
  let unrun = 0;
  let allBoundAt = NaN;
  let allRunningAt = NaN;
  const follow = new Follow(cp, PODS_PATH, (type, line) => {
    if (type === 'DELETED') return;
    const i = indexOf(nameOf(line), prefix, count);
    if (i < 0) return;
    const s = state[i];
    const now = performance.now();
    let next = s | SEEN;
    if (!(s & SEEN)) seen++;
    const isBound = line.includes('"nodeName":"');
    if (isBound && !(s & BOUND)) {
      next |= BOUND;
      if (Number.isNaN(boundAt[i])) boundAt[i] = now;
      if (++bound === count) allBoundAt = now;
    } else if (!isBound && s & BOUND) {
      next &= ~BOUND;
      bound--;
      unbinds++;
    }
    const isRunning = line.includes('"phase":"Running"');
    if (isRunning && !(s & RUNNING)) {
      next |= RUNNING;
      if (Number.isNaN(runningAt[i])) runningAt[i] = now;
      if (++running === count) allRunningAt = now;
    } else if (!isRunning && s & RUNNING) {
      next &= ~RUNNING;
      running--;
      unrun++;
    }
    state[i] = next;
  });
  const reqs = JSON.stringify(requests);
  const mark = opts.markAt ? { n: opts.markAt } as { n: number; at?: number } : undefined;
  Object.assign(out, { count, clients });
  let cpu0 = NaN;
  let cpuAtBound = NaN;
  let t0 = NaN;
  let m0 = NaN;
  const self0 = process.cpuUsage();
  try {
    await cap.race(follow.started);
    cpu0 = processCpuSeconds(cp.pid);
    m0 = machineCpu().busy;
    t0 = performance.now();
    const progress = () => `${round((performance.now() - t0) / 1000)} s: ${seen}/${count} seen, ${bound} bound, ${running} Running`;
    const ticker = setInterval(() => console.log(`    ${progress()} (creating)`), PROGRESS_MS);
    try {
      await postAll(agent, cp, PODS_PATH, count, clients, (i) => podBody(objName(prefix, i), reqs), postAt, mark);
    } finally {
      clearInterval(ticker);
    }
    out.createMs = performance.now() - t0;
    out.createRate = count / (out.createMs / 1000);
    if (mark?.at !== undefined) Object.assign(out, { markAt: mark.n, createRateAtMark: mark.n / ((mark.at - t0) / 1000) });
    console.log(`    ${count} pods created in ${round(out.createMs)} ms (${round(out.createRate)}/s)${opts.wait ? '; waiting for all bound' : ''}`);
    if (!opts.wait) {
      // Only that the watch has seen them all: not timed.
      await waitUntil(cp, () => seen === count, [follow], progress, 60_000);
      return;
    }
    await waitUntil(cp, () => bound === count, [follow], progress);
    cpuAtBound = processCpuSeconds(cp.pid);
    console.log(`    all ${count} bound ${round(allBoundAt - t0)} ms after the first POST; waiting for Running (at most ${round((opts.runningBudgetMs ?? 0) / 1000)} s)`);
    const allRunning = await waitUntil(cp, () => running === count, [follow], progress, opts.runningBudgetMs ?? 0);
    if (!allRunning) console.log(`    only ${running}/${count} Running ${round((opts.runningBudgetMs ?? 0) / 1000)} s after all were bound: going on`);
  } finally {
    follow.close();
    agent.destroy();
    const mem = processMemory(cp.pid);
    const self = process.cpuUsage(self0);
    const lat: number[] = [];
    const run: number[] = [];
    for (let i = 0; i < count; i++) {
      if (!Number.isNaN(boundAt[i])) lat.push(boundAt[i] - postAt[i]);
      if (!Number.isNaN(runningAt[i])) run.push(runningAt[i] - boundAt[i]);
    }
    const cpuSeconds = (Number.isNaN(cpuAtBound) ? processCpuSeconds(cp.pid) : cpuAtBound) - cpu0;
    const cpuToNow = processCpuSeconds(cp.pid) - cpu0;
    Object.assign(out, {
      otherCpuPct: Math.max(0, ((machineCpu().busy - m0 - cpuToNow - (self.user + self.system) / 1e6) / ((performance.now() - t0) / 1000)) * 100),
      seen, bound, running, unbinds, unrun, allBoundMs: allBoundAt - t0, allRunningMs: allRunningAt - t0, bindLatencyMs: opts.wait ? summarize(lat) : undefined, runLatencyMs: opts.wait ? summarize(run) : undefined,
      rssMiB: mem.rssMiB, peakRssMiB: mem.peakRssMiB, cpuSeconds, cpuSecondsPer1000Pods: opts.wait && bound === count ? cpuSeconds / (count / 1000) : NaN,
      benchCpuSeconds: (self.user + self.system) / 1e6, watchRestarts: follow.restarts, watchLines: follow.lines,
    });
    out.createMs ??= NaN;
    out.createRate ??= NaN;
  }
}

// ---- steady ------------------------------------------------------------------------------

interface CliTiming { command: string; runsMs: number[]; medianMs: number; lines: number; expectedLines: number }

interface SteadyRun {
  windowS: number;
  nodes: number;
  notReadyAtStart: number;
  /** Ready condition seen non-True during the window: events, and distinct nodes. */
  falseNotReady: number;
  falseNotReadyNodes: number;
  firstFalseNotReady?: string;
  leaseUpdates: number;
  leasesRenewed: number;
  expectedLeaseUpdates: number;
  leaseGapMs: Summary;
  leaseLagMs: Summary;
  leaseArrivalGapMs: Summary;
  quietS: number;
  quietLeaseGapMs: Summary;
  quietLeaseLagMs: Summary;
  cpuPct: Summary;
  rssMiB: Summary;
  peakRssMiB: number;
  benchCpuSeconds: number;
  watchRestarts: number;
  cli: CliTiming[];
}

/** Runs bin/kcs once with the child's client config; resolves with its wall time and stdout line count. */
function runKcs(cp: ChildControlPlane, argv: string[], timeoutMs: number): Promise<{ ms: number; lines: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KCS_CONFIG: join(cp.stateDir, 'kubeconfig') };
  for (const k of ['KCS_STATE_DIR', 'KCS_SERVER', 'KCS_TOKEN', 'KUBECONFIG', 'NODE_OPTIONS']) delete env[k];
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    const child = spawn(KCS_BIN, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let lines = 0;
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      liveChildren.delete(child);
      if (code === 0) resolveRun({ ms, lines });
      else reject(new Error(`kcs ${argv.join(' ')}: ${signal ? `killed (${signal}) after ${round(ms)} ms` : `exit ${code}`} ${stderr.trim().slice(0, 300)}`));
    });
  });
}

async function steady(cp: ChildControlPlane, nodeCount: number, podCount: number, out: Partial<SteadyRun>): Promise<void> {
  const prefix = 'node-';
  let counting = false;
  let w0 = NaN;
  const ready = new Uint8Array(nodeCount);
  let notReadyAtStart = 0;
  let falseNotReady = 0;
  const falseNodes = new Set<number>();
  let firstFalse: string | undefined;
  let nodesSeen = 0;
  const nodeSeen = new Uint8Array(nodeCount);
  const nodes = new Follow(cp, NODES_PATH, (type, line) => {
    if (type === 'DELETED') return;
    const i = indexOf(nameOf(line), prefix, nodeCount);
    if (i < 0) return;
    if (!nodeSeen[i]) {
      nodeSeen[i] = 1;
      nodesSeen++;
    }
    const isReady = readyOf(line) === 'True';
    if (!isReady && counting && ready[i]) {
      falseNotReady++;
      falseNodes.add(i);
      firstFalse ??= `${objName(prefix, i)} Ready=${readyOf(line) ?? 'none'} ${round((performance.now() - w0) / 1000)} s into the window`;
    }
    ready[i] = isReady ? 1 : 0;
  });
  const lastRenew = new Float64Array(nodeCount).fill(NaN);
  const lastArrival = new Float64Array(nodeCount).fill(NaN);
  const renewed = new Uint8Array(nodeCount);
  let leasesRenewed = 0;
  let leaseUpdates = 0;
  let leasesSeen = 0;
  let quietEnd = Infinity;
  const gaps: number[] = [];
  const quietGaps: number[] = [];
  const arrivalGaps: number[] = [];
  const leases = new Follow(cp, LEASES_PATH, (type, line) => {
    if (type === 'DELETED') return;
    const i = indexOf(nameOf(line), prefix, nodeCount);
    if (i < 0) return;
    const now = performance.now();
    const renew = Date.parse(fieldAfter(line, '"renewTime":"') ?? '');
    if (Number.isNaN(lastRenew[i])) leasesSeen++;
    if (counting && type === 'MODIFIED' && Number.isFinite(renew) && renew !== lastRenew[i]) {
      leaseUpdates++;
      if (!renewed[i]) {
        renewed[i] = 1;
        leasesRenewed++;
      }
      if (!Number.isNaN(lastRenew[i])) {
        gaps.push(renew - lastRenew[i]);
        if (now < quietEnd) quietGaps.push(renew - lastRenew[i]);
      }
      if (!Number.isNaN(lastArrival[i])) arrivalGaps.push(now - lastArrival[i]);
      lastArrival[i] = now;
    }
    if (Number.isFinite(renew)) lastRenew[i] = renew;
  });
  const samples: Array<{ cpuPct: number; rssMiB: number }> = [];
  let sampler: NodeJS.Timeout | undefined;
  const self0 = process.cpuUsage();
  try {
    await cap.race(Promise.all([nodes.started, leases.started]));
    // The initial replay (every node and lease as ADDED) passes before counting.
    const replayed = await waitUntil(cp, () => nodesSeen === nodeCount && leasesSeen === nodeCount, [nodes, leases], () => `replay: ${nodesSeen} nodes, ${leasesSeen} leases`, 60_000);
    if (!replayed) throw new Error(`the watches showed ${nodesSeen} nodes and ${leasesSeen} leases of ${nodeCount} after 60 s`);
    await sleep(cap.cap(1000));
    for (let i = 0; i < nodeCount; i++) if (!ready[i]) notReadyAtStart++;
    const meter = cpuMeter(cp.pid);
    sampler = setInterval(() => samples.push({ cpuPct: meter(), rssMiB: processMemory(cp.pid).rssMiB }), SAMPLE_MS);
    w0 = performance.now();
    counting = true;
    console.log(`    window started: ${nodeCount - notReadyAtStart}/${nodeCount} Ready; ${STEADY_S} s${CLI_RUNS ? `, the CLI runs from ${round(STEADY_S / 2)} s` : ''}`);
    const progress = () => `${round((performance.now() - w0) / 1000)} s: ${leaseUpdates} lease renewals, ${falseNotReady} false NotReady`;
    const cli: CliTiming[] = [];
    out.cli = cli;
    if (CLI_RUNS) {
      await waitUntil(cp, () => false, [nodes, leases], progress, (STEADY_S * 1000) / 2);
      quietEnd = performance.now();
      out.quietS = (quietEnd - w0) / 1000;
      for (const [argv, expected] of [[['get', 'nodes'], nodeCount], [['get', 'pods', '-A'], podCount]] as const) {
        const t: CliTiming = { command: `kcs ${argv.join(' ')}`, runsMs: [], medianMs: NaN, lines: 0, expectedLines: expected + 1 };
        cli.push(t);
        for (let r = 0; r < CLI_RUNS; r++) {
          const res = await runKcs(cp, [...argv], cap.cap(300_000));
          cap.remainingMs();
          t.runsMs.push(res.ms);
          t.lines = res.lines;
          console.log(`    ${t.command}: ${round(res.ms)} ms, ${res.lines} lines`);
        }
        t.medianMs = summarize(t.runsMs).p50;
        if (t.lines !== t.expectedLines) failures.push(`steady: ${t.command} printed ${t.lines} lines, expected ${t.expectedLines} (a header and one per object)`);
      }
    }
    await waitUntil(cp, () => false, [nodes, leases], progress, Math.max(0, STEADY_S * 1000 - (performance.now() - w0)));
  } finally {
    counting = false;
    clearInterval(sampler);
    nodes.close();
    leases.close();
    const windowS = (performance.now() - w0) / 1000;
    const self = process.cpuUsage(self0);
    const lag = (g: number[]) => summarize(g.map((x) => x - HEARTBEAT_MS));
    Object.assign(out, {
      windowS, nodes: nodeCount, notReadyAtStart, falseNotReady, falseNotReadyNodes: falseNodes.size, firstFalseNotReady: firstFalse,
      leaseUpdates, leasesRenewed, expectedLeaseUpdates: Number.isFinite(windowS) ? Math.floor(nodeCount * windowS * 1000 / HEARTBEAT_MS) : NaN,
      leaseGapMs: summarize(gaps), leaseLagMs: lag(gaps), leaseArrivalGapMs: summarize(arrivalGaps),
      quietLeaseGapMs: summarize(quietGaps), quietLeaseLagMs: lag(quietGaps),
      cpuPct: summarize(samples.map((s) => s.cpuPct)), rssMiB: summarize(samples.map((s) => s.rssMiB)), peakRssMiB: processMemory(cp.pid).peakRssMiB,
      benchCpuSeconds: (self.user + self.system) / 1e6, watchRestarts: nodes.restarts + leases.restarts,
    });
    out.quietS ??= windowS;
  }
}

// ---- phases --------------------------------------------------------------------------------

interface Results {
  store: StoreName;
  /** The etcd member's own figures over each phase (none with SQLite, which is the control plane's). */
  storeUse: StoreUse[];
  nodes: Array<Partial<NodeRun>>;
  baseline?: Partial<PodRun>;
  pods?: Partial<PodRun> & { nodes: number; nodesReady?: Partial<NodeRun> };
  steady?: Partial<SteadyRun>;
  student?: Partial<PodRun> & { nodes: number; nodesReady?: Partial<NodeRun>; podsPerSec?: number };
  shutdown?: { nodes: number; nodesReady?: Partial<NodeRun>; podsCreated?: number; stopMs?: number; exit?: string };
}

interface StoreUse { phase: string; wallS: number; cpuSeconds: number; rssMiB: number; peakRssMiB: number }

/** Follows the etcd member from now (undefined for SQLite): what it used by the time the returned function is called. */
function storeMeter(store: BenchStore): ((phase: string) => StoreUse) | undefined {
  const pid = store.etcd?.pid;
  if (pid === undefined) return undefined;
  const cpu0 = processCpuSeconds(pid);
  const t0 = performance.now();
  return (phase) => {
    const mem = processMemory(pid);
    return { phase, wallS: (performance.now() - t0) / 1000, cpuSeconds: processCpuSeconds(pid) - cpu0, rssMiB: mem.rssMiB, peakRssMiB: mem.peakRssMiB };
  };
}

/** A control plane and the store only it uses. */
interface Kept { cp: ChildControlPlane; store: BenchStore }

/**
 * Runs one phase on a fresh control plane, on a fresh store of its own (so
 * no phase finds another's objects in etcd); a failure is recorded and the
 * next phase runs. Returns the control plane and its store if keep.
 */
async function phase(results: Results, name: string, body: (cp: ChildControlPlane) => Promise<void>, keep = false): Promise<Kept | undefined> {
  let store: BenchStore | undefined;
  let cp: ChildControlPlane | undefined;
  let meter: ReturnType<typeof storeMeter>;
  let ok = false;
  try {
    cap.remainingMs();
    store = await startStore(results.store);
    meter = storeMeter(store);
    cp = await startCp(store);
    console.log(`  control plane pid ${cp.pid} at ${cp.url.origin}${store.etcd ? `; etcd ${store.etcd.endpoint}, pid ${store.etcd.pid}` : ''}`);
    await body(cp);
    ok = true;
    return keep ? { cp, store } : undefined;
  } catch (err) {
    failures.push(...cap.failures(cp ? withServerOutput(cp, err) : err).map((f) => `${name}: ${f}`));
    return undefined;
  } finally {
    if (meter) results.storeUse.push(meter(name));
    if (!(ok && keep)) {
      if (cp) await stopCp(cp);
      await store?.stop();
    }
  }
}

const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${round(ms)} ms` : 'not all');

// Room for every pod in phase pods: at least the default 110 pods a node, 6400 of 10m by CPU, 16384 of 16Mi by memory.
const PODS_PER_NODE = Math.max(110, Math.ceil((PODS / NODES) * 1.25));

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  if (PHASES.has('pods') && PODS_PER_NODE > 6400) {
    console.error(`--pods ${PODS} on --nodes ${NODES} is more than 6400 pods a node: they would not fit`);
    return 2;
  }
  const loadAtStart = loadavg();
  const list = PHASE_NAMES.filter((p) => PHASES.has(p));
  console.log(`kcs scale bench: phases ${list.join(',')}${steadyImpliesPods ? ' (steady runs on the cluster of pods)' : ''}; heartbeat ${HEARTBEAT_MS} ms, grace ${NODE_GRACE_MS} ms; ${CLIENTS} clients; cap ${TIME_LIMIT_S} s; store ${STORES.join(', ')}`);
  const runs: Array<{ store: StoreName; summary: ScaleSummary }> = [];
  for (const store of STORES) {
    if (STORES.length > 1) console.log(`\n== ${store} ==`);
    const failedBefore = failures.length;
    const results: Results = { store, storeUse: [], nodes: [] };
    const machine0 = machineCpu();
    const runStart = process.hrtime.bigint();
    await runPhases(results);
    if (STORES.length > 1) for (let i = failedBefore; i < failures.length; i++) failures[i] = `${store}: ${failures[i]}`;
    runs.push({ store, summary: printRun(results, list, loadAtStart, machine0, runStart, failures.length - failedBefore) });
    if (cap.expired()) break;
  }
  for (const b of runs.slice(1)) {
    const a = runs[0]!;
    console.log(`\n${b.store} against ${a.store} (every phase on a fresh control plane and store; the control plane's CPU leaves out etcd's, shown apart):`);
    printTable(compareScaleRuns(a.summary, b.summary, [a.store, b.store]));
    console.log(JSON.stringify({ bench: 'kcs-scale-stores', [a.store]: a.summary, [b.store]: b.summary }));
  }
  for (const f of failures) console.error(f);
  return failures.length ? 1 : 0;
}

/** Runs the selected phases on `results.store`, filling `results`. */
async function runPhases(results: Results): Promise<void> {
  if (PHASES.has('nodes')) {
    for (const n of NODE_COUNTS) {
      console.log(`phase nodes: ${n} nodes, ${CLIENTS} clients`);
      const out: Partial<NodeRun> = { count: n };
      results.nodes.push(out);
      await phase(results, `nodes ${n}`, async (cp) => {
        await createNodes(cp, n, { cpu: '4', memory: '16Gi', pods: '110' }, 'node-', CLIENTS, out);
        console.log(`    all ${n} Ready ${fmtMs(out.readyMs!)} after the first POST; RSS ${round(out.rssMiB!)} MiB; ${round(out.cpuSeconds!)} CPU s`);
      });
    }
  }

  if (PHASES.has('pods')) {
    if (BASELINE_PODS > 0) {
      console.log(`phase pods, baseline: ${BASELINE_PODS} pods, no nodes (they stay Pending), ${CLIENTS} clients`);
      results.baseline = {};
      await phase(results, 'pods baseline', (cp) => createPods(cp, BASELINE_PODS, { cpu: '10m', memory: '16Mi' }, 'pod-', CLIENTS, { wait: false }, results.baseline!));
    }
    console.log(`phase pods: ${NODES} nodes, then ${PODS} pods, ${CLIENTS} clients`);
    results.pods = { nodes: NODES };
    const pods = results.pods;
    const kept = await phase(results, 'pods', async (cp) => {
      pods.nodesReady = {};
      await createNodes(cp, NODES, { cpu: '64', memory: '256Gi', pods: String(PODS_PER_NODE) }, 'node-', CLIENTS, pods.nodesReady);
      console.log(`    all ${NODES} Ready ${round(pods.nodesReady.readyMs!)} ms after the first POST; creating pods`);
      await createPods(cp, PODS, { cpu: '10m', memory: '16Mi' }, 'pod-', CLIENTS, { wait: true, runningBudgetMs: RUNNING_TIMEOUT_S * 1000, markAt: BASELINE_PODS || undefined }, pods);
    }, PHASES.has('steady'));
    if (PHASES.has('steady')) {
      if (!kept) failures.push('steady: not run, as phase pods did not complete');
      else {
        console.log(`phase steady: ${STEADY_S} s with ${NODES} nodes and ${PODS} pods`);
        results.steady = {};
        const meter = storeMeter(kept.store);
        try {
          await steady(kept.cp, NODES, PODS, results.steady);
        } catch (err) {
          failures.push(...cap.failures(withServerOutput(kept.cp, err)).map((f) => `steady: ${f}`));
        } finally {
          if (meter) results.storeUse.push(meter('steady'));
          await stopCp(kept.cp);
          await kept.store.stop();
        }
      }
    }
  }

  if (PHASES.has('student')) {
    console.log(`phase student: ${STUDENT_NODES} nodes of 64 CPUs, then ${STUDENT_PODS} pods of cpu 1, ${STUDENT_CLIENTS} clients`);
    results.student = { nodes: STUDENT_NODES };
    const student = results.student;
    await phase(results, 'student', async (cp) => {
      student.nodesReady = {};
      await createNodes(cp, STUDENT_NODES, { cpu: '64', memory: '1Ti', pods: '110' }, 'node-', CLIENTS, student.nodesReady);
      if (STUDENT_NODES * 64 < STUDENT_PODS) console.log(`    note: ${STUDENT_PODS} pods of 1 CPU do not fit on ${STUDENT_NODES} nodes of 64 CPUs: this waits for the cap`);
      await createPods(cp, STUDENT_PODS, { cpu: '1' }, 'pod-', STUDENT_CLIENTS, { wait: true, runningBudgetMs: RUNNING_TIMEOUT_S * 1000 }, student);
      student.podsPerSec = STUDENT_PODS / (student.allBoundMs! / 1000);
    });
  }

  if (PHASES.has('shutdown')) {
    console.log(`phase shutdown: ${SHUTDOWN_NODES} nodes, then SIGTERM while ${CLIENTS} clients create pods`);
    const out: NonNullable<Results['shutdown']> = { nodes: SHUTDOWN_NODES };
    results.shutdown = out;
    let running: ChildControlPlane | undefined;
    await phase(results, 'shutdown', async (cp) => {
      running = cp;
      out.nodesReady = {};
      await createNodes(cp, SHUTDOWN_NODES, { cpu: '64', memory: '256Gi', pods: '110' }, 'node-', CLIENTS, out.nodesReady);
      console.log(`    all ${SHUTDOWN_NODES} Ready ${round(out.nodesReady.readyMs!)} ms after the first POST; creating pods`);
      const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
      let created = 0;
      let stop = false;
      const load = Array.from({ length: CLIENTS }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await httpCall(agent, cp.url, 'POST', PODS_PATH, cp.token, podBody(`load-${w}-${i}`, '{"cpu":"10m"}'));
            if (res.status === 201) created++;
          } catch {
            return; // the server is going away
          }
        }
      });
      await sleep(5000);
      out.podsCreated = created;
      const t0 = process.hrtime.bigint();
      await stopCp(cp);
      out.stopMs = msSince(t0);
      out.exit = cp.exitStatus();
      stop = true;
      await Promise.all(load);
      agent.destroy();
      console.log(`    ${created} pods created in the 5 s before SIGTERM; exited ${round(out.stopMs)} ms after it (${out.exit})`);
    });
    void running;
  }
}

/** Prints one store's table and JSON line, and returns that summary. */
function printRun(results: Results, list: PhaseName[], loadAtStart: number[], machine0: { busy: number }, runStart: bigint, failureCount: number): ScaleSummary {
  const yesNo = (ok: boolean) => `target met: ${ok ? 'yes' : 'no'}`;
  const rows: Array<Array<string | number>> = [['measure', 'value', 'unit', 'note']];
  for (const n of results.nodes) {
    rows.push([`nodes ${n.count}: first POST -> all Ready${n.readyCount === n.count ? '' : ` (only ${n.readyCount} Ready)`}`, n.readyMs ?? NaN, 'ms', `POST->Ready per node p50 ${round(n.readyLatencyMs?.p50 ?? NaN)} p99 ${round(n.readyLatencyMs?.p99 ?? NaN)} ms`]);
    rows.push([`  POST rate (${CLIENTS} clients)`, n.postRate ?? NaN, '/s', `POSTs took ${round(n.postMs ?? NaN)} ms`]);
    rows.push(['  control plane RSS when all Ready', n.rssMiB ?? NaN, 'MiB', `peak ${round(n.peakRssMiB ?? NaN)} MiB`]);
    rows.push(['  control plane CPU, first POST -> all Ready', n.cpuSeconds ?? NaN, 's', `${round(n.cpuPct ?? NaN)}% of a core; bench ${round(n.benchCpuSeconds ?? NaN)} s; rest of machine ${round(n.otherCpuPct ?? NaN)}%${n.lostReady ? `; ${n.lostReady} lost Ready meanwhile` : ''}`]);
  }
  const { baseline, pods, steady: st, student } = results;
  const ratio = pods?.createRate !== undefined && baseline?.createRate !== undefined ? pods.createRate / baseline.createRate : NaN;
  const ratioAtMark = pods?.createRateAtMark !== undefined && baseline?.createRate !== undefined ? pods.createRateAtMark / baseline.createRate : NaN;
  if (baseline) rows.push([`baseline: create rate, ${baseline.count} pods, no nodes`, baseline.createRate ?? NaN, '/s', `server CPU ${round(baseline.cpuSeconds ?? NaN)} s; RSS ${round(baseline.rssMiB ?? NaN)} MiB; rest of machine ${round(baseline.otherCpuPct ?? NaN)}%`]);
  if (pods) {
    if (pods.nodesReady) rows.push([`pods: ${pods.nodes} nodes first POST -> all Ready`, pods.nodesReady.readyMs ?? NaN, 'ms', `${pods.nodesReady.readyCount ?? 0} Ready`]);
    rows.push([`pods: create rate, ${pods.count ?? PODS} pods on ${pods.nodes} nodes`, pods.createRate ?? NaN, '/s', `creates took ${round(pods.createMs ?? NaN)} ms`]);
    if (pods.createRateAtMark !== undefined) rows.push([`  over the first ${pods.markAt} creates`, pods.createRateAtMark, '/s', `ratio to baseline ${round(ratioAtMark)}`]);
    if (baseline) rows.push(['  ratio: with nodes / without nodes', ratio, '', `>= ${TARGETS.createRateRatio}: ${yesNo(ratio >= TARGETS.createRateRatio)}`]);
    rows.push([`  first POST -> all bound${pods.bound === pods.count ? '' : ` (only ${pods.bound ?? 0} bound)`}`, pods.allBoundMs ?? NaN, 'ms', `create -> bound per pod p50 ${round(pods.bindLatencyMs?.p50 ?? NaN)} p99 ${round(pods.bindLatencyMs?.p99 ?? NaN)} ms`]);
    rows.push([`  first POST -> all Running${pods.running === pods.count ? '' : ` (only ${pods.running ?? 0} Running)`}`, pods.allRunningMs ?? NaN, 'ms', `bound -> Running per pod p50 ${round(pods.runLatencyMs?.p50 ?? NaN)} p99 ${round(pods.runLatencyMs?.p99 ?? NaN)} ms; ${pods.unbinds ?? 0} unbinds, ${pods.unrun ?? 0} left Running`]);
    rows.push(['  control plane CPU per 1000 pods created+bound', pods.cpuSecondsPer1000Pods ?? NaN, 's', `${round(pods.cpuSeconds ?? NaN)} s in all; bench ${round(pods.benchCpuSeconds ?? NaN)} s; rest of machine ${round(pods.otherCpuPct ?? NaN)}%`]);
    rows.push(['  control plane RSS at end', pods.rssMiB ?? NaN, 'MiB', `peak ${round(pods.peakRssMiB ?? NaN)} MiB`]);
  }
  if (st) {
    rows.push([`steady ${round(st.windowS ?? NaN)} s: false NotReady (events)`, st.falseNotReady ?? NaN, '', `${st.falseNotReadyNodes ?? 0} nodes; ${st.notReadyAtStart ?? 0} not Ready at the start`]);
    rows.push(['  lease renewals', st.leaseUpdates ?? NaN, '', `${st.leasesRenewed ?? 0}/${st.nodes} leases; ~${st.expectedLeaseUpdates} expected`]);
    rows.push(['  renewal gap p50 / p99 / max', `${round(st.leaseGapMs?.p50 ?? NaN)} / ${round(st.leaseGapMs?.p99 ?? NaN)} / ${round(st.leaseGapMs?.max ?? NaN)}`, 'ms', `lag (gap - ${HEARTBEAT_MS}) p99 ${round(st.leaseLagMs?.p99 ?? NaN)} ms`]);
    rows.push([`  quiet ${round(st.quietS ?? NaN)} s (before the CLI runs): gap p50 / p99 / max`, `${round(st.quietLeaseGapMs?.p50 ?? NaN)} / ${round(st.quietLeaseGapMs?.p99 ?? NaN)} / ${round(st.quietLeaseGapMs?.max ?? NaN)}`, 'ms', `lag p99 ${round(st.quietLeaseLagMs?.p99 ?? NaN)} ms`]);
    rows.push(['  renewal arrival gap (as this bench saw them) p99', st.leaseArrivalGapMs?.p99 ?? NaN, 'ms', `max ${round(st.leaseArrivalGapMs?.max ?? NaN)} ms`]);
    rows.push([`  control plane CPU (${SAMPLE_MS / 1000} s samples) mean / max`, `${round(st.cpuPct?.mean ?? NaN)} / ${round(st.cpuPct?.max ?? NaN)}`, '%', `bench ${round(st.benchCpuSeconds ?? NaN)} CPU s`]);
    rows.push(['  control plane RSS min / max', `${round(st.rssMiB?.min ?? NaN)} / ${round(st.rssMiB?.max ?? NaN)}`, 'MiB', `peak ${round(st.peakRssMiB ?? NaN)} MiB`]);
    for (const c of st.cli ?? []) rows.push([`  ${c.command} (median of ${c.runsMs.length})`, c.medianMs, 'ms', `runs ${c.runsMs.map((m) => round(m)).join(', ')}; ${c.lines} lines`]);
  }
  if (student) {
    if (student.nodesReady) rows.push([`student: ${student.nodes} nodes first POST -> all Ready`, student.nodesReady.readyMs ?? NaN, 'ms', '']);
    rows.push([`student: ${STUDENT_PODS} pods first POST -> all bound${student.bound === STUDENT_PODS ? '' : ` (only ${student.bound ?? 0} bound)`}`, student.allBoundMs ?? NaN, 'ms', `creates took ${round(student.createMs ?? NaN)} ms (${round(student.createRate ?? NaN)}/s)`]);
    rows.push(['  pods/s (pods / that time)', student.podsPerSec ?? NaN, '/s', `>= ${TARGETS.studentPodsPerSec}: ${yesNo((student.podsPerSec ?? 0) >= TARGETS.studentPodsPerSec)}`]);
    rows.push(['  create -> bound per pod p50 / p99', `${round(student.bindLatencyMs?.p50 ?? NaN)} / ${round(student.bindLatencyMs?.p99 ?? NaN)}`, 'ms', '']);
    rows.push(['  first POST -> all Running', student.allRunningMs ?? NaN, 'ms', `control plane ${round(student.cpuSeconds ?? NaN)} CPU s to all bound; rest of machine ${round(student.otherCpuPct ?? NaN)}%`]);
  }
  const sd = results.shutdown;
  if (sd) {
    if (sd.nodesReady) rows.push([`shutdown: ${sd.nodes} nodes first POST -> all Ready`, sd.nodesReady.readyMs ?? NaN, 'ms', '']);
    rows.push(['shutdown: SIGTERM under load -> exited', sd.stopMs ?? NaN, 'ms', `${sd.podsCreated ?? 0} pods created in the 5 s before; ${sd.exit ?? '?'}; <= ${TARGETS.shutdownMs} ms: ${yesNo((sd.stopMs ?? Infinity) <= TARGETS.shutdownMs)}`]);
  }
  for (const u of results.storeUse) {
    rows.push([`etcd member over phase ${u.phase}: CPU`, u.cpuSeconds, 's', `${round((u.cpuSeconds / u.wallS) * 100)}% of a core over ${round(u.wallS)} s; RSS ${round(u.rssMiB)} MiB, peak ${round(u.peakRssMiB)} MiB`]);
  }
  console.log('');
  printTable(rows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isFinite(c) ? '-' : c))));
  console.log('');
  const machineBusyPct = ((machineCpu().busy - machine0.busy) / (msSince(runStart) / 1000)) * 100;
  console.log(`node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; machine ${round(machineBusyPct)}% busy on average; total ${round(msSince(runStart) / 1000)} s`);
  console.log('Virtual agents run inside the control plane process: its CPU and RSS include them, and the watches this bench holds. Times run from the first POST to the watch showing the state.');

  const s = (x: Summary | undefined) => x && roundAll({ n: x.n, p50: x.p50, p90: x.p90, p99: x.p99, max: x.max, mean: x.mean });
  const r = (v: number | undefined) => (v === undefined ? undefined : round(v));
  const json = {
    bench: 'kcs-scale', store: results.store, node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), machineBusyPct: round(machineBusyPct), phases: list, heartbeatMs: HEARTBEAT_MS, nodeGraceMs: NODE_GRACE_MS, clients: CLIENTS,
    nodes: results.nodes.map((n) => ({
      count: n.count, readyCount: n.readyCount, readyMs: r(n.readyMs), postMs: r(n.postMs), postRate: r(n.postRate), readyLatencyMs: s(n.readyLatencyMs),
      rssMiB: r(n.rssMiB), peakRssMiB: r(n.peakRssMiB), cpuSeconds: r(n.cpuSeconds), cpuPct: r(n.cpuPct), benchCpuSeconds: r(n.benchCpuSeconds), lostReady: n.lostReady, watchRestarts: n.watchRestarts, otherCpuPct: r(n.otherCpuPct),
    })),
    pods: pods && {
      nodes: pods.nodes, nodesReadyMs: r(pods.nodesReady?.readyMs), count: pods.count, clients: pods.clients,
      createMs: r(pods.createMs), createRate: r(pods.createRate), createRateFirstN: r(pods.createRateAtMark), firstN: pods.markAt,
      bound: pods.bound, running: pods.running, allBoundMs: r(pods.allBoundMs), allRunningMs: r(pods.allRunningMs), bindLatencyMs: s(pods.bindLatencyMs), runLatencyMs: s(pods.runLatencyMs),
      unbinds: pods.unbinds, unrun: pods.unrun, rssMiB: r(pods.rssMiB), peakRssMiB: r(pods.peakRssMiB),
      cpuSeconds: r(pods.cpuSeconds), cpuSecondsPer1000Pods: r(pods.cpuSecondsPer1000Pods), benchCpuSeconds: r(pods.benchCpuSeconds), watchRestarts: pods.watchRestarts, watchLines: pods.watchLines, otherCpuPct: r(pods.otherCpuPct),
      baseline: baseline && { count: baseline.count, createMs: r(baseline.createMs), createRate: r(baseline.createRate), cpuSeconds: r(baseline.cpuSeconds), rssMiB: r(baseline.rssMiB), otherCpuPct: r(baseline.otherCpuPct) },
      createRateRatio: r(ratio), createRateRatioFirstN: r(ratioAtMark), targetCreateRateRatio: TARGETS.createRateRatio, targetMet: baseline ? ratio >= TARGETS.createRateRatio : undefined,
    },
    steady: st && {
      windowS: r(st.windowS), nodes: st.nodes, notReadyAtStart: st.notReadyAtStart, falseNotReady: st.falseNotReady, falseNotReadyNodes: st.falseNotReadyNodes, firstFalseNotReady: st.firstFalseNotReady,
      leaseUpdates: st.leaseUpdates, leasesRenewed: st.leasesRenewed, expectedLeaseUpdates: st.expectedLeaseUpdates,
      leaseGapMs: s(st.leaseGapMs), leaseLagMs: s(st.leaseLagMs), leaseArrivalGapMs: s(st.leaseArrivalGapMs),
      quietS: r(st.quietS), quietLeaseGapMs: s(st.quietLeaseGapMs), quietLeaseLagMs: s(st.quietLeaseLagMs),
      cpuPct: s(st.cpuPct), rssMiB: s(st.rssMiB), peakRssMiB: r(st.peakRssMiB), benchCpuSeconds: r(st.benchCpuSeconds), watchRestarts: st.watchRestarts,
      cli: (st.cli ?? []).map((c) => ({ command: c.command, runsMs: c.runsMs.map(round), medianMs: r(c.medianMs), lines: c.lines })),
    },
    student: student && {
      nodes: student.nodes, nodesReadyMs: r(student.nodesReady?.readyMs), count: student.count, clients: student.clients,
      createMs: r(student.createMs), createRate: r(student.createRate), bound: student.bound, allBoundMs: r(student.allBoundMs), podsPerSec: r(student.podsPerSec),
      allRunningMs: r(student.allRunningMs), running: student.running, bindLatencyMs: s(student.bindLatencyMs), runLatencyMs: s(student.runLatencyMs), cpuSeconds: r(student.cpuSeconds), unbinds: student.unbinds, otherCpuPct: r(student.otherCpuPct),
      targetPodsPerSec: TARGETS.studentPodsPerSec, targetMet: student.podsPerSec !== undefined ? student.podsPerSec >= TARGETS.studentPodsPerSec : false,
    },
    shutdown: sd && { nodes: sd.nodes, nodesReadyMs: r(sd.nodesReady?.readyMs), podsCreated: sd.podsCreated, stopMs: r(sd.stopMs), exit: sd.exit, targetMet: (sd.stopMs ?? Infinity) <= TARGETS.shutdownMs },
    targets: TARGETS,
    storeUse: results.storeUse.length ? results.storeUse.map((u) => roundAll(u)) : undefined,
    failures: failureCount, timedOut: cap.passed,
  };
  console.log(JSON.stringify(json));
  return json;
}

runMain(main);
