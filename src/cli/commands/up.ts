import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { clientConfigPath, DEFAULT_HOST, DEFAULT_PORT, stateDir, writeClientConfig } from '../../config.ts';
import { RUNTIME_CHOICES, type RuntimeChoice } from '../../runtime/select.ts';
import { etcdTlsOf, isSharedStore } from '../../store/open.ts';
import { electionTimings, leaderElectionFlags } from '../leader-election-flags.ts';

/**
 * Heartbeat and grace by runtime. A few Docker nodes: every second, failed
 * after three (failover in seconds, to watch). Virtual nodes are for
 * thousands: Kubernetes' own 10 s renewals and 40 s grace, so 5,000 nodes
 * cost 500 Lease writes a second, not 5,000.
 */
const HEARTBEATS: Record<'docker' | 'virtual', { heartbeatMs: number; nodeGraceMs: number }> = {
  docker: { heartbeatMs: 1000, nodeGraceMs: 3000 },
  virtual: { heartbeatMs: 10_000, nodeGraceMs: 40_000 },
};

/** How long `kcs up` may take to stop before it exits anyway. */
const SHUTDOWN_LIMIT_MS = 4500;
const ETCD_SUGGESTION = 'check --store (etcd://host:port of running etcd members), and for an etcd serving TLS --etcd-cafile, --etcd-certfile and --etcd-keyfile';

