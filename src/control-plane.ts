// The composition root: assembles a whole control plane in this process,
// above everything it assembles: the store, the API server with its
// identities (admin, controllers, nodes, the metrics reader), its metrics,
// and (when given a node runtime) the controllers, acting in-process as
// their own identity through the same authorizer as HTTP requests, and
// virtual nodes acting as their node.
// `kcs up`, the tests and the benches all start kcs through here.
import { clusterNetworks } from './objects/cluster-networks.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import { adoptClusterIdentity as adoptIdentityInto, agreeOnNetworks, IDENTITY_FILES } from './store/cluster-identity.ts';
import { isSharedStore, openStore, rememberStore, type EtcdTlsFiles } from './store/open.ts';
import type { Store } from './store/store.ts';
import { timeWrites } from './store/timed-writes.ts';
import { Metrics } from './util/metrics.ts';
import { createApp } from './api/app.ts';
import { ADMIN_USER, adminTokenAuthenticator, anyOf, generateToken, type User } from './api/auth.ts';
import { CONTROLLERS_USER, controllerTokenAuthenticator } from './api/controller-auth.ts';
import { metricsTokenAuthenticator } from './api/metrics-auth.ts';
import { NodeTokens, nodeUser } from './api/node-auth.ts';
import type { Registry } from './api/registry.ts';
import type { UsageRecorder } from './api/usage-recorder.ts';
import type { KcsClient } from './client/interface.ts';
import { LocalClient } from './client/local.ts';
import { DEFAULT_GRACE_MS } from './controllers/health.ts';
import { startControllers, startNamespaceController, type RunningControllers, type RunningNamespaceController } from './controllers/manager.ts';
import { ApiServerLeases } from './controllers/apiserver-leases.ts';
import { candidateIdentity, CONTROLLER_LEASE_NAME, NAMESPACE_CONTROLLER_LEASE_NAME, runWhileLeading, type LeaderElected, type LeaderElector } from './controllers/leader-election.ts';
import type { NodeRuntime } from './runtime/runtime.ts';
import { loadOrCreateCa, loadOrCreateServingTls, serverTlsOptions } from './pki/serving-tls.ts';

export interface ControlPlaneOptions {
  stateDir: string;
  /** Where the objects are kept: etcd://host:port[,...], or (the default) the SQLite file in stateDir. */
  store?: string;
  /** TLS to the etcd of store (kube-apiserver's --etcd-cafile, --etcd-certfile, --etcd-keyfile). */
  etcdTls?: EtcdTlsFiles;
  host: string;
  port: number;
  bodyLimit?: number;
  log?: (message: string) => void;
  /** Runs the controllers, with Nodes made real by this runtime. */
  runtime?: NodeRuntime;
  /** The agents' heartbeat interval. */
  heartbeatMs?: number;
  /** How long a node may miss heartbeats before it is declared failed. */
  nodeGraceMs?: number;
  /** Restarts of a failing pod on one node before it is moved (default 3). */
  maxRestarts?: number;
  /** The first wait before a Job's failed pod is replaced (default 1 s, doubling per failure). */
  jobBackoffBaseMs?: number;
  /** The address agents reach the API at; defaults to the URL this server listens on. */
  agentServer?: string;
  /**
   * Serve https with the cluster CA and a serving certificate kept in the
   * state directory (what `kcs up` does unless told --no-tls): real
   * Kubernetes clients send a bearer token over nothing else.
   */
  tls?: boolean;
  /**
   * Run the controllers only while this control plane holds their Lease
   * (leader-election.ts), so several may share one store. Default: with an
   * etcd store, the only one several control planes can share. Timings
   * and identity may be given.
   */
  leaderElection?: boolean | LeaderElectionSettings;
  /**
   * The range node /24s come from (kube-controller-manager's
   * --cluster-cidr; default 127.64.0.0/10), and the one cluster IPs come
   * from (kube-apiserver's --service-cluster-ip-range; default
   * 127.32.0.0/16). Two clusters on one machine need ranges of their own;
   * servers sharing one store must be given the same.
   */
  clusterCidr?: string;
  serviceClusterIpRange?: string;
}

