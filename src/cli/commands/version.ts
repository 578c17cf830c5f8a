import * as Flags from '@oclif/core/flags';
import { ClientError, ConnectionError } from '../../client/http.ts';
import { KCS_VERSION } from '../../version.ts';
import { ClientCommand, connectionFlags } from '../base.ts';

export default class Version extends ClientCommand {
  static override summary = 'Print the client and server versions.';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --client'];
  static override flags = { ...connectionFlags, client: Flags.boolean({ summary: 'Only the client version; do not contact the server.' }) };

  async run(): Promise<{ client: string; server?: unknown }> {
    const { flags } = await this.parse(Version);
    this.log(`Client Version: v${KCS_VERSION} (node ${process.version})`);
    if (flags.client) return { client: KCS_VERSION };
    try {
      const { body } = await this.client(flags).request<{ gitVersion: string; kcsVersion: string }>('GET', '/version');
      this.log(`Server Version: v${body.kcsVersion} (Kubernetes API ${body.gitVersion})`);
      return { client: KCS_VERSION, server: body };
    } catch (err) {
      if (err instanceof ConnectionError || err instanceof ClientError) {
        this.logToStderr(err.message);
        this.exit(1);
      }
      throw err;
    }
  }
}
