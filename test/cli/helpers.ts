// Fixtures for the end-to-end CLI tests: a real `bin/kcs up` child process on
// a temp state dir (startServer / sharedServer), one-shot `kcs` runs against
// it (kcs), long-running ones such as `kcs get -w` (spawnKcs), and small
// readers for what the CLI prints (parseTable, oneLine). Everything a fixture
// starts is stopped and every temp dir removed in its teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestFn } from 'ava';
import { eventually } from '../support/eventually.ts';
import { requestWithCa } from '../support/https-request.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KCS_BIN = join(REPO, 'bin/kcs');

// Deadlines are generous: CI machines are shared, and a deadline only has to
// tell "hung" from "slow".
/** How long `kcs up` may take to print where it listens. */
const START_DEADLINE_MS = 30_000;
/** How long a stopped process may take to exit before it is killed. */
const STOP_DEADLINE_MS = 10_000;
/** How long one client command may run once started. */
const COMMAND_DEADLINE_MS = 30_000;
/**
 * How many one-shot commands run at once. Each is a Node start-up (CPU bound),
 * so starting thirty together only makes every one of them slow.
 */
const MAX_CONCURRENT_COMMANDS = Math.max(2, availableParallelism() * 2);

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KcsOptions {
  /** Written to the command's stdin, which is then closed; `false` leaves it open for the test to write to (child.stdin). */
  input?: string | false;
  /** Added to the environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** The state dir the client reads its kubeconfig from; defaults to the server's. */
  stateDir?: string;
  cwd?: string;
}

// Every child still running when the test worker exits is killed, so a
// crashed test never leaves a control plane behind.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The environment a kcs child runs in: only what the test states. Variables
 * that would point the client at another server are removed.
 */
function childEnv(stateDir: string | undefined, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['KCS_SERVER', 'KCS_TOKEN', 'KCS_CONFIG', 'KCS_STATE_DIR', 'NODE_OPTIONS']) delete env[name];
  if (stateDir) env.KCS_STATE_DIR = stateDir;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** A kcs process that keeps running: its output so far, a way to wait for a line, and stop(). */
export interface RunningKcs {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the output once it matches; rejects at the deadline with what was printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited (whatever stopped it). */
  exited: Promise<Result>;
  /** Sends the signal, then waits for exit; kills it if it outlives the deadline. */
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

export function spawnKcs(args: string[], opts: KcsOptions = {}): RunningKcs {
  const child = spawn(KCS_BIN, args, {
    cwd: opts.cwd ?? REPO,
    env: childEnv(opts.stateDir, opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  child.stdin!.on('error', () => { /* the child may exit before reading its stdin */ });
  if (opts.input !== false) child.stdin!.end(opts.input);

  const exited = new Promise<Result>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      live.delete(child);
      resolveExit({ code, signal, stdout, stderr });
    });
  });
  let done = false;
  void exited.then(() => { done = true; }, () => { done = true; });

