import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';
import { ExplainError, explain, type OpenApiV3Document } from '../printers/explain.ts';
import { resolveKind } from '../resolve-kind.ts';

interface OpenApiV3Index { paths: Record<string, { serverRelativeURL: string }> }

export default class Explain extends ClientCommand {
  static override summary = 'Describe the fields of a kind, from the schema the server publishes.';
  static override description = 'As kubectl explain: KIND[.FIELD...] names a kind and a path in it; each field is listed with its type and description. The schema is the server\'s /openapi/v3, Kubernetes\' own definitions with kcs\'s fields added.';
  static override examples = [
    '<%= config.bin %> explain pods',
    '<%= config.bin %> explain pods.spec.containers',
    '<%= config.bin %> explain node.spec.capacity',
    '<%= config.bin %> explain pods --recursive',
  ];
  static override args = { path: Args.string({ required: true, description: 'KIND or KIND.field.path (pods, pods.spec.containers).' }) };
  static override flags = {
    ...connectionFlags,
    recursive: Flags.boolean({ summary: 'Print the fields of the fields, all the way down, without descriptions.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Explain);
    const [alias, ...fields] = args.path.split('.');
    const kind = resolveKind(alias!);
    const client = this.client(flags);
    const index = (await client.request<OpenApiV3Index>('GET', '/openapi/v3')).body;
    const key = kind.group ? `apis/${kind.group}/${kind.version}` : `api/${kind.version}`;
    const entry = index.paths[key];
    if (!entry) this.error(`the server publishes no schema for ${kind.apiVersion}`, { exit: 1 });
    const doc = (await client.request<OpenApiV3Document>('GET', entry.serverRelativeURL)).body;
    try {
      this.log(explain(doc, { group: kind.group, version: kind.version, kind: kind.kind }, fields, flags.recursive));
    } catch (err) {
      if (err instanceof ExplainError) this.error(err.message, { exit: 1 });
      throw err;
    }
  }
}
