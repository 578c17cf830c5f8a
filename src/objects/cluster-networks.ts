// The two address ranges a cluster hands out, as kube-controller-manager's
// --cluster-cidr and kube-apiserver's --service-cluster-ip-range name them:
// node /24s for pods, and Service cluster IPs. Loopback only (127.0.0.0/8,
// where every address is local with no set-up), never 127.0.0.0/16, where
// the API server and the hosts themselves answer, and the two apart.
// Every cluster on one machine shares the loopback: two clusters running at
// once need ranges of their own, or their first pods and Services collide.
import { formatIpv4, ipv4Range, parseIpv4, type Ipv4Range } from './ip.ts';

export const DEFAULT_CLUSTER_CIDR = '127.64.0.0/10';
export const DEFAULT_SERVICE_CIDR = '127.32.0.0/16';

/** An IPv4 CIDR as numbers: its first address and its size. */
export interface Block { base: number; size: number; prefix: number }

const LOOPBACK: Block = { base: parseIpv4('127.0.0.0')!, size: 2 ** 24, prefix: 8 };
/** Where kcs listens (127.0.0.1) and where hosts name themselves (127.0.1.1): never handed out. */
const HOSTS: Block = { base: LOOPBACK.base, size: 2 ** 16, prefix: 16 };

/** The CIDR as numbers, or why it is not a usable one (as a sentence's end). */
function parseBlock(cidr: string, prefixes: { min: number; max: number }): Block | string {
  const [address, bits, extra] = cidr.split('/');
  const base = parseIpv4(address ?? '');
  const prefix = /^\d{1,2}$/.test(bits ?? '') ? Number(bits) : NaN;
  if (base === undefined || extra !== undefined || !Number.isInteger(prefix) || prefix > 32) return 'must be an IPv4 CIDR such as 127.64.0.0/10';
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return `has host bits set (the network is ${formatIpv4(base - (base % size))}/${prefix})`;
  if (prefix < prefixes.min || prefix > prefixes.max) return `must be a /${prefixes.min} to a /${prefixes.max}`;
  const block = { base, size, prefix };
  if (!within(block, LOOPBACK)) return 'must lie within 127.0.0.0/8: kcs networking is loopback only';
  if (overlaps(block, HOSTS)) return 'must not overlap 127.0.0.0/16, where the API server and the hosts answer';
  return block;
}

const within = (inner: Block, outer: Block) => inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
const overlaps = (a: Block, b: Block) => a.base < b.base + b.size && b.base < a.base + a.size;

/** The pod network: a range cut into one /24 per Node (spec.podCIDR), .1 to .254 of it for its pods. */
export class PodNetwork {
  readonly cidr: string;
  /** How many node /24s it holds. */
  readonly count: number;
  /** The range as numbers, for checking it against the service range. */
  readonly block: Block;

  constructor(cidr: string) {
    const block = parseBlock(cidr, { min: 9, max: 24 });
    if (typeof block === 'string') throw new NetworkRangeError('cluster', `the cluster CIDR ${JSON.stringify(cidr)} ${block}`);
    this.cidr = cidr;
    this.block = block;
    this.count = block.size / 256;
  }

  /** The index-th node /24: for 127.64.0.0/10, 0 → 127.64.0.0/24, 256 → 127.65.0.0/24. */
  cidrAt(index: number): string {
    return `${formatIpv4(this.block.base + index * 256)}/24`;
  }

  /** The index of a node /24 of this network, or undefined when it is not one. */
  indexOf(cidr: string): number | undefined {
    const m = /^(\S+)\/24$/.exec(cidr);
    const base = m ? parseIpv4(m[1]!) : undefined;
    if (base === undefined || base % 256 !== 0) return undefined;
    const index = (base - this.block.base) / 256;
    return index >= 0 && index < this.count ? index : undefined;
  }
}

/** A range the cluster cannot use, named in words a flag's error can carry. */
export class NetworkRangeError extends Error {
  override name = 'NetworkRangeError';
  /** Which range is at fault: the cluster CIDR (pods) or the service cluster IP range. */
  readonly range: 'cluster' | 'service';

  constructor(range: 'cluster' | 'service', message: string) {
    super(message);
    this.range = range;
  }
}

export interface ClusterNetworks {
  pods: PodNetwork;
  services: Ipv4Range;
}

/**
 * The cluster's ranges, checked: each usable, and the two apart. Throws a
 * NetworkRangeError naming the range at fault.
 */
export function clusterNetworks(opts: { clusterCidr?: string; serviceCidr?: string } = {}): ClusterNetworks {
  const podCidr = opts.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const pods = new PodNetwork(podCidr);
  // As kube-apiserver: no larger than a /12; and room for addresses besides the network and broadcast ones.
  const block = parseBlock(serviceCidr, { min: 12, max: 30 });
  if (typeof block === 'string') throw new NetworkRangeError('service', `the service cluster IP range ${JSON.stringify(serviceCidr)} ${block}`);
  if (overlaps(block, pods.block)) throw new NetworkRangeError('service', `the service cluster IP range ${serviceCidr} overlaps the cluster CIDR ${podCidr}`);
  return { pods, services: ipv4Range(serviceCidr) };
}

export const DEFAULT_NETWORKS: ClusterNetworks = clusterNetworks();
