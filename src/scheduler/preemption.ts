// Preemption as kube-scheduler's DefaultPreemption plugin does it (its
// PostFilter), without I/O: for a pod that fits on no node, which pods of
// lower priority to evict, and on which node.
//
// On each node where evicting could help, every pod of lower priority is
// taken off; if the pod still does not fit, the node is no candidate.
// Otherwise they are put back one at a time, the most important first
// (highest priority, then the earliest started), each kept ("reprieved")
// if the pod still fits: what is left are the victims, as few and as
// unimportant as this greedy pass finds. Of the candidate nodes the one
// chosen has (PodDisruptionBudgets aside, which kcs does not have) the
// lowest highest-victim priority, then the smallest sum of victim
// priorities, then the fewest victims, then the latest-started most
// important victims, then the first in name order.
import type { Resources } from '../objects/requests.ts';
import type { Pod } from '../objects/types.ts';
import type { FilterPlugin, PodRequest } from './framework.ts';
import { moreImportantFirst, podPriority, startedAt } from './priority.ts';
import type { NodeInfo } from './snapshot.ts';

export interface PodOnNode {
  pod: Pod;
  requests: Resources;
  priority: number;
}

export interface Candidate {
  node: string;
  /** Most important first. */
  victims: PodOnNode[];
}

/** kube-scheduler's wording for a node where evicting lower-priority pods would not make room. */
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
/** ... and for a node refused for something eviction cannot change (not Ready, cordoned, selector). */
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/**
 * The victims on one node, or undefined when evicting every pod of lower
 * priority would still not make the pod fit. `leaving` are pods already on
 * their way out (victims of an earlier preemption): their room counts as
 * free, and they are no victims again.
 */
export function selectVictims(req: PodRequest, info: NodeInfo, pods: PodOnNode[], filters: FilterPlugin[], leaving: PodOnNode[] = []): PodOnNode[] | undefined {
  const priority = podPriority(req.pod);
  const lower = pods.filter((p) => p.priority < priority);
  const trial: NodeInfo = { ...info, allocated: { ...info.allocated } };
  for (const p of [...leaving, ...lower]) release(trial, p.requests);
  if (!fits(req, trial, filters)) return undefined;
  const victims: PodOnNode[] = [];
  for (const p of lower.sort((a, b) => moreImportantFirst(a.pod, b.pod))) {
    take(trial, p.requests);
    if (fits(req, trial, filters)) continue; // reprieved
    release(trial, p.requests);
    victims.push(p);
  }
  return victims;
}

/** The candidate kube-scheduler would pick; undefined for none. */
export function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) if (!best || compareCandidates(c, best) < 0) best = c;
  return best;
}

/** Negative when a is the better node to preempt on; the candidates in this order are kube-scheduler's preference. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  return highestPriority(a) - highestPriority(b)
    || offsetSum(a) - offsetSum(b)
    || a.victims.length - b.victims.length
    || earliestStartOfMostImportant(b) - earliestStartOfMostImportant(a)
    || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}

/** The highest priority among the victims; none is lower than any. */
export function highestPriority(c: Candidate): number {
  return c.victims.length ? c.victims[0]!.priority : Number.NEGATIVE_INFINITY;
}

/**
 * The sum of the victims' priorities, each raised by 2^31 as
 * kube-scheduler does so that negative priorities cannot make more victims
 * look cheaper than fewer.
 */
function offsetSum(c: Candidate): number {
  return c.victims.reduce((sum, v) => sum + v.priority + 2 ** 31, 0);
}

/** When the earliest-started of the most important victims started: the later, the less work is lost. */
function earliestStartOfMostImportant(c: Candidate): number {
  const top = highestPriority(c);
  let earliest = Number.POSITIVE_INFINITY;
  for (const v of c.victims) if (v.priority === top) earliest = Math.min(earliest, startedAt(v.pod));
  return earliest;
}

/** "node n2: 2 victims of max priority 100 (n1 would need 3 of max priority 100)": why this node. */
export function describeChoice(chosen: Candidate, candidates: Candidate[]): string {
  const others = candidates.filter((c) => c !== chosen).sort(compareCandidates);
  const head = `node ${chosen.node}: ${victimsOf(chosen)}`;
  if (!others.length) return `${head} (the only node where preemption helps)`;
  const shown = others.slice(0, 3).map((c) => `${c.node} would need ${victimsOf(c)}`);
  const more = others.length > shown.length ? `; ${others.length - shown.length} more candidate nodes` : '';
  return `${head} (${shown.join('; ')}${more})`;
}

function victimsOf(c: Candidate): string {
  const n = c.victims.length;
  if (!n) return 'no more victims (room already being freed)';
  return `${n} victim${n === 1 ? '' : 's'} of max priority ${highestPriority(c)}`;
}

function fits(req: PodRequest, info: NodeInfo, filters: FilterPlugin[]): boolean {
  for (const f of filters) if (f.filter(req, info) !== undefined) return false;
  return true;
}

function release(info: NodeInfo, r: Resources): void {
  info.allocated.milliCpu -= r.milliCpu;
  info.allocated.memory -= r.memory;
  info.allocated.pods -= 1;
}

function take(info: NodeInfo, r: Resources): void {
  info.allocated.milliCpu += r.milliCpu;
  info.allocated.memory += r.memory;
  info.allocated.pods += 1;
}

/** Reasons eviction can change: the pod lacks room there. Any other (NotReady, cordoned, selector, failed there) it cannot. */
const RESOLVABLE = new Set(['Too many pods', 'Insufficient cpu', 'Insufficient memory']);

/**
 * kube-scheduler stops its search once it has this many candidates: 10% of
 * the nodes, at least 100 (all of a smaller cluster).
 */
export function candidateLimit(nodes: number): number {
  return Math.min(nodes, Math.max(100, Math.floor(nodes / 10)));
}

export interface NodePods {
  pods: PodOnNode[];
  leaving: PodOnNode[];
}

export interface CandidateSearch {
  candidates: Candidate[];
  /** Why each node examined is no candidate (for the message when there is none). */
  refused: Array<{ node: string; reasons: string[] }>;
}

/**
 * The candidate nodes, in the order of the verdicts of the decision that
 * found no node (name order), until `limit` are found. Only nodes refused
 * for want of room are searched.
 */
export function findCandidates(
  req: PodRequest, verdicts: Array<{ node: string; reasons: string[] }>, infoOf: (node: string) => NodeInfo | undefined,
  podsOn: (node: string) => NodePods, filters: FilterPlugin[], limit = candidateLimit(verdicts.length),
): CandidateSearch {
  const candidates: Candidate[] = [];
  const refused: CandidateSearch['refused'] = [];
  for (const v of verdicts) {
    if (candidates.length >= limit) break;
    const info = infoOf(v.node);
    if (!info || !v.reasons.length || !v.reasons.every((r) => RESOLVABLE.has(r))) {
      refused.push({ node: v.node, reasons: [NOT_HELPFUL] });
      continue;
    }
    const { pods, leaving } = podsOn(v.node);
    const victims = selectVictims(req, info, pods, filters, leaving);
    if (victims) candidates.push({ node: v.node, victims });
    else refused.push({ node: v.node, reasons: [NO_VICTIMS] });
  }
  return { candidates, refused };
}
