// One cluster identity for every API server sharing a store: the cluster id,
// the admin, controller and metrics tokens, the key node tokens are signed
// with, and the cluster CA. It is kept in the store itself (outside
// /registry/, so no API request can read it), which is where several
// `kcs up --store etcd://...` find each other: the first to start writes
// what its state directory holds, and every later one adopts that, writing
// it into its own state directory, where the rest of kcs (the kubeconfig,
// the serving certificate, Prometheus's token file) already looks. A token
// or certificate from one server is therefore good on all of them.
// As in Kubernetes, whoever can read the store is the cluster's admin.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeyExistsError, StoreError, type Store } from './store.ts';

export const CLUSTER_IDENTITY_KEY = '/kcs/cluster-identity';

/** The state directory's files that make up the identity, by the record's field. */
export const IDENTITY_FILES = {
  clusterId: 'cluster-id',
  adminToken: 'admin.token',
  controllerToken: 'controller.token',
  metricsToken: 'metrics.token',
  nodeTokenKey: 'node-token.key',
  caCert: join('pki', 'ca.crt'),
  caKey: join('pki', 'ca.key'),
} as const;

export type ClusterIdentity = Record<keyof typeof IDENTITY_FILES, string>;

type Field = keyof typeof IDENTITY_FILES;
const FIELDS = Object.keys(IDENTITY_FILES) as Field[];

/**
 * Makes stateDir hold the cluster's identity: the one in the store, or, when
 * the store has none yet, this state directory's own (every file must exist:
 * the caller has made them). Returns which of the two it was.
 */
export async function adoptClusterIdentity(store: Store, stateDir: string, log?: (message: string) => void): Promise<'adopted' | 'published'> {
  let kept = await store.get(CLUSTER_IDENTITY_KEY);
  if (!kept) {
    const own = readIdentity(stateDir);
    try {
      await store.create(CLUSTER_IDENTITY_KEY, JSON.stringify(own));
      log?.(`published this state directory's cluster identity (cluster id ${own.clusterId}) to the store`);
      return 'published';
    } catch (err) {
      // Another server published first, a moment ago: adopt its.
      if (!(err instanceof KeyExistsError)) throw err;
      kept = await store.get(CLUSTER_IDENTITY_KEY);
      if (!kept) throw new StoreError(`${CLUSTER_IDENTITY_KEY} existed and then did not`);
    }
  }
  const identity = parseIdentity(kept.value);
  const changed = FIELDS.filter((f) => readField(stateDir, f) !== identity[f]);
  for (const field of changed) writeField(stateDir, field, identity[field]);
  if (changed.length > 0) log?.(`adopted the cluster identity kept in the store (cluster id ${identity.clusterId}): ${changed.map((f) => IDENTITY_FILES[f]).join(', ')} rewritten`);
  return 'adopted';
}

function readIdentity(stateDir: string): ClusterIdentity {
  const identity = {} as ClusterIdentity;
  for (const field of FIELDS) {
    const value = readField(stateDir, field);
    if (value === undefined) throw new StoreError(`cannot publish the cluster identity: ${join(stateDir, IDENTITY_FILES[field])} is missing`);
    identity[field] = value;
  }
  return identity;
}

function parseIdentity(text: string): ClusterIdentity {
  const parsed = JSON.parse(text) as Partial<ClusterIdentity>;
  const missing = FIELDS.filter((f) => typeof parsed[f] !== 'string' || parsed[f] === '');
  if (missing.length > 0) throw new StoreError(`the cluster identity in the store (${CLUSTER_IDENTITY_KEY}) lacks ${missing.join(', ')}`);
  return parsed as ClusterIdentity;
}

/** A file's value as kcs reads it: a token or id trimmed, a PEM as written. */
function readField(stateDir: string, field: Field): string | undefined {
  const path = join(stateDir, IDENTITY_FILES[field]);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  return isPem(field) ? text : text.trim();
}

function writeField(stateDir: string, field: Field, value: string): void {
  const path = join(stateDir, IDENTITY_FILES[field]);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, isPem(field) ? value : value + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function isPem(field: Field): boolean {
  return field === 'caCert' || field === 'caKey';
}

/** Where the cluster's address ranges are kept: every server hands out from the same ones. */
export const CLUSTER_NETWORKS_KEY = '/kcs/cluster-networks';

export interface KeptNetworks { clusterCidr: string; serviceCidr: string }

/**
 * Makes this server agree with the cluster on its address ranges: the first
 * server keeps its own in the store, and a later one given others is
 * refused, naming the flag, before it hands out anything (two servers
 * handing out from different ranges would split the cluster's addresses).
 * Like the identity, they are the cluster's for good; other ranges need a
 * new cluster.
 */
export async function agreeOnNetworks(store: Store, mine: KeptNetworks): Promise<void> {
  let kept = await store.get(CLUSTER_NETWORKS_KEY);
  if (!kept) {
    try {
      await store.create(CLUSTER_NETWORKS_KEY, JSON.stringify(mine));
      return;
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
      kept = await store.get(CLUSTER_NETWORKS_KEY);
      if (!kept) throw new StoreError(`${CLUSTER_NETWORKS_KEY} existed and then did not`);
    }
  }
  const theirs = JSON.parse(kept.value) as Partial<KeptNetworks>;
  const differ = [
    ...(theirs.clusterCidr !== mine.clusterCidr ? [`--cluster-cidr ${theirs.clusterCidr} (this server was given ${mine.clusterCidr})`] : []),
    ...(theirs.serviceCidr !== mine.serviceCidr ? [`--service-cluster-ip-range ${theirs.serviceCidr} (this server was given ${mine.serviceCidr})`] : []),
  ];
  if (differ.length) throw new NetworksDisagreeError(`the cluster on this store uses ${differ.join(' and ')}: give every server of one cluster the same ranges`);
}

/** A server given other address ranges than its cluster's. */
export class NetworksDisagreeError extends Error {
  override name = 'NetworksDisagreeError';
}
