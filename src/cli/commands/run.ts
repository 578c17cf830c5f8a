import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_NAMESPACE, kindByName } from '../../objects/kinds.ts';
import type { Pod } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag } from '../flags.ts';
import { parseLabelFlags } from '../labels.ts';

export default class Run extends ClientCommand {
  static override summary = 'Launch a pod that requests the CPU (and memory) you give it.';
  static override examples = [
    '<%= config.bin %> run web --cpu 2',
    '<%= config.bin %> run db --cpu 500m --memory 1Gi --label app=db',
  ];
  static override args = { name: Args.string({ required: true, description: 'the pod name (DNS-1123)' }) };
  static override flags = {
    ...connectionFlags,
    cpu: Flags.string({ required: true, summary: 'CPU the pod requests, e.g. 2 or 500m.' }),
    memory: Flags.string({ summary: 'Memory the pod requests, e.g. 256Mi.' }),
    image: Flags.string({ summary: 'Container image, recorded but not run (pods are simulated).', default: 'kcs/simulated' }),
    label: Flags.string({ summary: 'A label key=value (repeatable); default run=NAME.', multiple: true }),
    namespace: namespaceFlag,
  };

  async run(): Promise<Pod> {
    const { args, flags } = await this.parse(Run);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: args.name, labels: flags.label ? parseLabelFlags(flags.label) : { run: args.name } },
      spec: {
        containers: [{
          name: args.name.replace(/\./g, '-').slice(0, 63),
          image: flags.image,
          resources: { requests: { cpu: flags.cpu, ...(flags.memory ? { memory: flags.memory } : {}) } },
        }],
      },
    };
    const { body } = await this.client(flags).create<Pod>(kindByName('Pod')!, flags.namespace ?? DEFAULT_NAMESPACE, pod);
    this.log(`pod/${body.metadata.name} created`);
    return body;
  }
}