  return {
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    waitForOutput(pattern, timeoutMs = START_DEADLINE_MS) {
      return eventually(() => `kcs ${args.join(' ')} to print ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`, () => {
        if (pattern.test(stdout)) return stdout;
        if (done) throw new Error(`kcs ${args.join(' ')} exited before printing ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        return undefined;
      }, timeoutMs);
    },
    async stop(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Whether the process is reading its standard input as a stream: fd 0 is in
 * one of its epoll sets, as libuv puts it once a stream starts reading (and
 * not before, however the stream was opened). Linux only: /proc shows it.
 * False once the process has gone.
 */
export function readsStdinAsStream(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[eventpoll]' && /^tfd:\s+0\s/m.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false;
  }
}

let running = 0;
const queued: Array<() => void> = [];

async function slot(): Promise<() => void> {
  if (running >= MAX_CONCURRENT_COMMANDS) await new Promise<void>((r) => queued.push(r));
  running++;
  return () => {
    running--;
    queued.shift()?.();
  };
}

/** Runs one kcs command to completion (killed if it outlives the deadline). */
export async function runKcs(args: string[], opts: KcsOptions = {}): Promise<Result> {
  const release = await slot();
  try {
    const run = spawnKcs(args, opts);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), COMMAND_DEADLINE_MS);
    try {
      return await run.exited;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    release();
  }
}

// ---- the control plane ---------------------------------------------------------------

export interface KcsServer {
  /** The URL `kcs up` printed (https: kcs up serves TLS by default). */
  url: string;
  /** The cluster CA (PEM) the server's certificate chains to. */
  ca?: string;
  stateDir: string;
  /** The temp dir holding the state dir and any scratch dirs; removed on stop. */
  root: string;
  token: string;
  process: RunningKcs;
  /** Runs a client command against this server (KCS_STATE_DIR set). */
  kcs(args: string[], opts?: KcsOptions): Promise<Result>;
  /** Starts a long-running client command against this server. */
  spawn(args: string[], opts?: KcsOptions): RunningKcs;
  /** A fresh empty directory inside root, for manifests. */
  scratchDir(): string;
  /** An HTTP request to the API with the admin token. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** Stops the server (SIGTERM unless told), waits for exit, and removes root. */
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

const LISTENING = /kcs control plane listening on (https?:\/\/\S+)/;

export async function startServer(opts: { root?: string; keepRoot?: boolean; args?: string[] } = {}): Promise<KcsServer> {
  const root = opts.root ?? mkdtempSync(join(tmpdir(), 'kcs-cli-test-'));
  const stateDir = join(root, 'state');
  // Virtual nodes: these tests are about the CLI, and must leave no containers behind.
  const proc = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'virtual', ...(opts.args ?? [])]);
  let url: string;
  try {
    url = LISTENING.exec(await proc.waitForOutput(LISTENING, START_DEADLINE_MS))![1];
  } catch (err) {
    await proc.stop('SIGKILL');
    // A root this call made is removed; a root the caller gave is the caller's.
    if (!opts.root) rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const token = readFileSync(join(stateDir, 'admin.token'), 'utf8').trim();
  // The cluster CA `kcs up` made: what the kubeconfig carries, and what api() trusts.
  const ca = url.startsWith('https:') ? readFileSync(join(stateDir, 'pki', 'ca.crt'), 'utf8') : undefined;
  let scratch = 0;
  return {
    url,
    ca,
    stateDir,
    root,
    token,
    process: proc,
    kcs: (args, o = {}) => runKcs(args, { stateDir, ...o }),
    spawn: (args, o = {}) => spawnKcs(args, { stateDir, ...o }),
    scratchDir() {
      const dir = join(root, `work-${++scratch}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    async api(method, path, body, contentType = 'application/json') {
      const res = await requestWithCa(url + path, {
        method, ca,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let parsed: unknown;
      try { parsed = JSON.parse(res.text); } catch { parsed = res.text; }
      return { status: res.status, body: parsed };
    },
    async stop(signal = 'SIGTERM') {
      try {
        return await proc.stop(signal);
      } finally {
        if (!opts.keepRoot) rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/**
 * One control plane for a whole test file: started before the first test,
 * stopped after the last, with the namespaces its tests put pods in (a pod
 * needs its namespace to exist). Returns a getter for the tests to use.
 */
export function sharedServer(test: TestFn, namespaces: string[] = []): () => KcsServer {
  let server: KcsServer | undefined;
  test.before(async () => {
    server = await startServer();
    for (const name of namespaces) {
      const r = await server.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      if (r.status !== 201) throw new Error(`could not create namespace ${name}: ${JSON.stringify(r.body)}`);
    }
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the shared kcs server did not start');
    return server;
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// ---- reading what kcs prints -------------------------------------------------------------

/**
 * A kcs table as rows keyed by header. Columns are found from where each
 * header starts, since cells are left-aligned under their header.
 */
export function parseTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = lines[0];
  const starts: Array<{ name: string; at: number }> = [];
  for (const m of header.matchAll(/\S+/g)) starts.push({ name: m[0], at: m.index });
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    starts.forEach((col, i) => {
      const end = i + 1 < starts.length ? starts[i + 1].at : undefined;
      row[col.name] = line.slice(col.at, end).trim();
    });
    return row;
  });
}

export function headersOf(text: string): string[] {
  return (text.split('\n')[0] ?? '').trim().split(/\s+/);
}

/** Error text as one line: oclif wraps long messages and marks them with ›. */
export function oneLine(text: string): string {
  return text.replace(/›/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Writes files (relative path -> content) under dir, making folders as needed. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** A minimal Node manifest in YAML. */
export function nodeYaml(name: string, cpu = '1', extra = ''): string {
  return `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "${cpu}"\n${extra}`;
}

/** A minimal Pod manifest in YAML. */
export function podYaml(name: string, cpu = '100m', namespace?: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}spec:\n  containers:\n  - name: c\n    resources:\n      requests:\n        cpu: ${cpu}\n`;
}
