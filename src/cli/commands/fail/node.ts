import * as Args from '@oclif/core/args';
import { kindByName } from '../../../objects/kinds.ts';
import { FAIL_NODE } from '../../../objects/node-failure.ts';
import type { Node } from '../../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { seconds, waitFlags, waitForObject } from '../../waiting.ts';

export default class FailNode extends ClientCommand {
  static override summary = "Fail a node on purpose: its machine is killed (docker kill, or a virtual node's agent stopped dead), as in a crash.";
  static override description = `An API request (the Node annotation ${FAIL_NODE}) that the node controller carries out, so it works wherever the cluster runs. `
    + 'Then the failure takes its ordinary course: heartbeats stop, the node is declared failed after its grace, its pods move, and its machine is restarted.';
  static override examples = ['<%= config.bin %> fail node node-2', '<%= config.bin %> fail node node-2 --wait=false'];
  static override args = { node: Args.string({ required: true, description: 'the node' }) };
  static override flags = {
    ...connectionFlags,
    ...waitFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FailNode);
    const client = this.client(flags);
    const NODE = kindByName('Node')!;
    const started = Date.now();
    const { body } = await client.patch<Node>(NODE, undefined, args.node, { metadata: { annotations: { [FAIL_NODE]: new Date().toISOString() } } });
    this.log(`node/${args.node} failure requested`);
    if (!flags.wait) return;
    const { isNodeReady } = await import('../../../objects/conditions.ts');
    const outcome = await waitForObject(client, NODE, undefined, body, flags.timeout, (n) => (isNodeReady(n as Node) ? undefined : true));
    if (outcome.kind === 'done') this.log(`node/${args.node} declared failed after ${seconds(Date.now() - started)}`);
    else if (outcome.kind === 'deleted') this.error(`node/${args.node} was deleted`, { exit: 1 });
    else this.error(`node/${args.node} still Ready after ${seconds(flags.timeout)}`, { exit: 1 });
  }
}
