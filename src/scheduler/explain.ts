// The last scheduling decision, kept in the pod's status (a kcs field) so
// `kcs describe pod` can show each node's filter result and score.
import type { Decision } from './framework.ts';

/** Most nodes a pod's status explains; the message counts them all. */
export const EXPLAINED_NODES = 100;

export interface SchedulingRecord {
  policy: string;
  node?: string;
  nodes: Array<{ name: string; fits: boolean; reasons?: string[]; score?: number }>;
  /** Nodes left out of `nodes`: beyond EXPLAINED_NODES, or not examined by an indexed decision. */
  omitted?: number;
}

export function explain(d: Decision, totalNodes = d.verdicts.length): SchedulingRecord {
  const nodes = d.verdicts.slice(0, EXPLAINED_NODES).map((v) => (v.reasons.length ? { name: v.node, fits: false, reasons: v.reasons } : { name: v.node, fits: true, score: v.score }));
  const omitted = totalNodes - nodes.length;
  return { policy: d.policy, ...(d.node ? { node: d.node } : {}), nodes, ...(omitted > 0 ? { omitted } : {}) };
}
