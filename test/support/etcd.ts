// A private etcd for the tests that need a real one: Debian's etcd-server,
// on free loopback ports with a temp data dir, stopped by its PID when the
// test file ends. Without an etcd binary those tests are skipped, or fail
// when KCS_REQUIRE_ETCD=1 (CI), as the Docker and Prometheus tests do.
import test, { type Implementation } from 'ava';
import { ETCD, startEtcd as startEtcdProcess, type EtcdTlsFiles } from '../../tools/etcd-process.ts';

export { ETCD };
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
  /** Started with tls: its CA, and a client certificate it accepts. */
  tls?: EtcdTlsFiles;
}

/**
 * One etcd for the whole test file, started by the first test that asks and
 * stopped after the last. Call at the top level of the file (it registers
 * the hook that stops it). With tls, it serves only TLS clients showing a
 * certificate from its CA.
 */
export function sharedEtcd(opts: { tls?: boolean } = {}): () => Promise<RunningEtcd> {
  let started: Promise<{ etcd: RunningEtcd; stop: () => Promise<void> }> | undefined;
  test.after.always(async () => {
    if (started) await (await started.catch(() => undefined))?.stop();
  });
  return async () => {
    started ??= startEtcd(opts.tls ?? false);
    return (await started).etcd;
  };
}

async function startEtcd(tls: boolean): Promise<{ etcd: RunningEtcd; stop: () => Promise<void> }> {
  const running = await startEtcdProcess({ tls });
  return { etcd: { endpoint: running.endpoint, pid: running.pid, tls: running.tls }, stop: running.stop };
}
