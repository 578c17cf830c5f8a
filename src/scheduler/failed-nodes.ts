// What the scheduler makes of the nodes a pod failed its health check on
// (kcs.io/failed-nodes, objects/pod-health.ts): the decision record says
// when it failed on each, and a pod kept off every schedulable node waits,
// saying so, until the first of those nodes is free to take it again.
import { failedHere, failedNodesOf, type FailedNode } from '../objects/pod-health.ts';
import type { Pod } from '../objects/types.ts';
import { rfc3339 } from '../util/clock.ts';
import type { ReasonDetail } from './explain.ts';
import { NodeIndex } from './node-index.ts';
import { FAILED_HEALTH_CHECK } from './plugins/filters.ts';
import type { NodeInfo } from './snapshot.ts';

/** The failed-health reason of a node in full: "the pod failed its health check here at T (kept off until U)". */
export function failedNodeDetail(pod: Pod): ReasonDetail {
  return (node, reason) => {
    if (reason !== FAILED_HEALTH_CHECK) return reason;
    const entry = failedNodesOf(pod).get(node);
    return entry ? describeFailure(entry) : reason;
  };
}

function describeFailure(e: FailedNode): string {
  if (e.failedAt === undefined) return 'the pod failed its health check here (kcs.io/avoid-node)';
  return `the pod failed its health check here at ${rfc3339(new Date(e.failedAt))} (kept off until ${rfc3339(new Date(e.until))})`;
}

export interface FailedNodesOutlook {
  /** When the first schedulable node the pod is kept off takes it again (ms); none for entries that never expire. */
  retryAt?: number;
  /** Every schedulable node, when the pod is kept off all of them (in name order). */
  everywhere?: string[];
}

/** Over the nodes there are now: whether the pod's failures keep it off all that could take it, and until when. */
export function failedNodesOutlook(pod: Pod, nodes: NodeInfo[], now: number): FailedNodesOutlook {
  const schedulable = nodes.filter(NodeIndex.schedulable);
  let retryAt: number | undefined;
  let keptOff = 0;
  for (const n of schedulable) {
    const entry = failedHere(pod, n.name, now);
    if (!entry) continue;
    keptOff++;
    if (Number.isFinite(entry.until) && (retryAt === undefined || entry.until < retryAt)) retryAt = entry.until;
  }
  const everywhere = schedulable.length > 0 && keptOff === schedulable.length ? schedulable.map((n) => n.name) : undefined;
  return { ...(retryAt !== undefined ? { retryAt } : {}), ...(everywhere ? { everywhere } : {}) };
}

/** "failed its health check on every node: n1, n2; retrying after T", naming at most 10 nodes. */
export function failedEverywhereMessage(outlook: FailedNodesOutlook): string {
  const nodes = outlook.everywhere ?? [];
  const named = nodes.length > 10 ? `${nodes.slice(0, 10).join(', ')} and ${nodes.length - 10} more` : nodes.join(', ');
  const retry = outlook.retryAt === undefined ? '' : `; retrying after ${rfc3339(new Date(outlook.retryAt))}`;
  return `Failed its health check on every node: ${named}${retry}.`;
}
