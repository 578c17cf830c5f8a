// Where kcs keeps its state and how clients find the server. The client
// config is in kubeconfig format (written as JSON, which is valid YAML, so
// reading it needs no YAML parser and `kcs get` stays fast).
import { chmodSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const DEFAULT_PORT = 8080;

/** An environment variable, with an empty value meaning unset. */
function env(name: string): string | undefined {
  return process.env[name] || undefined;
}
export const DEFAULT_HOST = '127.0.0.1';

/** `--state-dir`, else $KCS_STATE_DIR, else ~/.kcs. */
export function stateDir(flag?: string): string {
  return resolve(flag ?? env('KCS_STATE_DIR') ?? join(homedir(), '.kcs'));
}

/** `--kubeconfig`, else $KCS_CONFIG, else <state dir>/kubeconfig. */
export function clientConfigPath(flag?: string, stateDirFlag?: string): string {
  return resolve(flag ?? env('KCS_CONFIG') ?? join(stateDir(stateDirFlag), 'kubeconfig'));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ClientConfig {
  server: string;
  token?: string;
  /** The CA (PEM) the server's certificate chains to: the kubeconfig's certificate-authority(-data). */
  ca?: string;
  insecureSkipTlsVerify?: boolean;
  /** The file the config came from, if any: named in error hints. */
  source?: string;
  /** Where `kcs up` serves the web dashboard (no token in it), kept as a cluster extension as minikube keeps its own. */
  dashboard?: string;
}

/** The kubeconfig cluster extension that carries the dashboard's address. */
const DASHBOARD_EXTENSION = 'kcs.io/dashboard';

interface KubeConfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: Array<{ name: string; cluster: {
    server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean;
    extensions?: Array<{ name: string; extension: { url?: string } }>;
  } }>;
  users: Array<{ name: string; user: { token?: string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  'current-context': string;
}

export function writeClientConfig(path: string, config: ClientConfig): void {
  const kubeconfig: KubeConfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kcs', cluster: {
      server: config.server,
      ...(config.ca ? { 'certificate-authority-data': Buffer.from(config.ca).toString('base64') } : {}),
      ...(config.dashboard ? { extensions: [{ name: DASHBOARD_EXTENSION, extension: { url: config.dashboard } }] } : {}),
    } }],
    users: [{ name: 'kcs-admin', user: { token: config.token } }],
    contexts: [{ name: 'kcs', context: { cluster: 'kcs', user: 'kcs-admin' } }],
    'current-context': 'kcs',
  };
  mkdirSync(dirname(path), { recursive: true });
  // Written whole then renamed, so a reader never sees half a file; 0600 because it holds a token.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(kubeconfig, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readClientConfig(path: string): ClientConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let kc: KubeConfig;
  try {
    kc = JSON.parse(text) as KubeConfig;
  } catch {
    // kcs writes its client config as JSON; a YAML kubeconfig (e.g. ~/.kube/config) is not read.
    throw new ConfigError(`${path} is not a kcs client config (kcs writes JSON; YAML kubeconfigs are not read): point --kubeconfig or $KCS_CONFIG at the file 'kcs up' wrote`);
  }
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
  const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? kc.clusters?.[0];
  const user = kc.users?.find((u) => u.name === ctx?.context.user) ?? kc.users?.[0];
  if (!cluster) return undefined;
  return {
    server: cluster.cluster.server, token: user?.user.token, source: path,
    ca: caOf(cluster.cluster, dirname(path)), insecureSkipTlsVerify: cluster.cluster['insecure-skip-tls-verify'] === true,
    dashboard: cluster.cluster.extensions?.find((e) => e.name === DASHBOARD_EXTENSION)?.extension?.url,
  };
}

/** The cluster's CA as kubeconfigs carry it: inline (base64 PEM) or a file named relative to the kubeconfig. */
function caOf(cluster: KubeConfig['clusters'][number]['cluster'], base: string): string | undefined {
  if (cluster['certificate-authority-data']) return Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
  const file = cluster['certificate-authority'];
  if (!file) return undefined;
  try {
    return readFileSync(resolve(base, file), 'utf8');
  } catch (err) {
    throw new ConfigError(`the kubeconfig names certificate-authority ${file}, which cannot be read: ${(err as Error).message}`);
  }
}

/**
 * Flags win over $KCS_SERVER/$KCS_TOKEN, which win over the config file. The
 * file's CA is kept when the server is given another way: it is the
 * cluster's, whichever address reaches it.
 */
export function resolveClientConfig(flags: { server?: string; token?: string; kubeconfig?: string; certificateAuthority?: string; insecureSkipTlsVerify?: boolean }): ClientConfig {
  const file = readClientConfig(clientConfigPath(flags.kubeconfig));
  const server = flags.server ?? env('KCS_SERVER') ?? file?.server ?? `https://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  const token = flags.token ?? env('KCS_TOKEN') ?? file?.token;
  let ca = file?.ca;
  if (flags.certificateAuthority) {
    try {
      ca = readFileSync(flags.certificateAuthority, 'utf8');
    } catch (err) {
      throw new ConfigError(`--certificate-authority ${flags.certificateAuthority}: ${(err as Error).message}`);
    }
  }
  return {
    server: server.replace(/\/+$/, ''), token, source: file?.source, ca,
    insecureSkipTlsVerify: flags.insecureSkipTlsVerify ?? file?.insecureSkipTlsVerify,
    // The dashboard belongs to the file's server: another server given by flag or environment has its own.
    dashboard: server === file?.server ? file.dashboard : undefined,
  };
}
