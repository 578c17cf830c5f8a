// IPv4 addresses and ranges as numbers: parsing (canonical dotted quads
// only, as Kubernetes' validation takes them), formatting, and the first
// address of a range that is not taken.

export interface Ipv4Range {
  /** The CIDR as written: 127.32.0.0/16. */
  cidr: string;
  /** The first and last addresses that may be handed out (network and broadcast addresses excluded). */
  first: number;
  last: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** The address as a number, or undefined when it is not a canonical IPv4 address (no leading zeros, four octets 0-255). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!OCTET.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A CIDR's usable addresses; throws on a malformed one (ranges are constants, not input). */
export function ipv4Range(cidr: string): Ipv4Range {
  const [address, bits] = cidr.split('/');
  const base = parseIpv4(address ?? '');
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) throw new Error(`not an IPv4 CIDR with room for addresses: ${cidr}`);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new Error(`${cidr} has host bits set`);
  return { cidr, first: base + 1, last: base + size - 2 };
}

export function inRange(range: Ipv4Range, ip: number): boolean {
  return ip >= range.first && ip <= range.last;
}

/** The lowest address of the range not in taken, or undefined when every one is. */
export function firstFree(range: Ipv4Range, taken: ReadonlySet<number>): number | undefined {
  for (let ip = range.first; ip <= range.last; ip++) if (!taken.has(ip)) return ip;
  return undefined;
}
