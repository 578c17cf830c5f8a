// The annotations of pod health, read by the agent (is a pod healthy?), the
// pod-health controller (how many restarts before it moves?) and the
// scheduler (which node to keep it off?). One place, so they agree.
import type { Pod } from './types.ts';

/**
 * Makes a simulated pod fail its health check: "true" fails every
 * container, a comma-separated list of container names fails those.
 * Anything else ("false", "") leaves the pod healthy.
 */
export const SIMULATE_UNHEALTHY = 'kcs.io/simulate-unhealthy';
/** Restarts on one node before the pod is moved to another: a whole number >= 1, or "off" (never moved). */
export const MAX_RESTARTS = 'kcs.io/max-restarts';
/** The node a pod was last moved off for failing there: the scheduler keeps it off that node. */
export const AVOID_NODE = 'kcs.io/avoid-node';

export const DEFAULT_MAX_RESTARTS = 3;

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
