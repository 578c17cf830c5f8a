// The last scheduling decision, kept in the pod's status (a kcs field) so
// `kcs describe pod` can show each node's filter result and score, and,
// when the pod preempted others, whom, where and why there.
import type { Decision, NodeVerdict } from './framework.ts';

/**
 * A decision over at most this many nodes is kept whole. Beyond it the
 * record keeps the best-scored nodes that fit (the chosen one first) and
 * the first nodes that did not, HALF of each: enough to see why, small
 * enough that a pod's status stays a few hundred bytes at 10,000 nodes.
 */
export const EXPLAINED_NODES = 20;
const HALF = EXPLAINED_NODES / 2;

export interface PreemptionRecord {
  /** The node nominated for the pod: where its victims were. */
  node: string;
  /** Why that node: "node n2: 2 victims of max priority 100 (n1 would need 3 victims of max priority 100)". */
  reason: string;
  /** Each victim, most important first, and what became of it. */
  victims: Array<{ pod: string; uid: string; priority: number; outcome: 'deleted' | 'unbound' }>;
}

export interface SchedulingRecord {
  policy: string;
  node?: string;
  nodes: Array<{ name: string; fits: boolean; reasons?: string[]; score?: number }>;
  /** Nodes left out of `nodes`: past EXPLAINED_NODES, or not examined by an indexed decision. */
  omitted?: number;
  /** Set when the pod fitted nowhere and evicted pods of lower priority to make room. */
  preemption?: PreemptionRecord;
}

/**
 * A filter's reason in full for one node, where the short reason (counted
 * in "0/5 nodes are available: ...") leaves out what only that node has:
 * when the pod failed its health check there.
 */
export type ReasonDetail = (node: string, reason: string) => string;

export function explain(d: Decision, totalNodes = d.verdicts.length, detail?: ReasonDetail): SchedulingRecord {
  let kept = d.verdicts;
  if (kept.length > EXPLAINED_NODES) {
    // sort is stable: equal scores stay in the snapshot's order, as the decision broke ties.
    const fits = kept.filter((v) => !v.reasons.length).sort((a, b) => b.score! - a.score!).slice(0, HALF);
    kept = [...fits, ...representative(kept.filter((v) => v.reasons.length), EXPLAINED_NODES - fits.length)];
  }
  const nodes = kept.map((v) => (v.reasons.length
    ? { name: v.node, fits: false, reasons: detail ? v.reasons.map((r) => detail(v.node, r)) : v.reasons }
    : { name: v.node, fits: true, score: v.score }));
  const omitted = totalNodes - nodes.length;
  return { policy: d.policy, ...(d.node ? { node: d.node } : {}), nodes, ...(omitted > 0 ? { omitted } : {}) };
}

/** Up to n refused nodes: one for each different reason first, then the rest in order. */
function representative(refused: NodeVerdict[], n: number): NodeVerdict[] {
  const chosen = new Set<NodeVerdict>();
  const reasons = new Set<string>();
  for (const v of refused) {
    if (chosen.size >= n) break;
    const key = v.reasons.join('; ');
    if (reasons.has(key)) continue;
    reasons.add(key);
    chosen.add(v);
  }
  for (const v of refused) {
    if (chosen.size >= n) break;
    chosen.add(v);
  }
  return refused.filter((v) => chosen.has(v));
}
