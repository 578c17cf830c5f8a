// Which Store a control plane keeps its state in, from `kcs up --store`:
// by default the SQLite file in the state directory, or an etcd cluster
// (etcd://host:port[,host:port...]), which several API servers can share.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdEndpointsOf } from './etcd.ts';
import { SqliteStore } from './sqlite.ts';
import { StoreError, type Store } from './store.ts';

export const STORE_URL_FORMS = 'etcd://host:port[,host:port...]';

export async function openStore(storeUrl: string | undefined, stateDir: string): Promise<Store> {
  if (storeUrl === undefined || storeUrl === '') return new SqliteStore(join(stateDir, 'kcs.db'));
  const endpoints = etcdEndpointsOf(storeUrl);
  if (!endpoints) throw new StoreError(`${storeUrl} is not a store kcs knows: give ${STORE_URL_FORMS}, or nothing for the SQLite file in the state directory`);
  const { EtcdStore } = await import('./etcd.ts');
  return EtcdStore.open({ endpoints });
}

/** Whether several control planes may share the store: an etcd one, not the SQLite file only its owner opens. */
export function isSharedStore(storeUrl: string | undefined): boolean {
  return storeUrl?.startsWith('etcd://') ?? false;
}

/** Where a state directory records the shared store its `kcs up` runs on: for `kcs down` to ask it who still runs. */
const STORE_URL_FILE = 'store-url';

/** Records the store a control plane on this state directory runs on (the SQLite file: nothing recorded). */
export function rememberStore(stateDir: string, storeUrl: string | undefined): void {
  const path = join(stateDir, STORE_URL_FILE);
  if (!isSharedStore(storeUrl)) return rmSync(path, { force: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${storeUrl}\n`, { mode: 0o600 });
}

/** The shared store the last control plane on this state directory ran on, if it was one. */
export function rememberedStore(stateDir: string): string | undefined {
  try {
    const url = readFileSync(join(stateDir, STORE_URL_FILE), 'utf8').trim();
    return isSharedStore(url) ? url : undefined;
  } catch {
    return undefined;
  }
}