export interface LeaderElectionSettings {
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControlPlane {
  url: string;
  /** The cluster CA (PEM) clients trust the server through; undefined when serving plain http. */
  caPem?: string;
  /** The agents' heartbeat interval and the grace before a silent node is failed, as the controllers use them. */
  heartbeatMs: number;
  nodeGraceMs: number;
  adminToken: string;
  /** What `kcs controllers --token` runs as: the controllers' own identity. */
  controllerToken: string;
  /** What Prometheus scrapes GET /metrics with: may read /metrics and nothing else. Kept in metricsTokenFile. */
  metricsToken: string;
  metricsTokenFile: string;
  /** This control plane's metrics (the autoscaler records its decisions here). */
  metrics: Metrics;
  /** Mints the per-node tokens node agents authenticate with. */
  nodeTokens: NodeTokens;
  store: Store;
  registry: Registry;
  /** The node agents' usage reports (metrics.k8s.io), in memory. */
  usage: UsageRecorder;
  server: Server;
  /** The controllers, while they run here (with leader election, while this control plane leads). */
  readonly controllers?: RunningControllers;
  /** Without a runtime, the one controller that needs no machines: deleted namespaces are still emptied. */
  readonly namespaceController?: RunningNamespaceController;
  /** Every live API server of the cluster (this one's first): what agents are given. One, unless several share the store. */
  apiServers(): string[];
  /** Who holds the controllers' Lease, with leader election; undefined without. */
  leaderElector?: LeaderElector;
  /** An in-process client acting as user (through the same authorizer as HTTP). */
  clientAs(user: User): KcsClient;
  /** An in-process admin client (what `kcs up --watch` syncs with). */
  adminClient(): KcsClient;
  close(): Promise<void>;
}

/** The admin token persists in the state directory so clients keep working across restarts. */
export function loadOrCreateAdminToken(stateDir: string): string {
  return loadOrCreateToken(stateDir, IDENTITY_FILES.adminToken);
}

/** Where the metrics reader's token is kept, for a Prometheus server to read. */
const METRICS_TOKEN_FILE = IDENTITY_FILES.metricsToken;

/** Tokens persist in the state directory (0600) so clients keep working across restarts. */
function loadOrCreateToken(stateDir: string, file: string): string {
  return loadOrCreate(stateDir, file, generateToken);
}

/** Names this control plane's machines on a shared Docker daemon; kept with the state. */
export function loadOrCreateClusterId(stateDir: string): string {
  return loadOrCreate(stateDir, IDENTITY_FILES.clusterId, () => randomBytes(4).toString('hex'));
}

/** A value kept in a file of the state directory (0600), made once. */
function loadOrCreate(stateDir: string, file: string, make: () => string): string {
  const path = join(stateDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

/**
 * Control planes sharing a store share one identity, kept in it: this state
 * directory gets made whatever it lacks, then publishes it (the first
 * server) or takes the store's (every later one), before anything reads it.
 */
async function shareClusterIdentity(store: Store, stateDir: string, log?: (message: string) => void): Promise<void> {
  loadOrCreateAdminToken(stateDir);
  loadOrCreateToken(stateDir, IDENTITY_FILES.controllerToken);
  loadOrCreateToken(stateDir, METRICS_TOKEN_FILE);
  loadOrCreateClusterId(stateDir);
  NodeTokens.loadOrCreate(stateDir);
  await loadOrCreateCa(stateDir, log);
  await adoptIdentityInto(store, stateDir, log);
}

/**
 * Makes stateDir hold the cluster identity of the store named (nothing to
 * do for the SQLite file): for what must know the cluster id before the
 * control plane starts, as `kcs up` names its Docker containers by it.
 */
export async function adoptClusterIdentity(storeUrl: string | undefined, stateDir: string, log?: (message: string) => void, etcdTls?: EtcdTlsFiles): Promise<void> {
  if (!isSharedStore(storeUrl)) return;
  const store = await openStore(storeUrl, stateDir, etcdTls);
  try {
    await shareClusterIdentity(store, stateDir, log);
  } finally {
    await store.close();
  }
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  // Checked before anything is opened: a range that cannot be used is refused (NetworkRangeError).
  const networks = clusterNetworks({ clusterCidr: opts.clusterCidr, serviceCidr: opts.serviceClusterIpRange });
  const metrics = new Metrics();
  const store = timeWrites(await openStore(opts.store, opts.stateDir, opts.etcdTls), metrics);
  if (isSharedStore(opts.store)) {
    await shareClusterIdentity(store, opts.stateDir, opts.log)
      .then(() => agreeOnNetworks(store, { clusterCidr: networks.pods.cidr, serviceCidr: networks.services.cidr }))
      .catch(async (err: unknown) => { await store.close(); throw err; });
  }
  rememberStore(opts.stateDir, opts.store, opts.etcdTls);
  const adminToken = loadOrCreateAdminToken(opts.stateDir);
  const controllerToken = loadOrCreateToken(opts.stateDir, IDENTITY_FILES.controllerToken);
  const metricsToken = loadOrCreateToken(opts.stateDir, METRICS_TOKEN_FILE);
  const nodeTokens = NodeTokens.loadOrCreate(opts.stateDir);
  const authenticator = anyOf(adminTokenAuthenticator(adminToken), controllerTokenAuthenticator(controllerToken), metricsTokenAuthenticator(metricsToken), nodeTokens);
  const { app, registry, authorize, usage } = createApp({ store, authenticator, bodyLimit: opts.bodyLimit, log: opts.log, metrics,
    nodeToken: (name) => nodeTokens.tokenFor(name),
    clusterId: loadOrCreateClusterId(opts.stateDir),
    networks,
  });
  const tls = opts.tls
    ? await loadOrCreateServingTls(opts.stateDir, opts.host, opts.log).catch(async (err: unknown) => { await store.close(); throw err; })
    : undefined;
  const server: Server = tls ? createTlsServer(serverTlsOptions(tls), app.callback()) : createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  try {
    await registry.ready();
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolveListen());
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const clientAs = (user: User): KcsClient => new LocalClient(registry, { user, authorize, usage });
  let controllers: MaybeElected<RunningControllers> | undefined;
  let namespaceController: MaybeElected<RunningNamespaceController> | undefined;
  opts.runtime?.useInProcessClients?.((nodeName) => clientAs(nodeUser(nodeName)));
  const election = leaderElectionOf(opts);
  // With a shared store, this server says where it is, and agents are given every live server.
  const apiServers = isSharedStore(opts.store)
    ? new ApiServerLeases({ client: clientAs(ADMIN_USER), url: opts.agentServer ?? url, identity: election?.identity ?? candidateIdentity(), log: opts.log })
    : undefined;
  try {
    await apiServers?.start();
    const runtime = opts.runtime;
    if (runtime) {
      controllers = await runElected(election, CONTROLLER_LEASE_NAME, clientAs(CONTROLLERS_USER), opts.log, () => startControllers({
        client: clientAs(CONTROLLERS_USER), runtime, server: opts.agentServer ?? url, apiServers: apiServers && (() => apiServers.servers()), ca: tls?.caPem,
        tokenFor: (name) => nodeTokens.tokenFor(name), heartbeatMs: opts.heartbeatMs, cpuUsage: (name) => usage.node(name)?.milliCpu, nodeGraceMs: opts.nodeGraceMs, maxRestarts: opts.maxRestarts, jobBackoffBaseMs: opts.jobBackoffBaseMs, log: opts.log, metrics,
      }));
    } else {
      namespaceController = await runElected(election, NAMESPACE_CONTROLLER_LEASE_NAME, clientAs(CONTROLLERS_USER), opts.log, () => startNamespaceController({ client: clientAs(CONTROLLERS_USER), log: opts.log, metrics }));
    }
  } catch (err) {
    await apiServers?.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
    throw err;
  }
  return {
    url,
    caPem: tls?.caPem,
    heartbeatMs: opts.heartbeatMs ?? 1000,
    nodeGraceMs: opts.nodeGraceMs ?? DEFAULT_GRACE_MS,
    get controllers() { return controllers?.current; },
    get namespaceController() { return namespaceController?.current; },
    leaderElector: controllers?.elector ?? namespaceController?.elector,
    apiServers: () => apiServers?.servers() ?? [opts.agentServer ?? url],
    adminToken,
    controllerToken,
    metricsToken,
    metricsTokenFile: join(opts.stateDir, METRICS_TOKEN_FILE),
    metrics,
    nodeTokens,
    clientAs,
    adminClient: () => clientAs(ADMIN_USER),
    store,
    registry,
    usage,
    server,
    async close() {
      // Controllers first, so nothing acts on a half-closed server, and their
      // Lease released, so another control plane takes over at once. Machines
      // are left running: a restarted kcs adopts them.
      await controllers?.stop();
      await namespaceController?.stop();
      await apiServers?.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
    },
  };
}

/** The election settings, or undefined to run the controllers outright (a store only this process uses). */
function leaderElectionOf(opts: ControlPlaneOptions): LeaderElectionSettings | undefined {
  const on = opts.leaderElection ?? isSharedStore(opts.store);
  if (on === false) return undefined;
  return on === true ? {} : on;
}

/** What runs, and who decides when: its elector, or none when it runs outright. */
type MaybeElected<T> = Omit<LeaderElected<T>, 'elector'> & { elector?: LeaderElector };

/** Started outright without election; with it, whenever this control plane holds the Lease named. */
async function runElected<T extends { stop(): Promise<void> }>(
  election: LeaderElectionSettings | undefined, name: string, client: KcsClient, log: ((message: string) => void) | undefined, start: () => Promise<T>,
): Promise<MaybeElected<T>> {
  if (!election) {
    const running = await start();
    return { elector: undefined, current: running, stop: () => running.stop() };
  }
  return runWhileLeading(start, { ...election, name, client, log });
}
