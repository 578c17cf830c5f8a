import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';

/** kubectl proxy's port: the usual place for a local window onto a cluster. */
const DEFAULT_SERVE_PORT = 8001;

export default class Dashboard extends ClientCommand {
  static override summary = 'Print the address that opens the web dashboard signed in, or serve the dashboard here for a cluster elsewhere.';
  static override description = 'With a kcs up on this machine, prints the dashboard it serves. Otherwise (or with --serve) serves the dashboard from this process on loopback, '
    + 'forwarding the page\'s API calls to the cluster over TLS with the kubeconfig\'s CA (as kubectl proxy does), until Ctrl-C. '
    + 'The token is in the address\'s fragment (#token=...), which a browser never sends to a server.';
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --serve --port 8001 --server https://10.0.0.5:8080'];
  static override flags = {
    ...connectionFlags,
    serve: Flags.boolean({ summary: 'Serve the dashboard from this process even when the cluster serves one.' }),
    port: Flags.integer({ summary: `With --serve (or no dashboard to print): the port to serve on (0 picks a free one; default ${DEFAULT_SERVE_PORT}, or a free one when that is taken).`, min: 0, max: 65535 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Dashboard);
    const config = this.clientConfig(flags);
    const { signedInUrl, startDashboardNear } = await import('../../dashboard/server.ts');
    if (!flags.serve && config.dashboard && await answers(config.dashboard)) {
      this.log(`dashboard: ${signedInUrl(config.dashboard, config.token)}`);
      return;
    }
    if (!config.token) this.logToStderr('no token in the client config: the page will ask for one');
    // Given several API servers, the page's calls go to the first (the forwarder follows one).
    const api = config.server.split(',')[0]!.trim();
    const dashboard = await startDashboardNear({
      api, ca: config.ca, insecureSkipTlsVerify: config.insecureSkipTlsVerify,
      port: flags.port ?? DEFAULT_SERVE_PORT, mayMove: flags.port === undefined, log: (m) => this.logToStderr(m),
    });
    this.log(`dashboard: ${signedInUrl(dashboard.url, config.token)}`);
    this.log(`forwarding the page's API calls to ${api}. Press Ctrl-C to stop.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await dashboard.close();
  }
}

/** Whether a dashboard listens at url (its health page answers within a second). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}
