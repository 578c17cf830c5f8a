// The score plugins, one per policy. Ties always go to the node earlier in
// name order (the snapshot's order), so every decision is reproducible.
import type { ScorePlugin } from '../framework.ts';

/** The first node, in name order, that fits. */
export const firstFit: ScorePlugin = {
  name: 'first-fit',
  score: () => 0,
};

/** The node left with the least CPU after placing the pod (tightest fit). */
export const bestFit: ScorePlugin = {
  name: 'best-fit',
  score: ({ requests }, n) => -(n.capacity.milliCpu - n.allocated.milliCpu - requests.milliCpu),
};

/** The node left with the most CPU after placing the pod. */
export const worstFit: ScorePlugin = {
  name: 'worst-fit',
  score: ({ requests }, n) => n.capacity.milliCpu - n.allocated.milliCpu - requests.milliCpu,
};

/** The node with the fewest pods. */
export const spread: ScorePlugin = {
  name: 'spread',
  score: (_req, n) => -n.allocated.pods,
};

/**
 * The most utilised node after placing the pod, weighing CPU and memory
 * utilisation (kube-scheduler's MostAllocated). Memory on a node that states
 * none is unlimited, so it counts as unused.
 */
export function binpack(weights: { cpu: number; memory: number } = { cpu: 1, memory: 1 }): ScorePlugin {
  const total = weights.cpu + weights.memory;
  return {
    name: 'binpack',
    weights,
    score: ({ requests }, n) => {
      const cpu = n.capacity.milliCpu ? (n.allocated.milliCpu + requests.milliCpu) / n.capacity.milliCpu : 1;
      const mem = n.capacity.memory ? (n.allocated.memory + requests.memory) / n.capacity.memory : 1; // Infinity -> 0
      return total ? (weights.cpu * cpu + weights.memory * mem) / total : 0;
    },
  };
}

export const POLICY_NAMES = ['first-fit', 'best-fit', 'worst-fit', 'spread', 'binpack'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function policyByName(name: string, binpackWeights?: { cpu: number; memory: number }): ScorePlugin | undefined {
  switch (name) {
    case 'first-fit': return firstFit;
    case 'best-fit': return bestFit;
    case 'worst-fit': return worstFit;
    case 'spread': return spread;
    case 'binpack': return binpack(binpackWeights);
    default: return undefined;
  }
}
