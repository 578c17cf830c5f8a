// The pods bound to one node, from the shared pod informer's index: what the
// ledger, health and node controllers ask per node, at a cost that grows
// with that node's pods, not with every pod in the cluster.
import type { Informer } from '../client/informer.ts';
import type { Pod } from '../objects/types.ts';

export const BY_NODE = 'spec.nodeName';

function indexed(pods: Informer<Pod>): Informer<Pod> {
  if (!pods.hasIndex(BY_NODE)) pods.addIndex(BY_NODE, (p) => p.spec.nodeName || undefined);
  return pods;
}

export function podsOnNode(pods: Informer<Pod>, nodeName: string): Pod[] {
  return indexed(pods).byIndex(BY_NODE, nodeName);
}

/** Every node name some pod is bound to. */
export function nodesWithPods(pods: Informer<Pod>): string[] {
  return indexed(pods).indexValues(BY_NODE);
}
