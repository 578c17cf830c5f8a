// Carries out a preemption the scheduler decided (preemption.ts): each
// victim is marked with the DisruptionTarget condition (reason
// PreemptionByScheduler, as Kubernetes 1.26+ writes it) and gets a
// Preempted event naming the pod that preempted it and where. Then a pod a
// controller owns is deleted, as Kubernetes deletes every victim: its
// controller makes a replacement. A bare pod has no one to make it again,
// so it is unbound back to Pending (kcs's rule for bare pods, as drain and
// node failover do) for the scheduler to place elsewhere.
import { isNotFound, isConflict, type KcsClient } from '../client/interface.ts';
import type { EventRecorder } from '../client/events.ts';
import { unbindPods } from '../client/unbind.ts';
import { updateStatus } from '../client/update-status.ts';
import { setCondition } from '../objects/conditions.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Condition, Pod } from '../objects/types.ts';
import type { Clock } from '../util/clock.ts';
import type { PreemptionRecord } from './explain.ts';
import { podPriority } from './priority.ts';

const POD = kindByName('Pod')!;

export interface EvictOptions {
  client: KcsClient;
  clock: Clock;
  events?: EventRecorder;
  /** Who preempts, in the condition's message: "default-scheduler: preempting to accommodate a higher priority pod". */
  schedulerName: string;
}

export type Outcome = PreemptionRecord['victims'][number]['outcome'];

/** Whether a controller owns the pod (it will make another): such a victim is deleted, not moved. */
export function hasController(pod: Pod): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.controller === true);
}

/** Kubernetes' message of the Preempted event, with the preemptor's name and priority added. */
export function preemptedMessage(preemptor: Pod, node: string): string {
  return `Preempted by pod ${preemptor.metadata.uid} on node ${node} (${preemptor.metadata.namespace}/${preemptor.metadata.name}, priority ${podPriority(preemptor)})`;
}

/**
 * Evicts the victims, each at the version the decision read (a victim that
 * changed meanwhile is left to the next decision). Answers the victims
 * evicted and how.
 */
export async function evictVictims(victims: Pod[], preemptor: Pod, node: string, opts: EvictOptions): Promise<Map<Pod, Outcome>> {
  const now = opts.clock.now();
  const disruption: Omit<Condition, 'lastTransitionTime'> = {
    type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler',
    message: `${opts.schedulerName}: preempting to accommodate a higher priority pod`,
  };
  const marked = (p: Pod): Pod => ({ ...p, status: { ...p.status, conditions: setCondition(p.status?.conditions, disruption, now) } });
  const message = preemptedMessage(preemptor, node);
  const done = new Map<Pod, Outcome>();

  // Bare pods: unbound with their condition and event in one commit.
  const bare = victims.filter((v) => !hasController(v));
  const because = `preempted by ${preemptor.metadata.namespace}/${preemptor.metadata.name} (priority ${podPriority(preemptor)}) on ${node}`;
  const events = opts.events;
  const unbound = new Set((await unbindPods(opts.client, bare.map(marked), because, events && ((p) => events.build(p, 'Normal', 'Preempted', message)))).map((p) => p.metadata.uid));
  for (const v of bare) if (unbound.has(v.metadata.uid)) done.set(v, 'unbound');

  for (const v of victims.filter(hasController)) {
    if (await deleteOwned(v, disruption, message, opts)) done.set(v, 'deleted');
  }
  return done;
}

/** Marks the owned victim, tells it why, then deletes that very pod (its uid a precondition). False if it was gone or replaced. */
async function deleteOwned(victim: Pod, disruption: Omit<Condition, 'lastTransitionTime'>, message: string, opts: EvictOptions): Promise<boolean> {
  const { namespace, name, uid } = victim.metadata;
  try {
    await updateStatus<Pod>(opts.client, POD, namespace, name!, (current) => (current.metadata.uid === uid
      ? { ...current.status, conditions: setCondition(current.status?.conditions, disruption, opts.clock.now()) }
      : undefined));
    await opts.events?.record(victim, 'Normal', 'Preempted', message);
    await opts.client.delete(POD, namespace, name!, { preconditions: { uid } });
    return true;
  } catch (err) {
    if (isNotFound(err) || isConflict(err)) return false;
    throw err;
  }
}
