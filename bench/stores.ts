// The store a bench's control planes keep their objects in: the SQLite file
// in the state directory (kcs's default), or a private etcd on loopback
// ports of its own (tools/etcd-process.ts: Debian's etcd-server, or
// KCS_ETCD), which `kcs up` is given as --store etcd://host:port; or such
// an etcd serving only TLS clients with a certificate from its CA
// (etcd-tls), reached with --etcd-cafile, --etcd-certfile, --etcd-keyfile.
import { startEtcd, type EtcdProcess } from '../tools/etcd-process.ts';

export type StoreName = 'sqlite' | 'etcd' | 'etcd-tls';
const STORE_NAMES: readonly StoreName[] = ['sqlite', 'etcd', 'etcd-tls'];

/**
 * The stores `--store` (or $KCS_BENCH_STORE) names: sqlite, etcd, etcd-tls,
 * both (sqlite,etcd), or a comma-separated list, run in that order (the
 * first is what the others are compared with); sqlite when none is given.
 * Anything else exits 2 saying so.
 */
export function storesOpt(flag: string | undefined): StoreName[] {
  const raw = flag ?? process.env.KCS_BENCH_STORE ?? 'sqlite';
  const names = raw === 'both' ? ['sqlite', 'etcd'] : raw.split(',').map((n) => n.trim());
  if (names.length && names.every((n): n is StoreName => (STORE_NAMES as readonly string[]).includes(n)) && new Set(names).size === names.length) return names;
  console.error(`--store must be ${STORE_NAMES.join(', ')}, both, or a comma-separated list of them`);
  process.exit(2);
}

export interface BenchStore {
  name: StoreName;
  /** What `kcs up` is told to use it (none for SQLite, its default). */
  upArgs: string[];
  /** The etcd member, for an etcd store: its endpoint, and its PID for CPU and memory figures. */
  etcd?: EtcdProcess;
  /** Stops the etcd member (by its PID) and removes its data; nothing for SQLite, which lives in the state dir. */
  stop(): Promise<void>;
}

/** A fresh store: for etcd, a new member with an empty data dir, answering once healthy. */
export async function startStore(name: StoreName): Promise<BenchStore> {
  if (name === 'sqlite') return { name, upArgs: [], stop: async () => {} };
  const etcd = await startEtcd({ tls: name === 'etcd-tls' });
  const tlsArgs = etcd.tls ? ['--etcd-cafile', etcd.tls.caFile, '--etcd-certfile', etcd.tls.certFile, '--etcd-keyfile', etcd.tls.keyFile] : [];
  return { name, upArgs: ['--store', `etcd://${etcd.endpoint}`, ...tlsArgs], etcd, stop: () => etcd.stop() };
}
