// A filter/score framework in the spirit of kube-scheduler's: filters say
// whether a pod may go on a node and, if not, why (a reason a person reads);
// one score plugin (the policy) ranks the nodes that passed. Reasons are
// data, which is what makes "0/5 nodes are available: 3 Insufficient cpu,
// 2 NotReady" possible.
import type { Resources } from '../objects/requests.ts';
import type { Pod } from '../objects/types.ts';
import type { NodeInfo, Snapshot } from './snapshot.ts';

export interface PodRequest {
  pod: Pod;
  requests: Resources;
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

/** kube-scheduler's wording: each reason counted once per node, most common first. */
export function unschedulableMessage(total: number, verdicts: NodeVerdict[]): string {
  if (total === 0) return '0/0 nodes are available: no nodes exist.';
  const counts = new Map<string, number>();
  for (const v of verdicts) for (const r of v.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r, n]) => `${n} ${r}`);
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}
