import * as Args from '@oclif/core/args';
import { Command } from '@oclif/core/command';
import type { Shell } from '../completion.ts';

const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

export default class Completion extends Command {
  static override summary = 'Print a shell completion script for kcs (bash, zsh or fish).';
  static override description = 'Completes command names, flags, types and (asking the server, briefly) object names.';
  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    'source <(<%= config.bin %> completion zsh)',
    '<%= config.bin %> completion fish | source',
  ];
  static override args = { shell: Args.string({ required: true, options: [...SHELLS], description: 'bash, zsh or fish' }) };

  async run(): Promise<string> {
    const { args } = await this.parse(Completion);
    const { completionScript } = await import('../completion.ts');
    const script = completionScript(args.shell as Shell, this.config.bin);
    this.log(script);
    return script;
  }
}
