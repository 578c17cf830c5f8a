// GitOps benchmark: how long a manifest written to a watched directory takes
// to become a stored object, and a Node to become Ready, with the control
// plane in a child process (`bin/kcs up --watch DIR`, the watcher inside it)
// and both observed through watches on the API. Phases:
//   1  write -> stored: --samples (50) files written one at a time, each a new
//      Pod (waiting for its ADDED event), then each rewritten with a new
//      label (waiting for MODIFIED). Includes the watcher's 100 ms debounce.
//   2  write -> node Ready: --ready-runs (5) Node files written one at a time,
//      each waited for until Ready=True, then its file removed and its prune
//      waited for. Runtime: --runtime (auto: docker when a daemon answers,
//      else virtual); the table says which was used.
//   3  a --files (1000) file directory (one object per file: every tenth a
//      Node, the rest Pods), with `kcs up --runtime none` (store and API
//      only): the initial sync inside `kcs up --watch` (as it reports it), a
//      no-op resync over HTTP (`bin/kcs sync DIR`, all unchanged, CLI start
//      included), and the initial sync over HTTP into an empty server.
// Prints a table and one JSON line. Temp dirs, child processes and any
// containers of its clusters are removed on every exit.
//
//   node bench/gitops.ts [--phases 1,2,3] [--samples 50] [--ready-runs 5]
//                        [--files 1000] [--runtime auto|docker|virtual]
// Env equivalents: KCS_BENCH_PHASES, KCS_BENCH_SAMPLES, KCS_BENCH_READY_RUNS,
// KCS_BENCH_FILES, KCS_BENCH_RUNTIME.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupOnExit, Deadline, intOpt, checkBuild, KCS_BIN, msSince, printTable, ROOT, round, roundAll, startChildControlPlane, summarize, watchStream, type ChildControlPlane, type Summary, type WatchEvent, runMain } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    phases: { type: 'string' },
    samples: { type: 'string' },
    'ready-runs': { type: 'string' },
    files: { type: 'string' },
    runtime: { type: 'string' },
  },
});

const SAMPLES = intOpt(args.samples, 'samples', 50, 1, 10_000);
const READY_RUNS = intOpt(args['ready-runs'], 'ready-runs', 5, 1, 100);
const FILES = intOpt(args.files, 'files', 1000, 1, 100_000);
const RUNTIME = args.runtime ?? process.env.KCS_BENCH_RUNTIME ?? 'auto';
if (!['auto', 'docker', 'virtual'].includes(RUNTIME)) {
  console.error(`--runtime must be auto, docker or virtual (got ${RUNTIME})`);
  process.exit(2);
}
const PHASES = new Set((args.phases ?? process.env.KCS_BENCH_PHASES ?? '1,2,3').split(',').map((p) => p.trim()).filter(Boolean));
for (const p of PHASES) {
  if (!['1', '2', '3'].includes(p)) {
    console.error(`--phases takes a comma-separated subset of 1,2,3 (got ${JSON.stringify(p)})`);
    process.exit(2);
  }
}
const WAIT_MS = 60_000;

// ---- cleanup --------------------------------------------------------------------

const { tempDirs, clusters, pids } = cleanupOnExit();
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- manifests ---------------------------------------------------------------------

const podYaml = (name: string, label = 'a') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels:\n    rev: ${label}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources:\n      requests:\n        cpu: 10m\n        memory: 16Mi\n`;
const nodeYaml = (name: string, cpu = '2') => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "${cpu}"\n    memory: 2Gi\n`;

// ---- watching the API ------------------------------------------------------------

/** Resolves waiters when a watch event matches. */
class Waiter {
  private readonly waiters = new Set<{ match: (e: WatchEvent) => boolean; resolve: () => void }>();
  onEvent = (e: WatchEvent) => {
    for (const w of this.waiters) if (w.match(e)) {
      this.waiters.delete(w);
      w.resolve();
    }
  };
  /** Register before causing the event; await the returned promise. */
  wait(what: string, match: (e: WatchEvent) => boolean): Promise<void> {
    const entry = { match, resolve: () => {} };
    const seen = new Promise<void>((resolve) => { entry.resolve = resolve; });
    this.waiters.add(entry);
    return new Deadline(WAIT_MS).race(seen, () => new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)).finally(() => this.waiters.delete(entry));
  }
}

