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
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts one, and answers once its /health says true (within timeoutMs). */
export async function startEtcd(opts: { timeoutMs?: number; defaultLimits?: boolean } = {}): Promise<EtcdProcess> {
  if (!ETCD) throw new Error('no etcd binary (install Debian\'s etcd-server, or set KCS_ETCD)');
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(ETCD, [
    '--name', 'kcs', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `kcs=${peer}`,
    '--logger', 'zap', '--log-level', 'error',
    // The limits kcs's batched writes need, unless a test wants etcd's defaults.
    ...(opts.defaultLimits ? [] : ETCD_LIMIT_FLAGS),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Should this process end without stopping it, etcd goes with it.
  const killOnExit = () => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`etcd exited with ${child.exitCode}: ${output.slice(-2000)}`);
    }
    const res = await fetch(`${client}/health`).catch(() => undefined);
    if (res?.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not answer on ${client} (it printed: ${output.slice(-2000)})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: `127.0.0.1:${clientPort}`, pid: child.pid!, stop };
}
