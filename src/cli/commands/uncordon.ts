import * as Args from '@oclif/core/args';
import { ClientCommand, connectionFlags } from '../base.ts';
import { setUnschedulable } from './cordon.ts';

export default class Uncordon extends ClientCommand {
  static override summary = 'Mark a node schedulable again.';
  static override examples = ['<%= config.bin %> uncordon node-1'];
  static override args = { node: Args.string({ required: true, description: 'the node' }) };
  static override flags = { ...connectionFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Uncordon);
    await setUnschedulable(this, this.client(flags), args.node, false);
  }
}
