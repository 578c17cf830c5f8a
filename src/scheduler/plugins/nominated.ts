// The resource fit with the room of nominated pods held: a pod sees the
// pods nominated to a node with at least its own priority as already there
// (kube-scheduler runs its filters with those pods added). Used in place
// of resourcesFit only while some pod is nominated, so the common decision
// pays nothing for it.
import type { FilterPlugin } from '../framework.ts';
import type { Nominations } from '../nominations.ts';
import { podPriority } from '../priority.ts';
import { DEFAULT_FILTERS, resourcesFit } from './filters.ts';

export function nominatedResourcesFit(nominations: Nominations): FilterPlugin {
  return {
    name: resourcesFit.name,
    filter: (req, node) => {
      const held = nominations.heldFor(node.name, podPriority(req.pod), req.pod.metadata.uid);
      if (!held) return resourcesFit.filter(req, node);
      const a = node.allocated;
      const allocated = { milliCpu: a.milliCpu + held.milliCpu, memory: a.memory + held.memory, pods: a.pods + held.pods };
      return resourcesFit.filter(req, { ...node, allocated });
    },
  };
}

/** DEFAULT_FILTERS with the resource fit that holds nominated pods' room. */
export function filtersHoldingNominations(nominations: Nominations): FilterPlugin[] {
  const fit = nominatedResourcesFit(nominations);
  return DEFAULT_FILTERS.map((f) => (f === resourcesFit ? fit : f));
}
