import * as Args from '@oclif/core/args';
import { kindByName } from '../../../objects/kinds.ts';
import type { Node } from '../../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { selectorFlag } from '../../flags.ts';
import { renderTable } from '../../printers/table.ts';
import { nodeTable, type NodeMetrics, type UsageHistory } from '../../top.ts';
import { topFlags, untilInterrupted } from '../../top-flags.ts';

export default class TopNodes extends ClientCommand {
  static override summary = 'Show the CPU and memory nodes use now, as their agents report it (metrics.k8s.io, as kubectl top nodes).';
  static override description = "A node's usage is the sum of what its pods use (their kcs.io/usage profiles), or, for a node started with real load, what its container's cgroup measured. "
    + 'Percentages are of the node\'s capacity. With --watch the table is redrawn every interval, with each node\'s CPU over the last minutes.';
  static override aliases = ['top:node'];
  static override examples = ['<%= config.bin %> top nodes', '<%= config.bin %> top nodes --sort-by=cpu -l pool=small', '<%= config.bin %> top nodes --watch'];
  static override args = { name: Args.string({ description: 'show only this node' }) };
  static override flags = {
    ...connectionFlags,
    selector: selectorFlag,
    ...topFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TopNodes);
    const client = this.client(flags);
    const NODE = kindByName('Node')!;
    const selector = flags.selector ? `?labelSelector=${encodeURIComponent(flags.selector)}` : '';
    const draw = async () => {
      const nodes = args.name ? [await client.get<Node>(NODE, undefined, args.name)] : (await client.list<Node>(NODE, undefined, { labelSelector: flags.selector })).items;
      const metrics = args.name
        ? [(await client.request<NodeMetrics>('GET', `/apis/metrics.k8s.io/v1beta1/nodes/${encodeURIComponent(args.name)}`)).body]
        : (await client.request<{ items: NodeMetrics[] }>('GET', `/apis/metrics.k8s.io/v1beta1/nodes${selector}`)).body.items;
      const history = flags.watch ? (await client.request<{ items: UsageHistory[] }>('GET', `/apis/kcs.io/v1/nodeusagehistories${selector}`)).body.items : undefined;
      if (!metrics.length && !nodes.length) return 'No resources found';
      const { headers, rows } = nodeTable(nodes, metrics, { sortBy: flags['sort-by'] as 'cpu' | 'memory' | undefined, history });
      return renderTable(headers, rows, { noHeaders: flags['no-headers'] });
    };
    if (!flags.watch) return this.log(await draw());
    await untilInterrupted(flags.interval, draw, (text) => this.log(text));
  }
}
