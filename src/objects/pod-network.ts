// Pod addresses, loopback only: every Node gets a /24 of the cluster CIDR
// (127.64.0.0/10 unless told otherwise: 16,384 of them; see
// cluster-networks.ts) as its spec.podCIDR, and each pod on it an address
// of that /24 (.1 to .254) as its status.podIP. All of 127.0.0.0/8 is local on
// Linux with no set-up, so a listener can bind a pod's address and a client
// can connect from another: no bridges, no other private ranges.

/** Pod addresses per node: the /24 without its network and broadcast addresses. */
export const POD_ADDRESSES_PER_NODE = 254;

/** The host-th address (1..254) of a node /24. */
export function podIpIn(cidr: string, host: number): string {
  return `${cidr.slice(0, cidr.lastIndexOf('.'))}.${host}`;
}

/** The host number of ip inside cidr (1..254), or undefined if it is not one of its pod addresses. */
export function hostIn(cidr: string, ip: string): number | undefined {
  const prefix = cidr.slice(0, cidr.lastIndexOf('.') + 1);
  if (!ip.startsWith(prefix)) return undefined;
  const host = Number(ip.slice(prefix.length));
  return Number.isInteger(host) && host >= 1 && host <= POD_ADDRESSES_PER_NODE ? host : undefined;
}
