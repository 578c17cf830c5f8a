import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';
import { RUNTIME_CHOICES, type RuntimeChoice } from '../../runtime/select.ts';
import { electionTimings, leaderElectionFlags } from '../leader-election-flags.ts';

export default class Controllers extends ClientCommand {
  static override summary = 'Run the controllers as their own process, against a running API server.';
  static override description = 'Uses the client config (or --server/--token) with an admin token, and asks the server for each node agent\'s token. Run the API with `kcs up --runtime none` so only one set of controllers acts; with --leader-elect, several may stand by and the one holding the Lease acts. Ctrl-C stops it; containers keep running for the next start to adopt.';
  static override examples = [
    '<%= config.bin %> up --runtime none      # in one terminal',
    '<%= config.bin %> controllers --runtime docker',
  ];
  static override flags = {
    ...connectionFlags,
    runtime: Flags.string({ summary: 'What runs the nodes.', options: RUNTIME_CHOICES.filter((c) => c !== 'none'), default: 'auto' }),
    'heartbeat-ms': Flags.integer({ summary: 'How often node agents renew their heartbeat Lease.', default: 1000, min: 100 }),
    'node-grace-ms': Flags.integer({ summary: 'How long a node may miss heartbeats before it is declared failed and its pods moved (default 3000).', min: 200 }),
    'max-restarts': Flags.integer({ summary: 'Restarts of a failing pod on one node before it is moved to another (pods may set kcs.io/max-restarts).', default: 3, min: 1 }),
    // Off by default: a restarted process would otherwise wait out the Lease of the one it replaces.
    ...leaderElectionFlags,
    'leader-elect': Flags.boolean({ summary: 'Run the controllers only while this process holds their Lease in kube-system, so several may stand by; after a crash the next takes over once the Lease lapses (4 s).', default: false, allowNo: true }),
    'cluster-id': Flags.string({ summary: 'Labels this cluster\'s containers on a shared Docker daemon (default: the one the server publishes in /version).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Controllers);
    let timings: ReturnType<typeof electionTimings>;
    try {
      timings = electionTimings(flags);
    } catch (err) {
      this.error((err as Error).message, { exit: 2 });
    }
    const client = this.client(flags);
    const { selectRuntime } = await import('../../runtime/select.ts');
    const { startControllers } = await import('../../controllers/manager.ts');
    const { runWhileLeading } = await import('../../controllers/leader-election.ts');
    const log = (m: string) => this.logToStderr(m);
    // The server's own id: the same containers kcs up would manage, never another cluster's.
    const clusterId = flags['cluster-id'] ?? (await client.request<{ clusterId?: string }>('GET', '/version')).body.clusterId;
    if (!clusterId) this.error('the server does not publish a cluster id; pass --cluster-id', { exit: 1 });
    const { runtime, note } = await selectRuntime(flags.runtime as RuntimeChoice, { clusterId, log, virtualTransport: 'http' });
    const start = () => startControllers({
      client, runtime: runtime!, server: client.server, ca: client.ca, heartbeatMs: flags['heartbeat-ms'], nodeGraceMs: flags['node-grace-ms'], maxRestarts: flags['max-restarts'], log,
      tokenFor: async (name) => (await client.request<{ status: { token: string } }>('POST', `/api/v1/nodes/${encodeURIComponent(name)}/token`, {})).body.status.token,
    });
    // Elected, the controllers run only while this process holds the Lease; stopping releases it.
    const controllers = flags['leader-elect'] ? await runWhileLeading(start, { client, log, ...timings }) : await start();
    this.log(`kcs controllers running against ${client.server}${'elector' in controllers ? ` (elected as ${controllers.elector.identity}: ${controllers.elector.isLeader ? 'leading' : 'standing by'})` : ''}`);
    this.log(note);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await controllers.stop();
    await runtime!.close();
    this.log('stopped');
  }
}