const nameOf = (e: WatchEvent) => (e.object as { metadata?: { name?: string } }).metadata?.name;
const isReady = (e: WatchEvent) => ((e.object as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The runtime `kcs up` chose, from its "runtime: ..." line. */
function runtimeOf(cp: ChildControlPlane): string {
  return /^runtime: (.*)$/m.exec(cp.recentOutput())?.[1] ?? 'unknown';
}

async function waitForOutput(cp: ChildControlPlane, pattern: RegExp, ms = WAIT_MS): Promise<RegExpExecArray> {
  const deadline = new Deadline(ms);
  for (;;) {
    const m = pattern.exec(cp.recentOutput());
    if (m) return m;
    if (cp.exitStatus()) throw new Error(`kcs up exited (${cp.exitStatus()}):\n${cp.recentOutput().slice(-2000)}`);
    if (deadline.expired()) throw new Error(`kcs up did not print ${pattern} within ${ms} ms:\n${cp.recentOutput().slice(-2000)}`);
    await sleep(10);
  }
}

// ---- phases ----------------------------------------------------------------------

interface LatencyResult { runtime: string; created: Summary; modified: Summary; readyRuntime?: string; ready?: Summary; readyStored?: Summary }

async function latencyPhases(): Promise<LatencyResult> {
  const dir = tempDir('kcs-bench-gitops-dir-');
  // A roomy node first, so the pods are scheduled as they would be in use.
  writeFileSync(join(dir, 'base-node.yaml'), nodeYaml('bench-base', '64'));
  const cp = await startChildControlPlane({ args: ['--runtime', RUNTIME, '--watch', dir, '--heartbeat-ms', '1000'] });
  tempDirs.add(cp.stateDir);
  pids.add(cp.pid); // killed before its containers are removed, so it cannot make them again
  clusters.add(readFileSync(join(cp.stateDir, 'cluster-id'), 'utf8').trim());
  const pods = new Waiter();
  const nodes = new Waiter();
  const podWatch = watchStream(cp.url, '/api/v1/pods?watch=true', cp.token, pods.onEvent);
  const nodeWatch = watchStream(cp.url, '/api/v1/nodes?watch=true', cp.token, nodes.onEvent);
  try {
    await Promise.all([podWatch.started, nodeWatch.started]);
    await waitForOutput(cp, /^watching: /m);
    const runtime = runtimeOf(cp);
    const created: number[] = [];
    const modified: number[] = [];
    if (PHASES.has('1')) {
      for (let i = 0; i < SAMPLES; i++) {
        const name = `lat-${i}`;
        const stored = pods.wait(`pod ${name} ADDED`, (e) => e.type === 'ADDED' && nameOf(e) === name);
        const t0 = process.hrtime.bigint();
        writeFileSync(join(dir, `${name}.yaml`), podYaml(name));
        await stored;
        created.push(msSince(t0));
        await sleep(20);
      }
      for (let i = 0; i < SAMPLES; i++) {
        const name = `lat-${i}`;
        const stored = pods.wait(`pod ${name} MODIFIED`, (e) => e.type === 'MODIFIED' && nameOf(e) === name && (e.object as { metadata: { labels?: Record<string, string> } }).metadata.labels?.rev === 'b');
        const t0 = process.hrtime.bigint();
        writeFileSync(join(dir, `${name}.yaml`), podYaml(name, 'b'));
        await stored;
        modified.push(msSince(t0));
        await sleep(20);
      }
    }
    const result: LatencyResult = { runtime, created: summarize(created), modified: summarize(modified) };
    if (PHASES.has('2')) {
      const ready: number[] = [];
      const readyStored: number[] = [];
      for (let i = 0; i < READY_RUNS; i++) {
        const name = `ready-${i}`;
        let storedMs = NaN;
        const t0 = process.hrtime.bigint();
        const added = nodes.wait(`node ${name} ADDED`, (e) => e.type === 'ADDED' && nameOf(e) === name).then(() => { storedMs = msSince(t0); });
        const isUp = nodes.wait(`node ${name} Ready`, (e) => e.type !== 'DELETED' && nameOf(e) === name && isReady(e));
        writeFileSync(join(dir, `${name}.yaml`), nodeYaml(name, '1'));
        await added;
        await isUp;
        ready.push(msSince(t0));
        readyStored.push(storedMs);
        const gone = nodes.wait(`node ${name} pruned`, (e) => e.type === 'DELETED' && nameOf(e) === name);
        rmSync(join(dir, `${name}.yaml`));
        await gone;
        await sleep(200);
      }
      result.readyRuntime = runtime;
      result.ready = summarize(ready);
      result.readyStored = summarize(readyStored);
    }
    return result;
  } finally {
    podWatch.close();
    nodeWatch.close();
    // Remove the directory's nodes through the sync itself, so the runtime removes their machines.
    await cp.stop();
    pids.delete(cp.pid);
  }
}

interface BulkResult { files: number; upSyncMs: number; upWallMs: number; noopHttpMs: number; noopReported: string; httpInitialMs: number }

function kcsSync(cp: ChildControlPlane, dir: string): { ms: number; stdout: string; stderr: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(KCS_BIN, ['sync', dir, '--server', cp.url.toString(), '--token', cp.token], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  return { ms: msSince(t0), stdout: r.stdout, stderr: r.stderr, status: r.status };
}

async function bulkPhase(): Promise<BulkResult> {
  const dir = tempDir('kcs-bench-gitops-bulk-');
  for (let i = 0; i < FILES; i++) {
    const name = `obj-${String(i).padStart(5, '0')}`;
    writeFileSync(join(dir, `${name}.yaml`), i % 10 === 0 ? nodeYaml(name) : podYaml(name));
  }
  const t0 = process.hrtime.bigint();
  const cp = await startChildControlPlane({ args: ['--runtime', 'none', '--watch', dir] });
  tempDirs.add(cp.stateDir);
  let result: BulkResult;
  try {
    const synced = await waitForOutput(cp, /^gitops: synced .*: (\d+) created in (\d+) ms$/m, 300_000);
    const upWallMs = msSince(t0);
    if (Number(synced[1]) !== FILES) throw new Error(`expected ${FILES} created, kcs up said: ${synced[0]}`);
    const noop = kcsSync(cp, dir);
    if (noop.status !== 0) throw new Error(`kcs sync failed: ${noop.stderr}`);
    const unchanged = noop.stdout.split('\n').filter((l) => / unchanged /.test(l)).length;
    result = { files: FILES, upSyncMs: Number(synced[2]), upWallMs, noopHttpMs: noop.ms, noopReported: `${unchanged} unchanged`, httpInitialMs: NaN };
  } finally {
    await cp.stop();
  }
  const empty = await startChildControlPlane({ args: ['--runtime', 'none'] });
  tempDirs.add(empty.stateDir);
  try {
    const initial = kcsSync(empty, dir);
    if (initial.status !== 0) throw new Error(`kcs sync failed: ${initial.stderr}`);
    const createdLines = initial.stdout.split('\n').filter((l) => / created /.test(l)).length;
    if (createdLines !== FILES) throw new Error(`expected ${FILES} created lines, got ${createdLines}`);
    result.httpInitialMs = initial.ms;
  } finally {
    await empty.stop();
  }
  return result;
}

// ---- main ----------------------------------------------------------------------------

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  const loadAtStart = loadavg();
  const startedAt = process.hrtime.bigint();
  const latency = PHASES.has('1') || PHASES.has('2') ? await latencyPhases() : undefined;
  const bulk = PHASES.has('3') ? await bulkPhase() : undefined;

  const rows: Array<Array<string | number>> = [['what', 'n', 'p50', 'p99', 'max', 'unit', 'note']];
  if (latency && PHASES.has('1')) {
    rows.push(['file written -> Pod stored (new file)', latency.created.n, latency.created.p50, latency.created.p99, latency.created.max, 'ms', 'incl. 100 ms debounce']);
    rows.push(['file rewritten -> Pod updated', latency.modified.n, latency.modified.p50, latency.modified.p99, latency.modified.max, 'ms', 'incl. 100 ms debounce']);
  }
  if (latency?.ready) {
    rows.push(['file written -> Node stored', latency.readyStored!.n, latency.readyStored!.p50, latency.readyStored!.p99, latency.readyStored!.max, 'ms', '']);
    rows.push(['file written -> Node Ready', latency.ready.n, latency.ready.p50, latency.ready.p99, latency.ready.max, 'ms', `runtime: ${latency.readyRuntime!.split(':')[0]}`]);
  }
  if (bulk) {
    rows.push([`${bulk.files} files: initial sync inside kcs up --watch`, 1, bulk.upSyncMs, '', '', 'ms', 'as kcs up reports it']);
    rows.push([`${bulk.files} files: kcs up start -> synced`, 1, bulk.upWallMs, '', '', 'ms', 'process start included']);
    rows.push([`${bulk.files} files: kcs sync DIR over HTTP, into an empty server`, 1, bulk.httpInitialMs, '', '', 'ms', 'CLI start included']);
    rows.push([`${bulk.files} files: kcs sync DIR over HTTP, nothing to do`, 1, bulk.noopHttpMs, '', '', 'ms', bulk.noopReported]);
  }
  console.log('');
  printTable(rows);
  console.log('');
  if (latency) console.log(`runtime: ${latency.runtime}`);
  console.log(`node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; total ${round(msSince(startedAt) / 1000)} s`);
  const s = (x: Summary) => roundAll({ n: x.n, p50: x.p50, p99: x.p99, max: x.max, min: x.min });
  console.log(JSON.stringify({
    bench: 'kcs-gitops', node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), phases: [...PHASES].sort(),
    runtime: latency?.runtime.split(':')[0], runtimeNote: latency?.runtime,
    createdMs: latency && PHASES.has('1') ? s(latency.created) : undefined,
    modifiedMs: latency && PHASES.has('1') ? s(latency.modified) : undefined,
    nodeStoredMs: latency?.readyStored && s(latency.readyStored),
    nodeReadyMs: latency?.ready && s(latency.ready),
    bulk: bulk && roundAll({ ...bulk }),
  }));
  return 0;
}

runMain(main);
