// A private etcd on free loopback ports with a temp data dir, for the tests
// and benches that need a real one (Debian's etcd-server). Stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ETCD_LIMIT_FLAGS } from '../src/store/etcd.ts';

/** The etcd binary: KCS_ETCD, else the first etcd on PATH; undefined if there is none. */
export const ETCD = (process.env.KCS_ETCD ? [process.env.KCS_ETCD] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'etcd'))).find((p) => existsSync(p));

export interface EtcdProcess {
  /** host:port of its client URL. */
  endpoint: string;
  /** The PID of the running member (a new one after restart). */
  readonly pid: number;
  /** Ends it for good and removes its data dir. */
  stop(): Promise<void>;
  /** Kills the member at once (an outage), keeping its data dir. */
  kill(): Promise<void>;
  /** Starts the killed member again on the same data dir and ports; answers once it is healthy. */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Member {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
}

function spawnMember(etcd: string, args: string[]): Member {
  const child: ChildProcess = spawn(etcd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited, output: () => output };
}

async function ended(member: Member, signal: NodeJS.Signals): Promise<void> {
  const { child } = member;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await member.exited;
  clearTimeout(timer);
}

/** Resolves once the member's /health says true; throws if it exits or timeoutMs passes first. */
async function healthy(member: Member, client: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (member.child.exitCode !== null) throw new Error(`etcd exited with ${member.child.exitCode}: ${member.output().slice(-2000)}`);
    const res = await fetch(`${client}/health`).catch(() => undefined);
    if (res?.ok && ((await res.json()) as { health?: string }).health === 'true') return;
    if (Date.now() > deadline) throw new Error(`etcd did not answer on ${client} (it printed: ${member.output().slice(-2000)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts one, and answers once its /health says true (within timeoutMs). */
export async function startEtcd(opts: { timeoutMs?: number; defaultLimits?: boolean } = {}): Promise<EtcdProcess> {
  const etcd = ETCD;
  if (!etcd) throw new Error('no etcd binary (install Debian\'s etcd-server, or set KCS_ETCD)');
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'kcs', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `kcs=${peer}`,
    '--logger', 'zap', '--log-level', 'error',
    // The limits kcs's batched writes need, unless a test wants etcd's defaults.
    ...(opts.defaultLimits ? [] : ETCD_LIMIT_FLAGS),
  ];
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let member = spawnMember(etcd, args);
  // Should this process end without stopping it, etcd goes with it.
  const killOnExit = () => { member.child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await ended(member, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const started = async () => {
    try {
      await healthy(member, client, timeoutMs);
    } catch (err) {
      await stop();
      throw err;
    }
  };
  await started();
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    get pid() { return member.child.pid!; },
    stop,
    kill: () => ended(member, 'SIGKILL'),
    restart: async () => {
      await ended(member, 'SIGKILL');
      member = spawnMember(etcd, args);
      await started();
    },
  };
}
