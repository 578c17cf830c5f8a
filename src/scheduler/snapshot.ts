// What the scheduler decides over: every node with what it offers and what
// the pods bound to it already take, computed once per decision round.
import { nodeCapacity, podRequests, type Resources } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import { reservationsOf } from './ledger.ts';
import { isFinished, isNodeReady } from '../objects/conditions.ts';

export interface NodeInfo {
  name: string;
  node: Node;
  ready: boolean;
  unschedulable: boolean;
  labels: Record<string, string>;
  capacity: Resources & { pods: number };
  /** The sum of the requests of the pods bound to it. */
  allocated: Resources & { pods: number };
}

export interface Snapshot {
  /** In the scheduler's stable order: by name. First-fit takes the first that fits; every policy breaks ties by it. */
  nodes: NodeInfo[];
  byName: Map<string, NodeInfo>;
}

/** What a node offers; a node that states no memory does not limit it (only CPU is simulated for it). */
function offered(node: Node): Resources & { pods: number } {
  const cap = nodeCapacity(node);
  return node.spec.capacity.memory === undefined ? { ...cap, memory: Number.POSITIVE_INFINITY } : cap;
}

export function buildSnapshot(nodes: Node[], pods: Pod[]): Snapshot {
  const infos = nodes
    .filter((n) => !n.metadata.deletionTimestamp)
    .map((node): NodeInfo => ({
      name: node.metadata.name!,
      node,
      ready: isNodeReady(node),
      unschedulable: node.spec.unschedulable === true,
      labels: node.metadata.labels ?? {},
      capacity: offered(node),
      allocated: { milliCpu: 0, memory: 0, pods: 0 },
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byName = new Map(infos.map((i) => [i.name, i]));
  // What a node holds: the pods bound to it, and the reservations schedulers
  // wrote in its ledger for pods whose binding is not visible yet; each pod once.
  const counted = new Map<string, Set<string>>(infos.map((i) => [i.name, new Set()]));
  for (const pod of pods) {
    const info = pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
    if (!info || isFinished(pod)) continue;
    reserve(info, podRequests(pod));
    counted.get(info.name)!.add(pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  const finished = new Set(pods.filter(isFinished).map((p) => p.metadata.uid));
  for (const info of infos) {
    for (const r of reservationsOf(info.node)) {
      if (counted.get(info.name)!.has(r.uid) || finished.has(r.uid)) continue;
      reserve(info, { milliCpu: r.milliCpu, memory: r.memory });
    }
  }
  return { nodes: infos, byName };
}

/** Counts a pod's requests against a node (after binding it). */
export function reserve(info: NodeInfo, r: Resources): void {
  info.allocated.milliCpu += r.milliCpu;
  info.allocated.memory += r.memory;
  info.allocated.pods += 1;
}
