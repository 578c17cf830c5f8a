// Network policies on real traffic: the one question the service proxy
// (and, through it, every Service connection) asks before handing a
// connection to a pod — may this address reach that pod on that port? —
// answered by the policies' own semantics (objects/network-policy.ts) over
// the controllers' informers. The caller's pod is found by its address;
// an address no pod has (the host, 127.0.0.1) is traffic from outside the
// cluster, which only ipBlock peers (or rules without peers) let in.
import type { Informer } from '../client/informer.ts';
import { decide, type NetworkPolicy, type Verdict } from '../objects/network-policy.ts';
import type { Namespace, Pod } from '../objects/types.ts';

const BY_IP = 'podIP';

export interface GateStats { allowed: number; denied: number }

export class NetworkPolicyGate {
  private readonly policies: Informer<NetworkPolicy>;
  private readonly namespaces: Informer<Namespace>;
  private readonly pods: Informer<Pod>;
  /** The world decide() reads, made again only when a policy or namespace changed (it caches by identity). */
  private world?: { policies: NetworkPolicy[]; namespaces: Namespace[] };
  readonly stats: GateStats = { allowed: 0, denied: 0 };

  constructor(opts: { policies: Informer<NetworkPolicy>; namespaces: Informer<Namespace>; pods: Informer<Pod> }) {
    this.policies = opts.policies;
    this.namespaces = opts.namespaces;
    this.pods = opts.pods;
    const stale = () => { this.world = undefined; };
    this.policies.on({ add: stale, update: stale, delete: stale });
    this.namespaces.on({ add: stale, update: stale, delete: stale });
  }

  /** Whether from may connect to the pod at to:port; undefined verdict means no policy exists at all (allowed). */
  check(fromIp: string, to: { ip: string; pod?: Pod }, port: number): { allowed: boolean; verdict?: Verdict } {
    // No policy anywhere: everything is allowed, and nothing is indexed (150,000 pods need no address book).
    if (this.policies.keys().length === 0) {
      this.stats.allowed++;
      return { allowed: true };
    }
    if (!this.pods.hasIndex(BY_IP)) this.pods.addIndex(BY_IP, (p) => (p.spec.nodeName ? p.status?.podIP : undefined));
    this.world ??= { policies: this.policies.list(), namespaces: this.namespaces.list() };
    const fromPod = this.pods.byIndex(BY_IP, fromIp)[0];
    const toPod = to.pod ?? this.pods.byIndex(BY_IP, to.ip)[0];
    const verdict = decide({
      from: { ip: fromIp, pod: fromPod, namespace: fromPod?.metadata.namespace },
      to: { ip: to.ip, pod: toPod, namespace: toPod?.metadata.namespace },
      port,
      protocol: 'TCP',
    }, this.world);
    if (verdict.allowed) this.stats.allowed++;
    else this.stats.denied++;
    return { allowed: verdict.allowed, verdict };
  }
}
