// Node IPAM at admission: a Node created without spec.podCIDR gets the
// first free /24 of the pod network (objects/cluster-networks.ts); one asked for
// must be a free /24 of it. The set of taken /24s lives here, filled from
// the store once and kept with every create and delete, and is read and
// changed only in the synchronous stretch just before the write (see
// Registry.checkNamespaces), so two Nodes created at once never get one
// /24. Kubernetes' node IPAM controller allocates after creation; kcs does
// it before, so an agent never waits for its range.
import type { Node } from '../objects/types.ts';
import { DEFAULT_NETWORKS, type PodNetwork } from '../objects/cluster-networks.ts';
import { errors } from './errors.ts';

export class PodCidrs {
  private readonly network: PodNetwork;
  private readonly taken = new Set<number>();
  /** Where the search for a free one starts: the lowest that may be free. */
  private next = 0;

  constructor(network: PodNetwork = DEFAULT_NETWORKS.pods) {
    this.network = network;
  }

  /** What the store holds now, forgetting what was known before (another API server's deletes too). */
  reset(nodes: Node[]): void {
    this.taken.clear();
    this.next = 0;
    this.load(nodes);
  }

  /** What the store holds already. */
  load(nodes: Node[]): void {
    for (const n of nodes) {
      const i = n.spec?.podCIDR === undefined ? undefined : this.network.indexOf(String(n.spec.podCIDR));
      if (i !== undefined) this.taken.add(i);
    }
  }

  /** Gives the Node its /24 (or checks the one it asks for) and takes it; release() gives it back if the write fails. */
  assign(node: Node): void {
    const asked = node.spec.podCIDR;
    if (asked !== undefined) {
      const i = this.network.indexOf(String(asked));
      const field = 'spec.podCIDR';
      if (i === undefined) throw errors.invalid('Node', node.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(asked)}: must be a /24 of the pod network ${this.network.cidr} (kcs uses loopback addresses only)` }]);
      if (this.taken.has(i)) throw podCidrTaken(node);
      this.taken.add(i);
    } else {
      while (this.next < this.network.count && this.taken.has(this.next)) this.next++;
      if (this.next >= this.network.count) throw errors.invalid('Node', node.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.podCIDR', message: `the pod network ${this.network.cidr} has no free /24 left` }]);
      this.taken.add(this.next);
      node.spec.podCIDR = this.network.cidrAt(this.next);
    }
    node.spec.podCIDRs = [node.spec.podCIDR as string];
  }

  release(cidr: unknown): void {
    const i = typeof cidr === 'string' ? this.network.indexOf(cidr) : undefined;
    if (i === undefined) return;
    this.taken.delete(i);
    this.next = Math.min(this.next, i);
  }
}

/** The 422 for a Node asking for a /24 another Node holds. */
export function podCidrTaken(node: Node): Error {
  return errors.invalid('Node', node.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.podCIDR', message: `Invalid value: ${JSON.stringify(node.spec.podCIDR)}: already allocated to another node` }]);
}
