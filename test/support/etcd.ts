// A private etcd for the tests that need a real one: Debian's etcd-server,
// on free loopback ports with a temp data dir, stopped by its PID when the
// test file ends. Without an etcd binary those tests are skipped, or fail
// when KCS_REQUIRE_ETCD=1 (CI), as the Docker and Prometheus tests do.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import test, { type Implementation } from 'ava';
import { eventually } from './eventually.ts';

/** The etcd binary: KCS_ETCD, else the first etcd on PATH; undefined if there is none. */
export const ETCD = (process.env.KCS_ETCD ? [process.env.KCS_ETCD] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'etcd'))).find((p) => existsSync(p));
const required = process.env.KCS_REQUIRE_ETCD === '1';

/** Declares a test that needs etcd: skipped without one, failed saying why when KCS_REQUIRE_ETCD=1. Serial: the tests of a file share one etcd, and its revision. */
export function etcdTest(title: string, impl: Implementation<[]>): void {
  if (ETCD) test.serial(title, impl);
  else if (required) test(title, (t) => t.fail(`KCS_REQUIRE_ETCD=1 but there is no etcd binary ${process.env.KCS_ETCD ? `at ${process.env.KCS_ETCD}` : 'on PATH'} (install Debian's etcd-server, or set KCS_ETCD)`));
  else test.skip(title, impl);
}

export interface RunningEtcd {
  /** host:port of its client URL. */
  endpoint: string;
  pid: number;
}

/**
 * One etcd for the whole test file, started by the first test that asks and
 * stopped after the last. Call at the top level of the file (it registers
 * the hook that stops it).
 */
export function sharedEtcd(): () => Promise<RunningEtcd> {
  let started: Promise<{ etcd: RunningEtcd; stop: () => Promise<void> }> | undefined;
  test.after.always(async () => {
    if (started) await (await started.catch(() => undefined))?.stop();
  });
  return async () => {
    started ??= startEtcd();
    return (await started).etcd;
  };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function startEtcd(): Promise<{ etcd: RunningEtcd; stop: () => Promise<void> }> {
  if (!ETCD) throw new Error('no etcd binary');
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(ETCD, [
    '--name', 'kcs-test', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `kcs-test=${peer}`,
    '--logger', 'zap', '--log-level', 'error',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Should the worker end without running the after hook, etcd goes with it.
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
  try {
    await eventually(() => `etcd to answer on ${client} (it printed: ${output.slice(-2000)})`, async () => {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${output.slice(-2000)}`);
      const res = await fetch(`${client}/health`).catch(() => undefined);
      return res?.ok && ((await res.json()) as { health?: string }).health === 'true';
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { etcd: { endpoint: `127.0.0.1:${clientPort}`, pid: child.pid! }, stop };
}
