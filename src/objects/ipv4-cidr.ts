// IPv4 CIDR blocks of any prefix length (0-32), as NetworkPolicy ipBlocks
// name them: parsed once into a base and a mask, then tested by arithmetic.
import { parseIpv4 } from './ip.ts';

export interface Ipv4Cidr {
  /** As written: 127.64.0.0/24. */
  text: string;
  /** The network address (host bits cleared) and the prefix length. */
  base: number;
  bits: number;
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * The block, or undefined when the text is not `a.b.c.d/n` with a canonical
 * address and n in 0..32. Host bits are allowed and cleared, as Kubernetes
 * accepts them (with a warning) in an ipBlock.
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = /^([^/]+)\/(0|[1-9]\d?)$/.exec(text);
  if (!m) return undefined;
  const ip = parseIpv4(m[1]!);
  const bits = Number(m[2]);
  if (ip === undefined || bits > 32) return undefined;
  return { text, base: (ip & maskOf(bits)) >>> 0, bits };
}

export function cidrContains(cidr: Ipv4Cidr, ip: number): boolean {
  return ((ip & maskOf(cidr.bits)) >>> 0) === cidr.base;
}

/** Whether every address of inner is in outer. */
export function cidrWithin(inner: Ipv4Cidr, outer: Ipv4Cidr): boolean {
  return inner.bits >= outer.bits && cidrContains(outer, inner.base);
}

/** All of loopback: the only addresses kcs networking uses. */
export const LOOPBACK = parseIpv4Cidr('127.0.0.0/8')!;