export default class Up extends Command {
  static override summary = 'Run a local control plane (API server and embedded store) in the foreground.';
  static override description = 'Needs no configuration: state goes to ~/.kcs (or --state-dir / $KCS_STATE_DIR), the API listens on https://127.0.0.1:8080 with a cluster CA and certificate kept in the state directory, and a client config (kubeconfig format) with the CA and the admin token is written for kcs and kubectl to use. Ctrl-C stops it cleanly.';
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --port 0 --state-dir /tmp/kcs-demo',
    '<%= config.bin %> up --watch manifests/',
    '<%= config.bin %> up --state-dir /tmp/kcs-b --port 0 --cluster-cidr 127.128.0.0/10 --service-cluster-ip-range 127.33.0.0/16',
  ];
  static override flags = {
    'state-dir': Flags.string({ summary: 'Where the store and the admin token live (default $KCS_STATE_DIR or ~/.kcs).' }),
    store: Flags.string({ summary: 'Keep the objects in etcd (etcd://host:port[,host:port...]) instead of the SQLite file in the state directory.' }),
    'etcd-cafile': Flags.string({ summary: 'Reach etcd over TLS (https), trusting this CA (PEM) for its serving certificate (kube-apiserver\'s flag).' }),
    'etcd-certfile': Flags.string({ summary: 'With --etcd-cafile: the client certificate (PEM) to show an etcd that checks them (--client-cert-auth).' }),
    'etcd-keyfile': Flags.string({ summary: 'The private key (PEM) of --etcd-certfile.' }),
    host: Flags.string({ summary: 'Address to listen on. Anything but loopback exposes the API to the network.', default: DEFAULT_HOST }),
    port: Flags.integer({ summary: 'Port to listen on (0 picks a free one).', default: DEFAULT_PORT, min: 0, max: 65535 }),
    tls: Flags.boolean({
      summary: 'Serve https with a cluster CA kept in the state directory (--no-tls: plain http, which kubectl and client libraries refuse to send a token over).',
      default: true, allowNo: true,
    }),
    kubeconfig: Flags.string({ summary: 'Where to write the client config (default $KCS_CONFIG or <state-dir>/kubeconfig).' }),
    ...leaderElectionFlags,
    'leader-elect': Flags.boolean({ summary: 'Run the controllers only while this control plane holds their Lease in kube-system, so several may share one etcd (default: on with --store etcd://..., off with the SQLite file).', allowNo: true }),
    runtime: Flags.string({ summary: 'What runs the nodes: docker containers, virtual (in this process), none, or auto (docker when a daemon answers).', options: [...RUNTIME_CHOICES], default: 'auto' }),
    'heartbeat-ms': Flags.integer({ summary: 'How often node agents renew their heartbeat Lease (default: 1000 for docker, 10000 for virtual).', min: 100 }),
    'node-grace-ms': Flags.integer({ summary: 'How long a node may miss heartbeats before it is declared failed and its pods moved (default: 3000 for docker, 40000 for virtual).', min: 200 }),
    'max-restarts': Flags.integer({ summary: 'Restarts of a failing pod on one node before it is moved to another (pods may set kcs.io/max-restarts).', default: 3, min: 1 }),
    dashboard: Flags.boolean({ summary: 'Serve the web dashboard on loopback and print its address (--no-dashboard: do not).', default: true, allowNo: true }),
    'dashboard-port': Flags.integer({ summary: 'Port of the dashboard (default: the API port + 1, or a free one with --port 0, or when that one is taken).', min: 0, max: 65535 }),
    watch: Flags.string({ summary: 'Keep the cluster in sync with this directory of manifests (as `kcs sync --watch`); may be repeated.', multiple: true }),
    'resync-ms': Flags.integer({ summary: 'With --watch: how often to sync anyway, restoring objects changed out of band.', default: 30_000, min: 100 }),
    'real-load': Flags.boolean({ summary: 'Docker nodes really burn the CPU their pods use (their kcs.io/usage), so docker stats agrees and a node whose pods want more than its CPUs is throttled.', default: false }),
    'cluster-cidr': Flags.string({ summary: 'The range each Node\'s pod /24 comes from, within 127.0.0.0/8 (default 127.64.0.0/10). Two clusters on one machine need ranges of their own; servers on one etcd, the same.' }),
    'service-cluster-ip-range': Flags.string({ summary: 'The range Services\' cluster IPs come from, within 127.0.0.0/8 (default 127.32.0.0/16), apart from the cluster CIDR.' }),
    'real-load-cap': Flags.string({ summary: 'With --real-load: the most CPU all nodes together may burn, in cores (default 0.5: half of one host core), so the control plane is never starved.', default: '0.5' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Up);
    const dir = stateDir(flags['state-dir']);
    const { adoptClusterIdentity, startControlPlane, loadOrCreateClusterId } = await import('../../control-plane.ts');
    const { selectRuntime } = await import('../../runtime/select.ts');
    const log = (m: string) => this.logToStderr(m);
    const watchDirs = flags.watch ?? [];
    if (watchDirs.length) {
      const { existsSync, statSync } = await import('node:fs');
      for (const d of watchDirs) if (!existsSync(d) || !statSync(d).isDirectory()) this.error(`--watch ${d}: no such directory`, { exit: 1 });
    }
    try {
      const { clusterNetworks } = await import('../../objects/cluster-networks.ts');
      clusterNetworks({ clusterCidr: flags['cluster-cidr'], serviceCidr: flags['service-cluster-ip-range'] });
    } catch (err) {
      const flag = (err as { range?: string }).range === 'service' ? '--service-cluster-ip-range' : '--cluster-cidr';
      this.error(`${flag}: ${(err as Error).message}`, { exit: 2 });
    }
    let etcdTls: ReturnType<typeof etcdTlsOf>;
    try {
      etcdTls = etcdTlsOf(flags.store, { caFile: flags['etcd-cafile'], certFile: flags['etcd-certfile'], keyFile: flags['etcd-keyfile'] });
    } catch (err) {
      this.error((err as Error).message, { exit: 2 });
    }
    let timings: ReturnType<typeof electionTimings>;
    try {
      timings = electionTimings(flags);
    } catch (err) {
      this.error((err as Error).message, { exit: 2 });
    }
    // Timings elect only where election runs: with --leader-elect, or by default on etcd.
    const elected = flags['leader-elect'] ?? isSharedStore(flags.store);
    const leaderElection = elected && timings ? timings : flags['leader-elect'];
    try {
      // Several servers on one etcd are one cluster: their machines carry its id, kept in the store.
      await adoptClusterIdentity(flags.store, dir, log, etcdTls);
    } catch (err) {
      this.error((err as Error).message, { exit: 1, suggestions: [ETCD_SUGGESTION] });
    }
    let selected: Awaited<ReturnType<typeof selectRuntime>>;
    try {
      const cap = Number(flags['real-load-cap']);
      if (!(cap > 0)) this.error(`--real-load-cap must be a number of cores above 0 (got ${JSON.stringify(flags['real-load-cap'])})`, { exit: 1 });
      selected = await selectRuntime(flags.runtime as RuntimeChoice, { clusterId: loadOrCreateClusterId(dir), log, ...(flags['real-load'] ? { realLoad: { capMilliCpu: Math.round(cap * 1000) } } : {}) });
    } catch (err) {
      this.error((err as Error).message, { exit: 1, suggestions: ['start dockerd, or use --runtime virtual'] });
    }
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    try {
      const timing = HEARTBEATS[selected.runtime?.kind ?? 'docker'];
      cp = await startControlPlane({
        stateDir: dir, store: flags.store, etcdTls, host: flags.host, port: flags.port, tls: flags.tls, runtime: selected.runtime, maxRestarts: flags['max-restarts'], log,
        leaderElection, clusterCidr: flags['cluster-cidr'], serviceClusterIpRange: flags['service-cluster-ip-range'],
        heartbeatMs: flags['heartbeat-ms'] ?? timing.heartbeatMs, nodeGraceMs: flags['node-grace-ms'] ?? timing.nodeGraceMs,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') this.error(`port ${flags.port} on ${flags.host} is in use`, { exit: 1, suggestions: ['pick another with --port, or --port 0 for any free port'] });
      if (e.name === 'StateLockedError') this.error(e.message, { exit: 1, suggestions: ['stop the other kcs up, or use another --state-dir'] });
      if (e.name === 'StoreError') this.error(e.message, { exit: 1, suggestions: [ETCD_SUGGESTION] });
      if (e.name === 'NetworksDisagreeError') this.error(e.message, { exit: 1 });
      throw err;
    }
    const dashboard = flags.dashboard ? await this.startDashboard(cp, flags.port, flags['dashboard-port'], log) : undefined;
    const configPath = clientConfigPath(flags.kubeconfig, flags['state-dir']);
    writeClientConfig(configPath, { server: cp.url, token: cp.adminToken, ca: cp.caPem, dashboard: dashboard?.url });
    this.log(`kcs control plane listening on ${cp.url}`);
    this.log(`state:         ${dir}`);
    if (flags.store) this.log(`store:         ${flags.store}${etcdTls ? ` over TLS (CA ${etcdTls.caFile}${etcdTls.certFile ? `, client certificate ${etcdTls.certFile}` : ''})` : ''}`);
    this.log(selected.note);
    if (selected.runtime) this.log(`heartbeats:    every ${cp.heartbeatMs} ms, a node failed after ${cp.nodeGraceMs} ms without one`);
    if (cp.leaderElector) this.log(`controllers:   elected as ${cp.leaderElector.identity}: ${cp.leaderElector.isLeader ? 'leading' : 'waiting for the leader\'s Lease to lapse'}`);
    this.log(`client config: ${configPath}`);
    this.log(`metrics:       ${cp.url}/metrics (token for Prometheus: ${cp.metricsTokenFile})`);
    if (cp.caPem) this.log(`kubectl:       kubectl --kubeconfig ${configPath} get nodes`);
    if (dashboard) {
      const { signedInUrl } = await import('../../dashboard/server.ts');
      this.log(`dashboard:     ${signedInUrl(dashboard.url, cp.adminToken)}`);
    }
    if (configPath !== clientConfigPath()) this.log(`other kcs commands find it with: export KCS_CONFIG=${configPath}`);
    const watchers = await this.startWatchers(watchDirs, cp, flags['resync-ms']);
    this.log('Press Ctrl-C to stop.');

    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        this.log(`\n${signal} received: shutting down`);
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    // A safety net, not the plan: everything below normally takes well under
    // a second, even under load. Writes already acknowledged are in the
    // store's log either way; a forced exit loses none of them.
    const forced = setTimeout(() => {
      this.logToStderr(`kcs up: shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms; exiting now`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    forced.unref();
    const stopping = Date.now();
    for (const w of watchers) await w.close();
    await dashboard?.close();
    await cp.close();
    // Virtual nodes end with this process; containers keep running for the next kcs up to adopt.
    await selected.runtime?.close();
    clearTimeout(forced);
    this.log(`stopped in ${Date.now() - stopping} ms`);
  }

  /** The dashboard, next to the API: on its port + 1 unless told otherwise, forwarding to it over TLS with the cluster CA. */
  private async startDashboard(cp: { url: string; caPem?: string; close(): Promise<void> }, apiPort: number, port: number | undefined, log: (m: string) => void) {
    const { startDashboardNear } = await import('../../dashboard/server.ts');
    const { port: listening } = new URL(cp.url);
    try {
      return await startDashboardNear({
        api: cp.url, ca: cp.caPem, log,
        port: port ?? (apiPort === 0 ? 0 : Number(listening) + 1), mayMove: port === undefined,
      });
    } catch (err) {
      await cp.close();
      this.error(`dashboard: ${(err as Error).message}`, { exit: 1, suggestions: ['pick another port with --dashboard-port, or --no-dashboard'] });
    }
  }

  /** One watcher per directory, in this process, writing through the registry as the controllers do. */
  private async startWatchers(dirs: string[], cp: { adminClient(): import('../../client/interface.ts').KcsClient }, resyncMs: number) {
    if (!dirs.length) return [];
    const { GitOpsSync, formatResult, summarize } = await import('../../gitops/sync.ts');
    const { DirectoryWatcher } = await import('../../gitops/watch.ts');
    const watchers = [];
    for (const dir of dirs) {
      const sync = new GitOpsSync({ client: cp.adminClient(), dir, log: (m) => this.logToStderr(`gitops ${dir}: ${m}`) });
      const watcher = new DirectoryWatcher({
        sync, resyncMs, log: (m) => this.logToStderr(`gitops ${dir}: ${m}`),
        onSynced: (report) => {
          const changed = report.results.filter((r) => r.outcome !== 'unchanged' && r.outcome !== 'failed');
          for (const r of changed) this.log(`gitops: ${formatResult(r, false)}`);
          if (changed.length) this.log(`gitops: synced ${sync.root}: ${summarize(report)} in ${Math.round(report.ms)} ms`);
        },
      });
      await watcher.start();
      this.log(`watching:      ${sync.root} (resync every ${resyncMs} ms)`);
      watchers.push(watcher);
    }
    return watchers;
  }
}
