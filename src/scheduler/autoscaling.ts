// The autoscaler's arithmetic, as cluster-autoscaler does it, without I/O:
// how many template nodes the unschedulable pods need (the scheduler's own
// filters run on an imagined node made from the pool's template, and the
// pods are packed first-fit, largest first), and whether a node's pods
// would all fit on the other nodes if it went.
import { nodeCapacity, podRequests, type Resources } from '../objects/requests.ts';
import type { Node, Pod, ResourceList } from '../objects/types.ts';
import { formatMilliCpu, formatBytes } from '../objects/quantity.ts';
import type { FilterPlugin } from './framework.ts';
import { DEFAULT_FILTERS, nodeReady } from './plugins/filters.ts';
import type { NodeInfo } from './snapshot.ts';

/** The label every node of a pool carries: which pool it belongs to. */
export const NODEPOOL_LABEL = 'kcs.io/nodepool';

export interface NodePoolSpec {
  minNodes?: number;
  maxNodes: number;
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { capacity: ResourceList } };
  scaleUp?: { cpuUtilizationTarget?: number; windowSeconds?: number };
  scaleDown?: { enabled?: boolean; utilizationThreshold?: number; unneededSeconds?: number; delayAfterAddSeconds?: number };
  [field: string]: unknown;
}

/** An imagined node made from the pool's template, nothing on it yet. */
export function templateNode(pool: string, spec: NodePoolSpec, name = `${pool}-template`): Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { ...spec.template.metadata?.labels, [NODEPOOL_LABEL]: pool } },
    spec: { capacity: { ...spec.template.spec.capacity } },
  };
}

function emptyInfo(node: Node): NodeInfo {
  const cap = nodeCapacity(node);
  return {
    name: node.metadata.name!, node, ready: true, unschedulable: false, labels: node.metadata.labels ?? {},
    capacity: node.spec.capacity.memory === undefined ? { ...cap, memory: Number.POSITIVE_INFINITY } : cap,
    allocated: { milliCpu: 0, memory: 0, pods: 0 },
  };
}

/** The filters a pod must pass on a node that does not exist yet: all but readiness (it will be Ready). */
const TEMPLATE_FILTERS: FilterPlugin[] = DEFAULT_FILTERS.filter((f) => f !== nodeReady);

function fits(pod: Pod, requests: Resources, info: NodeInfo, filters: FilterPlugin[]): string | undefined {
  for (const f of filters) {
    const why = f.filter({ pod, requests }, info);
    if (why) return why;
  }
  return undefined;
}

function place(info: NodeInfo, r: Resources): void {
  info.allocated.milliCpu += r.milliCpu;
  info.allocated.memory += r.memory;
  info.allocated.pods += 1;
}

export interface ScaleUpEstimate {
  /** New nodes the pods need, before the pool's max is applied. */
  nodes: number;
  /** The pods new nodes, or nodes on their way, would take (in the order packed). */
  helped: Pod[];
  /** Of those, how many only new nodes would take. */
  needNew: number;
  /** Pods a template node could never hold, with why (the first filter that refused). */
  refused: Array<{ pod: Pod; reason: string }>;
}

/**
 * How many template nodes the pods need: first-fit decreasing by CPU, as
 * cluster-autoscaler's binpacking estimator. upcoming are the pool's nodes
 * already made and not yet Ready (their room counts first, so a pod waiting
 * for a node on its way does not ask for another). At most limit new nodes.
 */
export function estimateScaleUp(pool: string, spec: NodePoolSpec, pending: Pod[], upcoming: NodeInfo[] = [], limit = Number.POSITIVE_INFINITY): ScaleUpEstimate {
  const empty = emptyInfo(templateNode(pool, spec));
  const bins: NodeInfo[] = upcoming.map((u) => ({ ...u, ready: true, allocated: { ...u.allocated } }));
  const fresh: NodeInfo[] = [];
  const helped: Pod[] = [];
  let needNew = 0;
  const refused: ScaleUpEstimate['refused'] = [];
  const ordered = pending.map((pod) => ({ pod, r: podRequests(pod) })).sort((a, b) => b.r.milliCpu - a.r.milliCpu || b.r.memory - a.r.memory);
  for (const { pod, r } of ordered) {
    const reason = fits(pod, r, empty, TEMPLATE_FILTERS);
    if (reason) {
      refused.push({ pod, reason });
      continue;
    }
    let bin = bins.find((b) => fits(pod, r, b, TEMPLATE_FILTERS) === undefined);
    if (!bin) {
      if (fresh.length >= limit) continue;
      bin = emptyInfo(templateNode(pool, spec, `${pool}-new-${fresh.length}`));
      bins.push(bin);
      fresh.push(bin);
    }
    if (fresh.includes(bin)) needNew++;
    place(bin, r);
    helped.push(pod);
  }
  return { nodes: fresh.length, helped, needNew, refused };
}

/**
 * The pending pods that would not fit on the nodes there are now, placed in
 * turn (each taking its room): as cluster-autoscaler filters out
 * schedulable pods, since a pod marked Unschedulable a moment ago may fit a
 * node that has become Ready or freed room since, and the scheduler will
 * place it without a new node.
 */
export function stillUnschedulable(pending: Pod[], nodes: NodeInfo[]): Pod[] {
  const room = nodes.map((o) => ({ ...o, allocated: { ...o.allocated } }));
  return pending.filter((pod) => {
    const r = podRequests(pod);
    const target = room.find((o) => fits(pod, r, o, DEFAULT_FILTERS) === undefined);
    if (!target) return true;
    place(target, r);
    return false;
  });
}

/** A node's largest requested share of its CPU and memory, 0 to 1. */
export function requestedShare(info: NodeInfo): number {
  const cpu = info.capacity.milliCpu > 0 ? info.allocated.milliCpu / info.capacity.milliCpu : 0;
  const memory = Number.isFinite(info.capacity.memory) && info.capacity.memory > 0 ? info.allocated.memory / info.capacity.memory : 0;
  return Math.max(cpu, memory);
}

/**
 * Whether every pod of the node would fit on the others (Ready, schedulable,
 * not themselves going), placed first-fit on what they have left. Answers
 * the first pod that would not, if any.
 */
export function podsFitElsewhere(pods: Pod[], others: NodeInfo[]): { fits: true } | { fits: false; pod: Pod; reason: string } {
  const room = others.map((o) => ({ ...o, allocated: { ...o.allocated } }));
  const ordered = pods.map((pod) => ({ pod, r: podRequests(pod) })).sort((a, b) => b.r.milliCpu - a.r.milliCpu);
  for (const { pod, r } of ordered) {
    const target = room.find((o) => fits(pod, r, o, DEFAULT_FILTERS) === undefined);
    if (!target) return { fits: false, pod, reason: room.length ? 'no other node has room' : 'no other node' };
    place(target, r);
  }
  return { fits: true };
}

/** "2-CPU, 4Gi node" for event messages. */
export function describeTemplate(spec: NodePoolSpec): string {
  const cap = nodeCapacity(templateNode('x', spec));
  const cpu = cap.milliCpu % 1000 === 0 ? `${cap.milliCpu / 1000}-CPU` : `${formatMilliCpu(cap.milliCpu)} CPU`;
  return spec.template.spec.capacity.memory === undefined ? `${cpu} node` : `${cpu}, ${formatBytes(cap.memory)} node`;
}
