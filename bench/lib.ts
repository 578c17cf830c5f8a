// Shared helpers for the benchmarks: a control plane in a child process
// (`bin/kcs up`, so the server and the load generator never share an event
// loop), a keep-alive HTTP request helper, percentiles, and a plain table.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request, type Agent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const KCS_BIN = join(ROOT, 'bin', 'kcs');

// ---- numbers ---------------------------------------------------------------

export interface Summary { n: number; min: number; p50: number; p90: number; p99: number; max: number; mean: number }

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples: ArrayLike<number>): Summary {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, mean: s.length ? sum / s.length : NaN };
}

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Rounds for display/JSON: 2 decimals under 10, 1 under 1000, else integer. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  const a = Math.abs(v);
  return a < 10 ? Math.round(v * 100) / 100 : a < 1000 ? Math.round(v * 10) / 10 : Math.round(v);
}

export function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) as T;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - f[3] - f[4]) / 100, total: total / 100 };
}

/** CPU seconds of this process plus its reaped children (what spawnSync ran), from /proc/self/stat. */
export function selfAndChildrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

// ---- output ----------------------------------------------------------------

/** Prints rows as aligned columns; the first row is the header. Numbers right-aligned. */
export function printTable(rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? String(round(c)) : c)));
  const numeric = rows.map((r) => r.map((c) => typeof c === 'number'));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  cells.forEach((r, ri) => {
    console.log(r.map((c, i) => (numeric[ri][i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
    if (ri === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

// ---- HTTP ------------------------------------------------------------------

export interface HttpResult { status: number; body: string }

/**
 * The connection pool for a control plane's URL: https (trusting the
 * cluster CA) or plain http, as the server speaks.
 */
export function apiAgent(cp: { url: URL; ca?: string }, maxSockets: number): Agent {
  return cp.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets, ca: cp.ca }) : new HttpAgent({ keepAlive: true, maxSockets });
}

/** One request over `agent` (from apiAgent for https); resolves with status and body text, rejects on socket errors or timeout. */
export function httpCall(agent: Agent, url: URL, method: string, path: string, token: string, body?: string, contentType = 'application/json', timeoutMs = 30_000): Promise<HttpResult> {
  return new Promise((resolveReq, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(body);
    }
    const send = url.protocol === 'https:' ? httpsRequest : request;
    const req = send({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---- time caps ---------------------------------------------------------------

/** Thrown by Deadline.remainingMs() and .race() once a deadline has passed. */
export class TimeCap extends Error {
  override name = 'TimeCap';
}

/**
 * A deadline `ms` from now: how every bench caps time, a whole run
 * (--time-limit) as much as one wait. A run's deadline is checked between
 * steps (remainingMs, expired), bounds each wait (cap), and ends a wait that
 * outlives it (race). `what` names it in messages.
 */
export class Deadline {
  readonly what: string;
  private readonly at: bigint;
  /** Set once the deadline has been seen to pass. */
  passed = false;

  constructor(ms: number, what = `the ${round(ms / 1000)}s time cap`) {
    this.at = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
    this.what = what;
  }

  /** Whether the deadline has passed (remembered in `passed`). */
  expired(): boolean {
    if (process.hrtime.bigint() >= this.at) this.passed = true;
    return this.passed;
  }

  /** Milliseconds left; throws TimeCap once there are none. */
  remainingMs(): number {
    const left = Number(this.at - process.hrtime.bigint()) / 1e6;
    if (left <= 0) {
      this.passed = true;
      throw new TimeCap(`stopped at ${this.what}`);
    }
    return left;
  }

  /** ms, or what is left if that is less; throws TimeCap once nothing is. */
  cap(ms: number): number {
    return Math.min(ms, this.remainingMs());
  }

  /**
   * p, or a rejection when the deadline comes first: with onTimeout's error,
   * else a TimeCap. The timer goes either way.
   */
  race<T>(p: Promise<T>, onTimeout?: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.passed = true;
        reject(onTimeout?.() ?? new TimeCap(`stopped at ${this.what}`));
      }, Math.max(0, Number(this.at - process.hrtime.bigint()) / 1e6));
    });
    return Promise.race([p, timedOut]).finally(() => clearTimeout(timer));
  }

  /**
   * What a bench reports for the error that ended it: a TimeCap's message,
   * any other error's stack, and the cap as well if it passed meanwhile.
   */
  failures(err: unknown): string[] {
    const out = [err instanceof TimeCap ? err.message : (err as Error)?.stack ?? String(err)];
    if (!(err instanceof TimeCap) && !this.passed && this.expired()) out.push(`stopped at ${this.what}`);
    return out;
  }

  /**
   * The last resort for a wait no cap bounds: gives up the process graceS
   * seconds after the deadline if it is still running (exit handlers, such
   * as cleanupOnExit's, still clean up).
   */
  hardStop(graceS: number): this {
    const ms = Number(this.at - process.hrtime.bigint()) / 1e6 + graceS * 1000;
    setTimeout(() => {
      console.error(`still running ${graceS}s after ${this.what}: giving up`);
      process.exit(1);
    }, Math.max(0, ms)).unref();
    return this;
  }
}

// ---- the build ---------------------------------------------------------------

/**
 * bin/kcs runs the compiled dist/: says so when it is missing, and warns when
 * some src/ file is newer than the build (the bench would measure old code).
 */
export function checkBuild(): boolean {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) {
    console.error(`${main} is missing: run 'npm run build' in ${ROOT} first.`);
    return false;
  }
  const built = statSync(main).mtimeMs;
  const newer = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && statSync(join(ROOT, 'src', f)).mtimeMs > built);
  if (newer.length) console.warn(`note: ${newer.length} file(s) in src/ are newer than dist/ (e.g. src/${newer[0]}): run 'npm run build' if you changed them.`);
  return true;
}

// ---- the control plane in a child process ----------------------------------

export interface ChildControlPlane {
  url: URL;
  token: string;
  /** The cluster CA (PEM) when the server speaks TLS. */
  ca?: string;
  stateDir: string;
  /** The server's node process (bin/kcs is a bash wrapper that execs node, so this is it). */
  pid: number;
  /** Resident set (VmRSS) and its peak (VmHWM) in MiB, from /proc. */
  memory(): { rssMiB: number; peakRssMiB: number };
  /** User and system CPU seconds the server has used so far, from /proc/<pid>/stat. */
  cpuSeconds(): { user: number; system: number; total: number };
  stop(): Promise<void>;
  /** The last 64 KiB the server wrote (stdout and stderr), and how it exited if it has: for error reports. */
  recentOutput(): string;
  exitStatus(): string | undefined;
}

/** A /proc file, or '' once the process has gone (its figures then read as NaN). */
function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let hooked = false;

/** Last-resort cleanup when the bench dies or is interrupted: kill our children, remove their state. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanup = () => {
    for (const { child, dir } of live) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/**
 * Starts `bin/kcs up --port 0 --state-dir <fresh temp dir>` and waits for its
 * "listening on" line. `env` is added to the child's environment (e.g.
 * NODE_OPTIONS=--cpu-prof to profile only the server); `args` are added to
 * its command line (e.g. ['--runtime', 'virtual']). The server speaks plain
 * http unless `tls` is set: the benches measure the control plane, and
 * bench:api shows what TLS adds side by side.
 */
export async function startChildControlPlane(opts: { env?: Record<string, string>; startTimeoutMs?: number; args?: string[]; tls?: boolean } = {}): Promise<ChildControlPlane> {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), 'kcs-bench-'));
  const env = { ...process.env, ...opts.env };
  for (const k of ['KCS_STATE_DIR', 'KCS_CONFIG', 'KCS_SERVER', 'KCS_TOKEN']) delete env[k];
  // KCS_BENCH_PROFILE_DIR: the control plane writes a V8 CPU profile there when it stops.
  const profileDir = process.env.KCS_BENCH_PROFILE_DIR;
  const upArgs = ['up', '--port', '0', '--state-dir', dir, ...(opts.tls ? [] : ['--no-tls']), ...(opts.args ?? [])];
  const child = profileDir
    ? spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, join(ROOT, 'dist', 'cli', 'main.js'), ...upArgs], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(KCS_BIN, upArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { child, dir };
  live.add(entry);
  let output = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let url: URL;
  let token: string;
  try {
    const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
    url = await new Deadline(startTimeoutMs).race(new Promise<URL>((resolveUrl, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const m = /listening on (https?:\/\/\S+)/.exec(output);
        if (m) resolveUrl(new URL(m[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`kcs up exited early (code ${code}, signal ${signal}):\n${output}`)));
      child.once('error', reject);
    }), () => new Error(`kcs up did not report its URL within ${startTimeoutMs} ms:\n${output}`));
    // bin/kcs is a bash wrapper that execs node: by now the pid runs the node binary.
    const exe = readlinkSync(`/proc/${child.pid}/exe`);
    if (basename(exe) !== 'node') throw new Error(`expected pid ${child.pid} to be the server's node process, found ${exe}`);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
    throw err;
  }
  // Keep draining the child's output so it never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  // The start-up listener goes on appending to `output`; keep only its tail.
  const trim = () => {
    if (output.length > 128 * 1024) output = output.slice(-64 * 1024);
  };
  child.stdout!.on('data', trim);
  child.stderr!.on('data', trim);
  const pid = child.pid!;
  const ticks = 100; // USER_HZ on Linux
  return {
    url,
    token,
    ca: url.protocol === 'https:' ? readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8') : undefined,
    stateDir: dir,
    pid,
    recentOutput: () => output.slice(-64 * 1024),
    exitStatus: () => (child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : undefined),
    memory() {
      const status = readProc(`/proc/${pid}/status`);
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
    },
    cpuSeconds() {
      // Fields after the ")" that ends comm: state is field 3, utime 14, stime 15.
      const stat = readProc(`/proc/${pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const user = Number(f[11]) / ticks;
      const system = Number(f[12]) / ticks;
      return { user, system, total: user + system };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await killAfter(child, exited, new Deadline(10_000));
      }
      rmSync(dir, { recursive: true, force: true });
      live.delete(entry);
    },
  };
}

/** Waits for a child to exit, killing it (SIGKILL) if it is still running at the deadline. */
async function killAfter<T>(child: ChildProcess, exited: Promise<T>, deadline: Deadline): Promise<T> {
  return deadline.race(exited).catch(() => {
    child.kill('SIGKILL');
    return exited;
  });
}

/**
 * Runs `bin/kcs image build` (registered in `children` while it runs, for
 * cleanupOnExit), killed if the bench's cap passes first, which it then
 * throws as a TimeCap.
 */
export async function runImageBuild(cap: Deadline, children: Set<ChildProcess>): Promise<{ ms: number; output: string }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(KCS_BIN, ['image', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const code = await killAfter(child, exited, new Deadline(Math.max(1000, cap.remainingMs())));
  children.delete(child);
  cap.remainingMs();
  if (code !== 0) throw new Error(`kcs image build failed (exit ${code}):\n${output}`);
  return { ms: msSince(t0), output: output.trim() };
}

/** Adds how the control plane fared (exited? its last lines) to an error, unless it is the time cap. */
export function withServerOutput(cp: ChildControlPlane, err: unknown): unknown {
  if (err instanceof TimeCap || !(err instanceof Error)) return err;
  const status = cp.exitStatus();
  const tail = cp.recentOutput().trimEnd().split('\n').slice(-20).join('\n');
  err.message += `\n${status ? `the control plane (pid ${cp.pid}) has exited (${status})` : `the control plane (pid ${cp.pid}) is still running`}; its last output:\n${tail}`;
  return err;
}

// ---- any process, by pid -----------------------------------------------------

/**
 * VmRSS and VmHWM of any process in MiB, from /proc/<pid>/status (NaN once it
 * has gone), and VmRSS split into anonymous memory (heap, stacks: the
 * process's own) and file-backed pages (its mapped binary and libraries, page
 * cache that processes mapping the same files share).
 */
export function processMemory(pid: number): { rssMiB: number; peakRssMiB: number; rssAnonMiB: number; rssFileMiB: number } {
  const status = readProc(`/proc/${pid}/status`);
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024, rssAnonMiB: kib('RssAnon') / 1024, rssFileMiB: kib('RssFile') / 1024 };
}

/** User plus system CPU seconds any process has used so far, from /proc/<pid>/stat (NaN once it has gone). */
export function processCpuSeconds(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return NaN;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The pids of a process's children, from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.flatMap((tid) => readProc(`/proc/${pid}/task/${tid}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
}

// ---- watches -------------------------------------------------------------------

export interface WatchEvent<T = any> { type: string; object: T }

export interface WatchStream {
  /** Resolves when the server has answered 200 (the watch is registered). */
  started: Promise<void>;
  /** Resolves when the stream ends for any reason other than close(): with why. */
  ended: Promise<Error>;
  close(): void;
}

/**
 * Follows a watch (`path` should carry ?watch=true) on its own connection,
 * calling onEvent for each JSON line, in order, as it arrives; an ERROR
 * event ends it.
 */
export function watchStream(url: URL, path: string, token: string, onEvent: (e: WatchEvent) => void): WatchStream {
  return followWatch(url, path, token, (line, end) => {
    const e = JSON.parse(line) as WatchEvent;
    if (e.type === 'ERROR') end(new Error(`watch ${path} ended with an ERROR event: ${JSON.stringify(e.object).slice(0, 300)}`));
    else onEvent(e);
  });
}

/**
 * Like watchStream, but hands over each line as it is, unparsed and ERROR
 * events included: for a bench that follows so many events that parsing
 * them all would cost it more than looking for a few fields in the text.
 */
export function watchLines(url: URL, path: string, token: string, onLine: (line: string) => void): WatchStream {
  return followWatch(url, path, token, (line) => onLine(line));
}

/** The connection both share: each non-empty line in order, until the stream ends, fails or end() is called. */
function followWatch(url: URL, path: string, token: string, onLine: (line: string, end: (e: Error) => void) => void): WatchStream {
  let closed = false;
  let endedResolve!: (e: Error) => void;
  const ended = new Promise<Error>((r) => (endedResolve = r));
  const end = (e: Error) => {
    if (!closed) endedResolve(e);
    closed = true;
  };
  let req: ReturnType<typeof request> | undefined;
  const started = new Promise<void>((resolveStart, rejectStart) => {
    req = request({ agent: false, host: url.hostname, port: url.port, method: 'GET', path, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => {
          const err = new Error(`watch ${path} -> ${res.statusCode} ${body.slice(0, 300)}`);
          rejectStart(err);
          end(err);
        });
        return;
      }
      resolveStart();
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        let text = buffered + chunk;
        let start = 0;
        for (let nl: number; (nl = text.indexOf('\n', start)) >= 0; start = nl + 1) {
          if (closed) return;
          if (nl > start) onLine(text.slice(start, nl), end);
        }
        buffered = start === 0 ? text : text.slice(start);
        text = '';
      });
      res.on('end', () => end(new Error(`watch ${path}: the server ended the stream`)));
      res.on('error', (err) => end(err));
    });
    req.on('error', (err) => {
      rejectStart(err);
      end(err);
    });
    req.end();
  });
  started.catch(() => {});
  return {
    started,
    ended,
    close() {
      closed = true;
      req?.destroy();
    },
  };
}

