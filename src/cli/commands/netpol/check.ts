import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { kindByName } from '../../../objects/kinds.ts';
import { decide, type Endpoint, type Protocol } from '../../../objects/network-policy.ts';
import type { Pod } from '../../../objects/types.ts';
import type { Client } from '../../../client/http.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { namespaceFlag, outputFlag } from '../../flags.ts';
import { describeEndpoint, podEndpoint, PROTOCOLS, readWorld } from '../../netpol-world.ts';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const POD_KINDS = new Set(['pod', 'pods', 'po']);

export default class NetpolCheck extends ClientCommand {
  static override summary = 'Say whether NetworkPolicies let one pod connect to another on a port, and which policy and rule decided each side.';
  static override description = 'A connection needs both sides: the egress of FROM (what the policies selecting it for Egress allow) and the ingress of TO (what those selecting it for Ingress allow). '
    + 'A side no policy selects is not isolated and lets everything through. Named ports are looked up in the destination pod\'s containers[].ports. '
    + 'An ipBlock matches a pod by its status.podIP: a pod without one matches no ipBlock. '
    + 'FROM or TO may also be an IPv4 address, for traffic that is no pod\'s (the host): only the pod end restricts it.\n\n'
    + 'Prints allowed or denied, then each side. The exit status is 0 when allowed and 1 when denied, as kubectl auth can-i answers, so scripts can test it.';
  static override examples = [
    '<%= config.bin %> netpol check pod/client pod/web --port 80',
    '<%= config.bin %> netpol check -n frontend client backend/api --port 8080',
    '<%= config.bin %> netpol check client pod/api --to-namespace backend --port 53 --protocol UDP',
    '<%= config.bin %> netpol check 127.0.0.1 pod/web --port 80',
  ];
  static override args = {
    from: Args.string({ required: true, description: 'the source: pod/NAME, NAME, NAMESPACE/NAME, or an IPv4 address' }),
    to: Args.string({ required: true, description: 'the destination: pod/NAME, NAME, NAMESPACE/NAME, or an IPv4 address' }),
  };
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    'to-namespace': Flags.string({ summary: 'Namespace of the destination pod (default: the source\'s, -n).' }),
    port: Flags.integer({ summary: 'Destination port.', required: true, min: 1, max: 65535 }),
    protocol: Flags.string({ summary: 'Protocol.', options: PROTOCOLS, default: 'TCP' }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NetpolCheck);
    if (flags.output !== undefined && flags.output !== 'json') this.error('netpol check prints text, or -o json', { exit: 2 });
    const client = this.client(flags);
    const namespace = flags.namespace ?? 'default';
    const [from, to, world] = await Promise.all([
      this.endpoint(client, args.from, namespace),
      this.endpoint(client, args.to, flags['to-namespace'] ?? namespace),
      readWorld(client),
    ]);
    const protocol = flags.protocol as Protocol;
    const verdict = decide({ from, to, port: flags.port, protocol }, world);
    if (flags.output === 'json') {
      const side = (e: Endpoint) => ({ ip: e.ip, ...(e.pod ? { pod: e.pod.metadata.name, namespace: e.namespace } : {}) });
      this.log(JSON.stringify({ allowed: verdict.allowed, from: side(from), to: side(to), port: flags.port, protocol, egress: verdict.egress, ingress: verdict.ingress }, null, 2));
    } else {
      this.log(verdict.allowed ? 'allowed' : 'denied');
      this.log(`  from:    ${describeEndpoint(from)}`);
      this.log(`  to:      ${describeEndpoint(to)} port ${flags.port}/${protocol}`);
      this.log(`  egress:  ${verdict.egress.reason}`);
      this.log(`  ingress: ${verdict.ingress.reason}`);
    }
    if (!verdict.allowed) this.exit(1);
  }

  /** A pod by `pod/NAME`, `NAME` or `NAMESPACE/NAME`, or an address that is no pod's. */
  private async endpoint(client: Client, arg: string, namespace: string): Promise<Endpoint> {
    if (IPV4.test(arg)) return { ip: arg };
    const parts = arg.split('/');
    if (parts.length > 2 || parts.some((p) => p === '')) this.error(`${arg}: expected pod/NAME, NAME, NAMESPACE/NAME or an IPv4 address`, { exit: 2 });
    const [ns, name] = parts.length === 1 ? [namespace, parts[0]!] : POD_KINDS.has(parts[0]!) ? [namespace, parts[1]!] : [parts[0]!, parts[1]!];
    return podEndpoint(await client.get<Pod>(kindByName('Pod')!, ns, name));
  }
}
