// A filter/score framework in the spirit of kube-scheduler's: filters say
// whether a pod may go on a node and, if not, why (a reason a person reads);
// one score plugin (the policy) ranks the nodes that passed. Reasons are
// data, which is what makes "0/5 nodes are available: 3 Insufficient cpu,
// 2 NotReady" possible.
import type { Resources } from '../objects/requests.ts';
import type { Pod } from '../objects/types.ts';
import type { NodeIndex } from './node-index.ts';
import type { NodeInfo, Snapshot } from './snapshot.ts';

export interface PodRequest {
  pod: Pod;
  requests: Resources;
  /** The decision's time (ms since the epoch), for filters that expire; without it nothing expires. */
  now?: number;
}

export interface FilterPlugin {
  readonly name: string;
  /** undefined when the node passes; otherwise the reason it does not. */
  filter(req: PodRequest, node: NodeInfo): string | undefined;
}

export interface ScorePlugin {
  readonly name: string;
  /** Higher is better. Ties go to the node earlier in the snapshot's order. */
  score(req: PodRequest, node: NodeInfo): number;
  /** binpack's weights, which its index order depends on. */
  readonly weights?: { cpu: number; memory: number };
}

export interface NodeVerdict {
  node: string;
  /** Why the node was filtered out; empty when it passed. */
  reasons: string[];
  score?: number;
}

export interface Decision {
  /** The chosen node, if any fits. */
  node?: string;
  policy: string;
  verdicts: NodeVerdict[];
  /** "0/5 nodes are available: 3 Insufficient cpu, 2 NotReady." when none fits. */
  message: string;
}

export function decide(req: PodRequest, snapshot: Snapshot, filters: FilterPlugin[], policy: ScorePlugin): Decision {
  const verdicts: NodeVerdict[] = [];
  let best: { node: string; score: number } | undefined;
  for (const info of snapshot.nodes) {
    const reasons: string[] = [];
    for (const f of filters) {
      const why = f.filter(req, info);
      if (why) reasons.push(why);
    }
    if (reasons.length) {
      verdicts.push({ node: info.name, reasons });
      continue;
    }
    const score = policy.score(req, info);
    verdicts.push({ node: info.name, reasons, score });
    if (!best || score > best.score) best = { node: info.name, score };
  }
  const total = snapshot.nodes.length;
  if (best) return { node: best.node, policy: policy.name, verdicts, message: `assigned to ${best.node} by ${policy.name}` };
  return { policy: policy.name, verdicts, message: unschedulableMessage(total, verdicts) };
}

/**
 * The same choice as decide, found through the node index: nodes are
 * examined in the policy's order and the first that passes every filter
 * wins, so only the examined nodes get a verdict. undefined when the policy
 * has no index order or no indexed node fits (decide then explains why
 * each node was refused).
 */
export function decideIndexed(req: PodRequest, index: NodeIndex, filters: FilterPlugin[], policy: ScorePlugin): Decision | undefined {
  const verdicts: NodeVerdict[] = [];
  /** The first node of the order that passes every filter; verdicts for all it examined. */
  const firstFitting = (order: Iterable<NodeInfo>): NodeVerdict | undefined => {
    for (const info of order) {
      const reasons: string[] = [];
      for (const f of filters) {
        const why = f.filter(req, info);
        if (why) reasons.push(why);
      }
      const verdict: NodeVerdict = reasons.length ? { node: info.name, reasons } : { node: info.name, reasons, score: policy.score(req, info) };
      verdicts.push(verdict);
      if (!reasons.length) return verdict;
    }
    return undefined;
  };
  const { milliCpu, memory } = req.requests;
  let chosen: NodeVerdict | undefined;
  switch (policy.name) {
    case 'first-fit': chosen = firstFitting(index.byName(milliCpu, memory)); break;
    case 'best-fit': chosen = firstFitting(index.byFreeAscending(milliCpu)); break;
    case 'worst-fit': chosen = firstFitting(index.byFreeDescending(milliCpu)); break;
    case 'spread': chosen = firstFitting(index.byPodCount()); break;
    case 'binpack':
      // Its order leaves out nodes with nothing left, where a pod requesting nothing still fits.
      if (milliCpu === 0 || memory === 0) return undefined;
      for (const group of index.binpackGroups(policy.weights ?? { cpu: 1, memory: 1 })) {
        const best = firstFitting(group);
        if (best && (!chosen || best.score! > chosen.score! || (best.score === chosen.score && best.node < chosen.node))) chosen = best;
      }
      break;
    default: return undefined;
  }
  if (!chosen) return undefined;
  return { node: chosen.node, policy: policy.name, verdicts, message: `assigned to ${chosen.node} by ${policy.name}` };
}

/** kube-scheduler's wording: each reason counted once per node, most common first. */
export function unschedulableMessage(total: number, verdicts: NodeVerdict[]): string {
  if (total === 0) return '0/0 nodes are available: no nodes exist.';
  const counts = new Map<string, number>();
  for (const v of verdicts) for (const r of v.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r, n]) => `${n} ${r}`);
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}
