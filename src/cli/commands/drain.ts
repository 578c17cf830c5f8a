import * as Args from '@oclif/core/args';
import { kindByName } from '../../objects/kinds.ts';
import type { Pod } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { setUnschedulable } from './cordon.ts';

export default class Drain extends ClientCommand {
  static override summary = 'Cordon a node and move its pods: each goes back to Pending and the scheduler places it elsewhere.';
  static override description = 'kcs pods are not owned by a controller that would recreate them, so instead of evicting (deleting) them as kubectl drain does, drain unbinds them; they keep their names and uids.';
  static override examples = ['<%= config.bin %> drain node-1'];
  static override args = { node: Args.string({ required: true, description: 'the node' }) };
  static override flags = { ...connectionFlags };

  async run(): Promise<string[]> {
    const { args, flags } = await this.parse(Drain);
    const client = this.client(flags);
    await setUnschedulable(this, client, args.node, true);
    const POD = kindByName('Pod')!;
    const pods = await client.list<Pod>(POD, undefined, { fieldSelector: `spec.nodeName=${args.node}` });
    const moved: string[] = [];
    const { unbindPod } = await import('../../client/unbind.ts');
    for (const pod of pods.items) {
      if (!(await unbindPod(client, pod, `${args.node} was drained`))) continue; // finished, or moved meanwhile
      moved.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
      this.log(`pod/${pod.metadata.name} unbound from ${args.node}`);
    }
    this.log(`node/${args.node} drained`);
    return moved;
  }
}
