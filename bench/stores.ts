// The store a bench's control planes keep their objects in: the SQLite file
// in the state directory (kcs's default), or a private etcd on loopback
// ports of its own (tools/etcd-process.ts: Debian's etcd-server, or
// KCS_ETCD), which `kcs up` is given as --store etcd://host:port.
import { startEtcd, type EtcdProcess } from '../tools/etcd-process.ts';

export type StoreName = 'sqlite' | 'etcd';

/**
 * The stores `--store sqlite|etcd|both` (or $KCS_BENCH_STORE) names, SQLite
 * first; sqlite when neither is given. Anything else exits 2 saying so.
 */
export function storesOpt(flag: string | undefined): StoreName[] {
  const raw = flag ?? process.env.KCS_BENCH_STORE ?? 'sqlite';
  if (raw === 'sqlite' || raw === 'etcd') return [raw];
  if (raw === 'both') return ['sqlite', 'etcd'];
  console.error('--store must be sqlite, etcd or both');
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
  const etcd = await startEtcd();
  return { name, upArgs: ['--store', `etcd://${etcd.endpoint}`], etcd, stop: () => etcd.stop() };
}
