// The cluster as the metrics gauges see it at scrape time, read from the
// object cache the API serves lists from: what it already holds (each
// kind's objects, parsed once and shared), counted when Prometheus asks,
// never listed from the store and never kept up to date on every write.
import { nodeStatus } from '../objects/columns.ts';
import { KINDS, kindByName, NODE_LEASE_NAMESPACE, type KindInfo } from '../objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { prefixEnd } from '../store/store.ts';
import type { ClusterView } from '../util/metrics.ts';
import type { Registry } from './registry.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const LEASE = kindByName('Lease')!;
const NODE_CONDITIONS = ['Ready', 'NotReady', 'Unknown'];
const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

/** Only the field a heartbeat age needs (coordination.k8s.io/v1 Lease). */
type Lease = KubeObject & { spec?: { renewTime?: string } };

/** Heartbeat ages count from the registry's clock (a test's fake one moves them). */
export function clusterView(registry: Registry): ClusterView {
  const { cache, clock } = registry;
  // Read as the API's lists are: once the cache holds every write the store has acknowledged.
  const fresh = async () => {
    await cache.start();
    await cache.waitFor(await registry.store.currentRevision());
  };
  const objects = <T>(kind: KindInfo) => [...cache.state(kind).tree.values()].map((o) => o.object() as T);
  return {
    revision: () => registry.store.currentRevision(),
    objectCounts: async () => {
      await fresh();
      return KINDS.map((kind): [string, number] => [kind.plural, cache.state(kind).tree.size]);
    },
    nodeConditions: async () => {
      await fresh();
      // kubectl's word for the Ready condition, without ",SchedulingDisabled".
      return tally(NODE_CONDITIONS, objects<Node>(NODE).map((n) => nodeStatus(n).split(',')[0]!));
    },
    podPhases: async () => {
      await fresh();
      return tally(POD_PHASES, objects<Pod>(POD).map((p) => p.status?.phase ?? 'Pending'));
    },
    heartbeatAges: async () => {
      await fresh();
      const now = clock.now().getTime();
      const nodes = cache.state(NODE);
      const leases = cache.state(LEASE);
      const prefix = `${leases.prefix}${NODE_LEASE_NAMESPACE}/`;
      const end = prefixEnd(prefix);
      const ages: Array<[string, number]> = [];
      for (const [key, cached] of leases.tree.entries(prefix)) {
        if (key >= end) break;
        const renewed = Date.parse((cached.object() as Lease).spec?.renewTime ?? '');
        // A Lease left behind by a deleted Node is no node's heartbeat.
        if (Number.isFinite(renewed) && nodes.tree.has(nodes.prefix + cached.name)) ages.push([cached.name, Math.max(0, now - renewed) / 1000]);
      }
      return ages;
    },
  };
}

/** How many of values are each of the known ones (each known one present, 0 or more), and any other seen. */
function tally(known: string[], values: string[]): Map<string, number> {
  const counts = new Map(known.map((k) => [k, 0]));
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
