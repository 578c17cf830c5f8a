// The annotations of pod health, read by the agent (is a pod healthy?), the
// pod-health controller (how many restarts before it moves?) and the
// scheduler (which nodes to keep it off, and until when?). One place, so
// they agree.
import { rfc3339 } from '../util/clock.ts';
import type { Pod } from './types.ts';

/**
 * Makes a simulated pod fail its health check: "true" fails every
 * container, a comma-separated list of container names fails those.
 * Anything else ("false", "") leaves the pod healthy.
 */
export const SIMULATE_UNHEALTHY = 'kcs.io/simulate-unhealthy';
/** Restarts on one node before the pod is moved to another: a whole number >= 1, or "off" (never moved). */
export const MAX_RESTARTS = 'kcs.io/max-restarts';
/**
 * Every node the pod was moved off for failing its health check there, each
 * with when it failed and until when the scheduler keeps it off that node
 * (an RFC 3339 interval): "a=2026-05-01T10:00:00Z/2026-05-01T10:10:00Z,b=...".
 * Remembering each node (not only the last) is what stops a pod that fails
 * everywhere from bouncing between two nodes; the expiry gives every node
 * another chance later (the fault may have been the node's, or fixed).
 */
export const FAILED_NODES = 'kcs.io/failed-nodes';
/**
 * What kcs wrote before FAILED_NODES: the one node the pod last failed on,
 * with no expiry. Still honoured as a node to keep off; the next move folds
 * it into FAILED_NODES.
 */
export const AVOID_NODE = 'kcs.io/avoid-node';

export const DEFAULT_MAX_RESTARTS = 3;
/** How long a node the pod failed on stays excluded for it. */
export const DEFAULT_FAILED_NODE_MEMORY_MS = 10 * 60_000;

export interface FailedNode {
  node: string;
  /** When it failed there (ms since the epoch); unknown for the old annotation. */
  failedAt?: number;
  /** Kept off the node until then (ms since the epoch); Infinity for the old annotation. */
  until: number;
}

/** Parsed once per version of a pod: the scheduler asks once per node it examines, and versions read from the cache are shared and never change. */
const parsed = new WeakMap<Pod, Map<string, FailedNode>>();

/** The nodes the pod failed on, expired or not, by node name. */
export function failedNodesOf(pod: Pod): ReadonlyMap<string, FailedNode> {
  let nodes = parsed.get(pod);
  if (nodes) return nodes;
  nodes = new Map();
  const legacy = pod.metadata.annotations?.[AVOID_NODE]?.trim();
  if (legacy) nodes.set(legacy, { node: legacy, until: Number.POSITIVE_INFINITY });
  for (const entry of (pod.metadata.annotations?.[FAILED_NODES] ?? '').split(',')) {
    const [node, interval] = entry.trim().split('=', 2);
    const [from, to] = (interval ?? '').split('/', 2).map((t) => Date.parse(t ?? ''));
    // A malformed entry is skipped rather than failing the pod: it is a hint, not a spec.
    if (node && Number.isFinite(from) && Number.isFinite(to)) nodes.set(node, { node, failedAt: from, until: to });
  }
  parsed.set(pod, nodes);
  return nodes;
}

/** Whether the pod carries either annotation: the fast answer for the many pods that never failed. */
export function hasFailedNodes(pod: Pod): boolean {
  const a = pod.metadata.annotations;
  return a !== undefined && (a[FAILED_NODES] !== undefined || a[AVOID_NODE] !== undefined);
}

/** The node's entry while it still keeps the pod off it at `now` (ms); any entry without a time. */
export function failedHere(pod: Pod, node: string, now?: number): FailedNode | undefined {
  if (!hasFailedNodes(pod)) return undefined;
  const entry = failedNodesOf(pod).get(node);
  return entry && (now === undefined || now < entry.until) ? entry : undefined;
}

/**
 * FAILED_NODES after the pod failed on `node` at `now`: that node kept off
 * for memoryMs, the other unexpired entries kept, the expired ones dropped,
 * and the old AVOID_NODE folded in (as failing now: when it did is unknown).
 */
export function withFailure(pod: Pod, node: string, now: Date, memoryMs = DEFAULT_FAILED_NODE_MEMORY_MS): string {
  const at = now.getTime();
  const kept = [...failedNodesOf(pod).values()]
    .filter((e) => e.node !== node && e.until > at)
    .map((e) => (Number.isFinite(e.until) ? e : { node: e.node, failedAt: at, until: at + memoryMs }));
  return [...kept, { node, failedAt: at, until: at + memoryMs }]
    .map((e) => `${e.node}=${rfc3339(new Date(e.failedAt!))}/${rfc3339(new Date(e.until))}`)
    .join(',');
}

/** The names of the pod's containers that fail their health check now. */
export function unhealthyContainers(pod: Pod): Set<string> {
  const value = pod.metadata.annotations?.[SIMULATE_UNHEALTHY]?.trim();
  const names = pod.spec.containers.map((c) => c.name);
  if (!value || value === 'false') return new Set();
  if (value === 'true') return new Set(names);
  const listed = new Set(value.split(',').map((s) => s.trim()));
  return new Set(names.filter((n) => listed.has(n)));
}

/**
 * The restart limit for this pod: its annotation if valid, else the
 * cluster's default; undefined when the pod says "off".
 */
export function maxRestartsOf(pod: Pod, clusterDefault = DEFAULT_MAX_RESTARTS): number | undefined {
  const value = pod.metadata.annotations?.[MAX_RESTARTS]?.trim();
  if (value === 'off') return undefined;
  if (value && /^[0-9]+$/.test(value) && Number(value) >= 1) return Number(value);
  return clusterDefault;
}

/** How many times the pod failed on its node: its most restarted container (each failure restarts every failing container once). */
export function podFailures(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

/** kubectl's RESTARTS: the sum over the containers. */
export function podRestarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}
