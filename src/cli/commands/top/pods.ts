import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_NAMESPACE } from '../../../objects/kinds.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { namespaceFlag, selectorFlag } from '../../flags.ts';
import { renderTable } from '../../printers/table.ts';
import { podTable, type PodMetrics } from '../../top.ts';
import { topFlags, untilInterrupted } from '../../top-flags.ts';

export default class TopPods extends ClientCommand {
  static override summary = 'Show the CPU and memory pods use now, as their nodes\' agents report it (metrics.k8s.io, as kubectl top pods).';
  static override description = 'Each container uses what its pod\'s kcs.io/usage annotation says over time (by default half of its request). '
    + 'Pods not running on a node that reports are not listed.';
  static override aliases = ['top:pod'];
  static override examples = ['<%= config.bin %> top pods', '<%= config.bin %> top pods -A --sort-by=memory', '<%= config.bin %> top pods -l app=web --containers', '<%= config.bin %> top pods --watch'];
  static override args = { name: Args.string({ description: 'show only this pod' }) };
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    'all-namespaces': Flags.boolean({ char: 'A', summary: 'Pods of every namespace.' }),
    selector: selectorFlag,
    containers: Flags.boolean({ summary: 'One row per container.' }),
    ...topFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TopPods);
    const client = this.client(flags);
    const all = flags['all-namespaces'] && !args.name;
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const base = all ? '/apis/metrics.k8s.io/v1beta1/pods' : `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const draw = async () => {
      const metrics = args.name
        ? [(await client.request<PodMetrics>('GET', `${base}/${encodeURIComponent(args.name)}`)).body]
        : (await client.request<{ items: PodMetrics[] }>('GET', base + (flags.selector ? `?labelSelector=${encodeURIComponent(flags.selector)}` : ''))).body.items;
      if (!metrics.length) return all ? 'No resources found' : `No resources found in ${namespace} namespace.`;
      const { headers, rows } = podTable(metrics, { sortBy: flags['sort-by'] as 'cpu' | 'memory' | undefined, allNamespaces: all, containers: flags.containers });
      return renderTable(headers, rows, { noHeaders: flags['no-headers'] });
    };
    if (!flags.watch) return this.log(await draw());
    await untilInterrupted(flags.interval, draw, (text) => this.log(text));
  }
}
