import * as Args from '@oclif/core/args';
import { kindByName } from '../../objects/kinds.ts';
import { ClientCommand, connectionFlags } from '../base.ts';

export default class Cordon extends ClientCommand {
  static override summary = 'Mark a node unschedulable: the scheduler places no new pods on it.';
  static override examples = ['<%= config.bin %> cordon node-1'];
  static override args = { node: Args.string({ required: true, description: 'the node' }) };
  static override flags = { ...connectionFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Cordon);
    await setUnschedulable(this, this.client(flags), args.node, true);
  }
}

export async function setUnschedulable(cmd: { log(s: string): void }, client: ReturnType<ClientCommand['client']>, node: string, value: boolean): Promise<void> {
  const { body } = await client.patch(kindByName('Node')!, undefined, node, { spec: { unschedulable: value || null } });
  cmd.log(`node/${body.metadata.name} ${value ? 'cordoned' : 'uncordoned'}`);
}
