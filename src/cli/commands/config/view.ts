import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { clientConfigPath } from '../../../config.ts';

export default class ConfigView extends Command {
  static override summary = 'Print the client config (kubeconfig) kcs uses, as kubectl config view does.';
  static override description = 'The file is the one other kcs commands read: --kubeconfig, else $KCS_CONFIG, else <state dir>/kubeconfig. Tokens show as REDACTED and certificate data as DATA+OMITTED unless --raw.';
  static override examples = ['<%= config.bin %> config view', '<%= config.bin %> config view --minify --raw', '<%= config.bin %> config view -o json'];
  static override flags = {
    kubeconfig: Flags.string({ summary: 'Client config file (default $KCS_CONFIG or ~/.kcs/kubeconfig).' }),
    raw: Flags.boolean({ summary: 'Show tokens and certificate data as they are.' }),
    minify: Flags.boolean({ summary: 'Only the current context and the cluster and user it names.' }),
    output: Flags.string({ char: 'o', summary: 'Output format.', options: ['yaml', 'json'], default: 'yaml' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(ConfigView);
    const { readFileSync } = await import('node:fs');
    const { parse, stringify } = await import('yaml');
    const { viewKubeconfig, KubeconfigError } = await import('../../kubeconfig-view.ts');
    const path = clientConfigPath(flags.kubeconfig);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      this.error(`cannot read the client config ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? "no such file (run 'kcs up' to write it)" : (err as Error).message}`, { exit: 1 });
    }
    let view;
    try {
      // YAML reads the JSON kcs writes as well as any kubeconfig in YAML.
      view = viewKubeconfig(parse(text) ?? {}, { raw: flags.raw, minify: flags.minify });
    } catch (err) {
      if (err instanceof KubeconfigError) this.error(err.message, { exit: 1 });
      this.error(`${path}: ${(err as Error).message}`, { exit: 1 });
    }
    if (flags.output === 'json') this.log(JSON.stringify(view, null, 4));
    else this.log(stringify(view, { sortMapEntries: true }).trimEnd());
    return view;
  }
}