// ---- options and cleanup shared by the benches ------------------------------------

/** An integer from --<name> or $KCS_BENCH_<NAME>, within [min, max]; anything else exits 2 saying so. */
export function intOpt(flag: string | undefined, name: string, dflt: number, min: number, max: number): number {
  const env = `KCS_BENCH_${name.toUpperCase().replaceAll('-', '_')}`;
  const raw = flag ?? process.env[env];
  const v = raw === undefined ? dflt : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`--${name} (${env}) must be an integer in [${min}, ${max}] (got ${raw})`);
    process.exit(2);
  }
  return v;
}

/**
 * Removes every container of a cluster, synchronously (usable in an 'exit'
 * handler). Twice: a container a control plane was creating as it was
 * killed may appear after the first pass.
 */
export function removeClusterContainersSync(clusterId: string): number {
  let removed = 0;
  for (let pass = 0; pass < 2; pass++) {
    const ps = spawnSync('docker', ['ps', '-aq', '--filter', `label=io.kcs.cluster=${clusterId}`], { encoding: 'utf8', timeout: 20_000 });
    const ids = (ps.stdout ?? '').split('\n').filter(Boolean);
    if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 60_000 });
    removed += ids.length;
  }
  return removed;
}

/** What a bench has running, to stop and remove however it exits. */
export interface LiveResources {
  /** Control-plane processes, killed first so their node controllers cannot recreate what is removed. */
  pids: Set<number>;
  children: Set<ChildProcess>;
  /** Cluster ids whose containers are removed. */
  clusters: Set<string>;
  tempDirs: Set<string>;
}

/**
 * Installs the exit and Ctrl-C handlers every bench needs, and returns the
 * sets to register what it starts in. (A hard stop past the time cap is
 * Deadline.hardStop.)
 */
export function cleanupOnExit(): LiveResources {
  const live: LiveResources = { pids: new Set(), children: new Set(), clusters: new Set(), tempDirs: new Set() };
  process.on('exit', () => {
    for (const pid of live.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    for (const c of live.children) c.kill('SIGKILL');
    for (const id of live.clusters) removeClusterContainersSync(id);
    for (const d of live.tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: cleaning up`);
      process.exit(130);
    });
  }
  return live;
}

/** Prints a bench's figures as one JSON line and each failure on stderr; the exit code says whether any failed. */
export function report(json: object, failures: string[]): number {
  console.log(JSON.stringify(json));
  for (const f of failures) console.error(f);
  return failures.length ? 1 : 0;
}

/** Runs a bench's main and exits with its code; an error is printed and exits 1. */
export function runMain(main: () => Promise<number>): void {
  main().then((code) => process.exit(code), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
