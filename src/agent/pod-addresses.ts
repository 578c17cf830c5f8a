// Which address of its node's /24 each pod on the node has: the lowest
// free one when a pod arrives, kept while it stays, free again when it
// leaves. A restarted agent adopts the addresses its pods already report,
// so a pod keeps its address for as long as it is on the node.
import { hostIn, POD_ADDRESSES_PER_NODE, podIpIn } from '../objects/pod-network.ts';
import type { Pod } from '../objects/types.ts';

export class PodAddresses {
  private cidr?: string;
  private readonly byUid = new Map<string, number>();
  private readonly taken = new Set<number>();

  /** The node's range (spec.podCIDR); without one, pods get no address. */
  setRange(cidr: string | undefined): void {
    if (cidr === this.cidr) return;
    this.cidr = cidr;
    this.byUid.clear();
    this.taken.clear();
  }

  /** The pod's address: the one it has (if it is this node's and free), else the lowest free one. */
  addressOf(pod: Pod): string | undefined {
    const uid = pod.metadata.uid;
    if (!this.cidr || !uid) return undefined;
    let host = this.byUid.get(uid);
    if (host === undefined) {
      const reported = typeof pod.status?.podIP === 'string' ? hostIn(this.cidr, pod.status.podIP) : undefined;
      host = reported !== undefined && !this.taken.has(reported) ? reported : this.lowestFree();
      if (host === undefined) return undefined; // a full /24: the pod runs without an address
      this.byUid.set(uid, host);
      this.taken.add(host);
    }
    return podIpIn(this.cidr, host);
  }

  release(uid: string | undefined): void {
    const host = uid === undefined ? undefined : this.byUid.get(uid);
    if (host === undefined) return;
    this.byUid.delete(uid!);
    this.taken.delete(host);
  }

  private lowestFree(): number | undefined {
    for (let h = 1; h <= POD_ADDRESSES_PER_NODE; h++) if (!this.taken.has(h)) return h;
    return undefined;
  }
}
