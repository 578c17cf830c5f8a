// Pod addresses, loopback only: every Node gets a /24 of 127.64.0.0/10 as
// its spec.podCIDR (16,384 of them), and each pod on it an address of that
// /24 (.1 to .254) as its status.podIP. All of 127.0.0.0/8 is local on
// Linux with no set-up, so a listener can bind a pod's address and a client
// can connect from another: no bridges, no other private ranges.

/** The range node /24s are carved from. */
export const POD_NETWORK = '127.64.0.0/10';
export const POD_CIDR_COUNT = 1 << 14;
/** Pod addresses per node: the /24 without its network and broadcast addresses. */
export const POD_ADDRESSES_PER_NODE = 254;

/** The index-th /24 of the pod network: 0 → 127.64.0.0/24, 256 → 127.65.0.0/24. */
export function podCidrAt(index: number): string {
  return `127.${64 + (index >> 8)}.${index & 255}.0/24`;
}

/** The index of a node /24 inside the pod network, or undefined if it is not one. */
export function podCidrIndex(cidr: string): number | undefined {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
  if (!m) return undefined;
  const second = Number(m[1]);
  const third = Number(m[2]);
  if (second < 64 || second > 127 || third > 255) return undefined;
  return ((second - 64) << 8) | third;
}

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
