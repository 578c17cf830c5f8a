// Cluster IPs at admission, as Kubernetes' service IP allocator: a Service
// created without spec.clusterIP gets the first free address of the service
// range; one that asks for an address gets it only if it is in the range and
// free; `None` (headless) takes none. Taken means held by a Service the
// object cache shows, or handed out by this registry to a create the cache
// does not show yet. The cache follows every write (deletes too, whichever
// path made them), so nothing here must hear of deletes; an address handed
// out stays reserved until the cache has caught up with its write, so two
// creates racing before the cache sees either never get one address.
import type { ObjectCache } from '../cache/object-cache.ts';
import { kindByName } from '../objects/kinds.ts';
import { firstFree, formatIpv4, inRange, parseIpv4, type Ipv4Range } from '../objects/ip.ts';
import { HEADLESS, type Service } from '../objects/services.ts';
import { DEFAULT_NETWORKS } from '../objects/cluster-networks.ts';
import { errors } from './errors.ts';

const SERVICE = kindByName('Service')!;

export class ClusterIps {
  private readonly cache: ObjectCache;
  /** Addresses handed out whose Service the cache may not show yet. */
  private readonly reserved = new Set<number>();

  /** Where cluster IPs come from (the service cluster IP range). */
  private readonly range: Ipv4Range;

  constructor(cache: ObjectCache, range: Ipv4Range = DEFAULT_NETWORKS.services) {
    this.cache = cache;
    this.range = range;
  }

  /** The cache holds what the store holds: called before assign(). */
  ready(): Promise<void> {
    return this.cache.start();
  }

  /**
   * Gives the Service its cluster IP (or checks the one it asks for) and
   * reserves it. Synchronous: nothing else runs between the look and the
   * reservation. Returns the address to settle() once the write is done.
   */
  assign(service: Service): number | undefined {
    const spec = service.spec;
    // clusterIPs alone asks as clusterIP does; both must then agree (the create's own statement, not the allocator's to settle).
    const listed = spec.clusterIPs?.[0];
    if (!spec.clusterIP && listed) spec.clusterIP = listed;
    if (listed && listed !== spec.clusterIP) {
      throw errors.invalid('Service', service.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify(listed)}: must match clusterIP when both are specified` }]);
    }
    if (spec.clusterIP === HEADLESS) {
      spec.clusterIPs = [HEADLESS];
      return undefined;
    }
    const taken = this.taken();
    let ip: number;
    if (spec.clusterIP) {
      ip = parseIpv4(spec.clusterIP)!;
      if (!inRange(this.range, ip)) throw clusterIpRefused(service, `the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.range.cidr}`);
      if (taken.has(ip)) throw clusterIpTaken(service);
    } else {
      const free = firstFree(this.range, taken);
      if (free === undefined) throw errors.internal(new Error(`failed to allocate a serviceIP: range is full (${this.range.cidr})`));
      ip = free;
    }
    this.reserved.add(ip);
    spec.clusterIP = formatIpv4(ip);
    spec.clusterIPs = [spec.clusterIP];
    return ip;
  }

  /**
   * The write of the Service that got ip is over: at revision (kept
   * reserved until the cache shows it), or failed (revision undefined:
   * given back at once).
   */
  settle(ip: number | undefined, revision?: number): void {
    if (ip === undefined) return;
    if (revision === undefined) {
      this.reserved.delete(ip);
      return;
    }
    // Past the cache's wait (a stalled cache), the reservation goes too: the Service is in the store, and the cache shows it when it recovers.
    this.cache.waitFor(revision).then(() => this.reserved.delete(ip), () => this.reserved.delete(ip));
  }

  private taken(): Set<number> {
    const taken = new Set(this.reserved);
    for (const cached of this.cache.state(SERVICE).tree.values()) {
      const ip = (cached.object() as Service).spec?.clusterIP;
      const n = ip && ip !== HEADLESS ? parseIpv4(ip) : undefined;
      if (n !== undefined) taken.add(n);
    }
    return taken;
  }
}


/** The 422 for a Service asking for a cluster IP another Service holds. */
export function clusterIpTaken(service: Service): Error {
  return clusterIpRefused(service, 'provided IP is already allocated');
}

function clusterIpRefused(service: Service, refusal: string): Error {
  const ip = service.spec.clusterIP;
  return errors.invalid('Service', service.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(ip)}: failed to allocate IP ${ip}: ${refusal}` }]);
}
