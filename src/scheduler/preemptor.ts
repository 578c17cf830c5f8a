// The scheduler's PostFilter step: for a pod that fits on no node, find
// the victims and the node (preemption.ts), hold the room for the pod
// (its nomination), evict the victims (evict.ts), and say what was done
// for the decision record. Only pods that fit nowhere come here, and only
// when some pod of lower priority runs at all, so a cluster of equal
// priorities never pays for the search.
import { isFinished } from '../objects/conditions.ts';
import { podRequests } from '../objects/requests.ts';
import type { Pod } from '../objects/types.ts';
import type { Clock } from '../util/clock.ts';
import type { KcsClient } from '../client/interface.ts';
import type { EventRecorder } from '../client/events.ts';
import { updateStatus } from '../client/update-status.ts';
import { kindByName } from '../objects/kinds.ts';
import type { SchedulerCache } from './cache.ts';
import { evictVictims } from './evict.ts';
import type { PreemptionRecord, SchedulingRecord } from './explain.ts';
import { unschedulableMessage, type Decision, type FilterPlugin, type PodRequest } from './framework.ts';
import { describeChoice, findCandidates, pickCandidate, type NodePods, type PodOnNode } from './preemption.ts';
import { neverPreempts, podPriority } from './priority.ts';
import type { Snapshot } from './snapshot.ts';

const POD = kindByName('Pod')!;

export interface PreemptorOptions {
  client: KcsClient;
  cache: SchedulerCache;
  clock: Clock;
  events?: EventRecorder;
  /** The pods bound to a node, as the informer shows them. */
  podsOn: (node: string) => Pod[];
  /** A pod by its key (namespace/name), as the informer shows it. */
  podByKey: (key: string) => Pod | undefined;
}

export interface PreemptionOutcome {
  /** What was done, for the decision record; none when nothing was. */
  record?: PreemptionRecord;
  /** Why not, in kube-scheduler's words, for the Unschedulable message ("preemption: 0/3 nodes are available: ..."). */
  message?: string;
  /** How many pods this attempt evicted (absent when it was not attempted, or only repeated an earlier one). */
  evicted?: number;
}

export class Preemptor {
  private readonly opts: PreemptorOptions;

  constructor(opts: PreemptorOptions) {
    this.opts = opts;
  }

  /** decision: the one that found no node, over every node of the snapshot (its verdicts name each). */
  async preempt(req: PodRequest, decision: Decision, snapshot: Snapshot, filters: FilterPlugin[], schedulerName: string): Promise<PreemptionOutcome> {
    const { pod } = req;
    const priority = podPriority(pod);
    if (priority <= this.opts.cache.lowestPriority()) return {}; // no pod of lower priority runs anywhere
    if (neverPreempts(pod)) return { message: 'preemption: not eligible due to preemptionPolicy=Never.' };
    const search = findCandidates(req, decision.verdicts, (n) => snapshot.byName.get(n), (n) => this.podsOn(n), filters);
    const chosen = pickCandidate(search.candidates);
    if (!chosen) return { message: `preemption: ${unschedulableMessage(snapshot.nodes.length, search.refused)}` };

    // Asked again before its victims are seen gone: nothing more to evict, and the record of whom it evicted stands.
    const earlier = (pod.status?.scheduling as SchedulingRecord | undefined)?.preemption;
    if (!chosen.victims.length && earlier?.node === chosen.node && pod.status?.nominatedNodeName === chosen.node) return { record: earlier };

    // The room is held for the pod from now on: nothing of lower priority decided after this takes it.
    const uid = pod.metadata.uid!;
    const cache = this.opts.cache;
    cache.nominations.set({ uid, key: `${pod.metadata.namespace}/${pod.metadata.name}`, node: chosen.node, requests: req.requests, priority });
    await this.dropLowerNominations(chosen.node, priority);
    const done = await evictVictims(chosen.victims.map((v) => v.pod), pod, chosen.node, { client: this.opts.client, clock: this.opts.clock, events: this.opts.events, schedulerName });
    // Their room is as good as free: what the informer and the ledger still show of them is on its way out.
    for (const v of done.keys()) cache.markEvicted(v.metadata.uid!, chosen.node);
    return {
      evicted: done.size,
      record: {
        node: chosen.node,
        reason: describeChoice(chosen, search.candidates),
        victims: chosen.victims.filter((v) => done.has(v.pod)).map((v) => ({
          pod: `${v.pod.metadata.namespace}/${v.pod.metadata.name}`, uid: v.pod.metadata.uid!, priority: v.priority, outcome: done.get(v.pod)!,
        })),
      },
    };
  }

  /** Bound pods of the node, split into those still there and those already evicted (or being deleted). */
  private podsOn(node: string): NodePods {
    const pods: PodOnNode[] = [];
    const leaving: PodOnNode[] = [];
    for (const pod of this.opts.podsOn(node)) {
      if (isFinished(pod)) continue;
      const entry = { pod, requests: podRequests(pod), priority: podPriority(pod) };
      (pod.metadata.deletionTimestamp || this.opts.cache.wasEvictedFrom(pod.metadata.uid!, node) ? leaving : pods).push(entry);
    }
    return { pods, leaving };
  }

  /**
   * As kube-scheduler does: pods of lower priority nominated to the node may
   * no longer fit there, so they lose their nomination (and look again).
   */
  private async dropLowerNominations(node: string, priority: number): Promise<void> {
    for (const n of this.opts.cache.nominations.onNode(node)) {
      if (n.priority >= priority) continue;
      this.opts.cache.nominations.delete(n.uid);
      const pod = this.opts.podByKey(n.key);
      if (!pod || pod.metadata.uid !== n.uid || !pod.status?.nominatedNodeName) continue;
      await updateStatus<Pod>(this.opts.client, POD, pod.metadata.namespace, pod.metadata.name!, (current) => {
        if (current.metadata.uid !== n.uid || current.status?.nominatedNodeName !== node) return undefined;
        const { nominatedNodeName: _dropped, ...status } = current.status;
        return status;
      }).catch(() => { /* gone or changed: its next decision sees to it */ });
    }
  }
}
