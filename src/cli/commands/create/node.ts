import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { kindByName } from '../../../objects/kinds.ts';
import type { Node } from '../../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { parseLabelFlags } from '../../labels.ts';

export default class CreateNode extends ClientCommand {
  static override summary = 'Add a node: a simulated machine with the CPU cores (and memory) you give it.';
  static override examples = [
    '<%= config.bin %> create node node-1 --cpu 4',
    '<%= config.bin %> create node big --cpu 16 --memory 64Gi --label zone=a',
  ];
  static override args = { name: Args.string({ required: true, description: 'the node name (DNS-1123)' }) };
  static override flags = {
    ...connectionFlags,
    cpu: Flags.string({ required: true, summary: 'CPU cores the machine contributes, e.g. 4 or 1500m.' }),
    memory: Flags.string({ summary: 'Memory the machine contributes, e.g. 8Gi.' }),
    pods: Flags.integer({ summary: 'Most pods the node may hold (default 110).' }),
    label: Flags.string({ summary: 'A label key=value (repeatable).', multiple: true }),
  };

  async run(): Promise<Node> {
    const { args, flags } = await this.parse(CreateNode);
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: args.name, ...(flags.label ? { labels: parseLabelFlags(flags.label) } : {}) },
      spec: { capacity: { cpu: flags.cpu, ...(flags.memory ? { memory: flags.memory } : {}), ...(flags.pods ? { pods: String(flags.pods) } : {}) } },
    };
    const { body } = await this.client(flags).create<Node>(kindByName('Node')!, undefined, node);
    this.log(`node/${body.metadata.name} created`);
    return body;
  }
}
