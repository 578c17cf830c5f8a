// The filters every policy shares. Each reason is worded as kube-scheduler
// words it, so messages read the same as Kubernetes'.
import { failedHere } from '../../objects/pod-health.ts';
import { labelsMatch } from '../../objects/selectors.ts';
import type { FilterPlugin } from '../framework.ts';

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter: (_req, node) => (node.ready ? undefined : 'NotReady'),
};

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter: (_req, node) => (node.unschedulable ? "node(s) were unschedulable" : undefined),
};

/** CPU, memory and pod count must fit in what the node has left: never overcommit. */
export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter: ({ requests }, node) => {
    const { capacity: cap, allocated: used } = node;
    if (used.pods + 1 > cap.pods) return 'Too many pods';
    if (used.milliCpu + requests.milliCpu > cap.milliCpu) return 'Insufficient cpu';
    if (used.memory + requests.memory > cap.memory) return 'Insufficient memory';
    return undefined;
  },
};

export const nodeSelector: FilterPlugin = {
  name: 'NodeAffinity',
  filter: ({ pod }, node) => (labelsMatch(pod.spec.nodeSelector, node.labels) ? undefined : "node(s) didn't match Pod's node affinity/selector"),
};

/** The reason of avoidFailedNodes, in kube-scheduler's manner; the decision record says when (explain.ts). */
export const FAILED_HEALTH_CHECK = 'node(s) the pod failed its health check on';

/**
 * A pod moved off nodes for failing its health check there again and again
 * (the pod-health controller writes kcs.io/failed-nodes) is not put back on
 * any of them until that node's entry expires; kube-scheduler has no such
 * filter. Without the decision's time (the autoscaler's estimates) no entry
 * expires.
 */
export const avoidFailedNodes: FilterPlugin = {
  name: 'AvoidFailedNodes',
  filter: ({ pod, now }, node) => (failedHere(pod, node.name, now) ? FAILED_HEALTH_CHECK : undefined),
};

export const DEFAULT_FILTERS: FilterPlugin[] = [nodeReady, nodeUnschedulable, nodeSelector, avoidFailedNodes, resourcesFit];
