import * as Flags from '@oclif/core/flags';
import { decide, type Protocol } from '../../../objects/network-policy.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { namespaceFlag } from '../../flags.ts';
import { podEndpoint, PROTOCOLS, readPods, readWorld } from '../../netpol-world.ts';
import { renderTable } from '../../printers/table.ts';

export default class NetpolMatrix extends ClientCommand {
  static override summary = 'Print which pods may connect to which on a port under the NetworkPolicies: a truth table, rows from, columns to.';
  static override description = 'As Kubernetes\' network policy conformance tests print reachability: "." where the row\'s pod may connect to the column\'s pod '
    + '(its egress and the other\'s ingress both allow it), "X" where a policy blocks it. A pod without a status.podIP matches no ipBlock.';
  static override examples = ['<%= config.bin %> netpol matrix -n shop', '<%= config.bin %> netpol matrix -A --port 53 --protocol UDP'];
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    'all-namespaces': Flags.boolean({ char: 'A', summary: 'Pods of every namespace (named NAMESPACE/NAME).' }),
    port: Flags.integer({ summary: 'Destination port.', default: 80, min: 1, max: 65535 }),
    protocol: Flags.string({ summary: 'Protocol.', options: PROTOCOLS, default: 'TCP' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NetpolMatrix);
    const client = this.client(flags);
    const all = flags['all-namespaces'];
    const namespace = flags.namespace ?? 'default';
    const [pods, world] = await Promise.all([readPods(client, all ? undefined : namespace), readWorld(client)]);
    if (pods.length === 0) return this.log(all ? 'No pods found' : `No pods found in ${namespace} namespace.`);
    const protocol = flags.protocol as Protocol;
    const endpoints = pods.map(podEndpoint);
    const names = pods.map((p) => (all ? `${p.metadata.namespace}/${p.metadata.name}` : p.metadata.name ?? ''));
    const rows = endpoints.map((from, i) => [names[i]!, ...endpoints.map((to) => (decide({ from, to, port: flags.port, protocol }, world).allowed ? '.' : 'X'))]);
    this.log(renderTable(['-', ...names], rows));
    this.log('');
    this.log(`port ${flags.port}/${protocol}; rows from, columns to; . reachable, X blocked`);
  }
}
