import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { clientConfigPath } from '../../../config.ts';

export default class ConfigCurrentContext extends Command {
  static override summary = 'Print the current context of the client config, as kubectl config current-context does.';
  static override flags = {
    kubeconfig: Flags.string({ summary: 'Client config file (default $KCS_CONFIG or ~/.kcs/kubeconfig).' }),
  };

  async run(): Promise<string> {
    const { flags } = await this.parse(ConfigCurrentContext);
    const { readFileSync } = await import('node:fs');
    const path = clientConfigPath(flags.kubeconfig);
    let current: string | undefined;
    try {
      const { parse } = await import('yaml');
      current = (parse(readFileSync(path, 'utf8')) as { 'current-context'?: string } | null)?.['current-context'];
    } catch (err) {
      this.error(`cannot read the client config ${path}: ${(err as Error).message}`, { exit: 1 });
    }
    if (!current) this.error('current-context is not set', { exit: 1 });
    this.log(current);
    return current;
  }
}
