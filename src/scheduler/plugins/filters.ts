// The filters every policy shares. Each reason is worded as kube-scheduler
// words it, so messages read the same as Kubernetes'.
import { AVOID_NODE } from '../../objects/pod-health.ts';
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

/**
 * A pod moved off a node for failing its health check there again and again
 * (the pod-health controller writes kcs.io/avoid-node) is not put back on
 * that node; kube-scheduler has no such filter, so the reason is worded in
 * its manner.
 */
export const avoidFailedNode: FilterPlugin = {
  name: 'AvoidFailedNode',
  filter: ({ pod }, node) => (pod.metadata.annotations?.[AVOID_NODE] === node.name ? 'node(s) the pod failed its health check on' : undefined),
};

export const DEFAULT_FILTERS: FilterPlugin[] = [nodeReady, nodeUnschedulable, nodeSelector, avoidFailedNode, resourcesFit];
