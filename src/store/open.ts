// Which Store a control plane keeps its state in, from `kcs up --store`:
// by default the SQLite file in the state directory, or an etcd cluster
// (etcd://host:port[,host:port...]), which several API servers can share.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { etcdEndpointsOf, type EtcdTls } from './etcd.ts';
import { SqliteStore } from './sqlite.ts';
import { StoreError, type Store } from './store.ts';

export const STORE_URL_FORMS = 'etcd://host:port[,host:port...]';
const TLS_WITHOUT_ETCD = '--etcd-cafile, --etcd-certfile and --etcd-keyfile are for a store on etcd: give --store etcd://host:port too';

/**
 * TLS to etcd, as kube-apiserver's --etcd-cafile, --etcd-certfile and
 * --etcd-keyfile: the CA that signed etcd's serving certificate, and a
 * client certificate and its key for an etcd that checks them.
 */
export interface EtcdTlsFiles {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export async function openStore(storeUrl: string | undefined, stateDir: string, etcdTls?: EtcdTlsFiles): Promise<Store> {
  if (storeUrl === undefined || storeUrl === '') {
    if (etcdTls) throw new StoreError(TLS_WITHOUT_ETCD);
    return new SqliteStore(join(stateDir, 'kcs.db'));
  }
  const endpoints = etcdEndpointsOf(storeUrl);
  if (!endpoints) throw new StoreError(`${storeUrl} is not a store kcs knows: give ${STORE_URL_FORMS}, or nothing for the SQLite file in the state directory`);
  const tls = etcdTls && readEtcdTls(etcdTls);
  const { EtcdStore } = await import('./etcd.ts');
  return EtcdStore.open({ endpoints, tls });
}

/**
 * The TLS files `kcs up` was given for its store, checked (each readable,
 * PEM, the pair complete, and an etcd store to use them on); undefined when
 * none was given.
 */
export function etcdTlsOf(storeUrl: string | undefined, files: { caFile?: string; certFile?: string; keyFile?: string }): EtcdTlsFiles | undefined {
  if (files.caFile === undefined && files.certFile === undefined && files.keyFile === undefined) return undefined;
  if (!isSharedStore(storeUrl)) throw new StoreError(TLS_WITHOUT_ETCD);
  if (files.caFile === undefined) throw new StoreError('--etcd-certfile and --etcd-keyfile need --etcd-cafile: the CA that signed etcd\'s serving certificate');
  // Absolute: kcs down reads them from wherever it is run.
  const checked: EtcdTlsFiles = { caFile: resolve(files.caFile), ...(files.certFile !== undefined && { certFile: resolve(files.certFile) }), ...(files.keyFile !== undefined && { keyFile: resolve(files.keyFile) }) };
  readEtcdTls(checked);
  return checked;
}

/** The PEM files read, each refused by its flag's name when it cannot be. */
export function readEtcdTls(files: EtcdTlsFiles): EtcdTls {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new StoreError('--etcd-certfile and --etcd-keyfile go together: a client certificate needs its key');
  }
  const read = (flag: string, path: string, what: RegExp) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StoreError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (!what.test(text)) throw new StoreError(`${flag} ${path}: not a PEM ${what === CERTIFICATE ? 'certificate' : 'private key'}`);
    return text;
  };
  return {
    ca: read('--etcd-cafile', files.caFile, CERTIFICATE),
    ...(files.certFile !== undefined && files.keyFile !== undefined && {
      cert: read('--etcd-certfile', files.certFile, CERTIFICATE),
      key: read('--etcd-keyfile', files.keyFile, PRIVATE_KEY),
    }),
  };
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** Whether several control planes may share the store: an etcd one, not the SQLite file only its owner opens. */
export function isSharedStore(storeUrl: string | undefined): boolean {
  return storeUrl?.startsWith('etcd://') ?? false;
}

/**
 * Where a state directory records the shared store its `kcs up` runs on
 * (and the TLS files it reaches it with): for `kcs down` to ask it who
 * still runs.
 */
const STORE_URL_FILE = 'store-url';

export interface RememberedStore {
  url: string;
  etcdTls?: EtcdTlsFiles;
}

/** Records the store a control plane on this state directory runs on (the SQLite file: nothing recorded). */
export function rememberStore(stateDir: string, storeUrl: string | undefined, etcdTls?: EtcdTlsFiles): void {
  const path = join(stateDir, STORE_URL_FILE);
  if (!isSharedStore(storeUrl)) return rmSync(path, { force: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const remembered: RememberedStore = { url: storeUrl!, ...(etcdTls && { etcdTls }) };
  writeFileSync(path, `${JSON.stringify(remembered)}\n`, { mode: 0o600 });
}

/** The shared store the last control plane on this state directory ran on, if it was one. */
export function rememberedStore(stateDir: string): RememberedStore | undefined {
  try {
    const remembered = JSON.parse(readFileSync(join(stateDir, STORE_URL_FILE), 'utf8')) as RememberedStore;
    return isSharedStore(remembered.url) ? remembered : undefined;
  } catch {
    return undefined;
  }
}
