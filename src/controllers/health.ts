// The health controller: a node whose agent stops renewing its Lease for
// longer than the grace period becomes Ready=Unknown, and its pods go back
// to Pending so the scheduler places them on healthy nodes. A node that
// comes back is fenced by construction: its agent reports only the pods the
// API binds to it.
//
// A stall of this process never fails a healthy node. Expiry is pure, as in
// KWOK (renewTime + grace < now), but a node is heard from no earlier than
// the end of the last stretch this process could not observe: its own start
// (a control plane that was down must not hold its downtime against the
// nodes, as Kubernetes' node lifecycle controller gives every node a full
// grace after it restarts) or a stall of its event loop, measured by
// ObservationGaps. Under leader election the controllers are built anew
// each time this process becomes leader, so becoming leader is a start:
// a new leader gives every node a full grace, whatever the old one saw
// (or failed to see) before it. Renewals sent during a stall wait unread on the sockets,
// and after it Node runs the expired timers (this check among them) before
// it reads them; so every node gets a full grace from the end of the gap.
//
// A renewal counts from when it was sent (renewTime) or, if later, from when
// this controller saw it arrive, as Kubernetes' node lifecycle controller
// keeps its own probe timestamp: on a loaded machine a renewal can wait in
// the API server's queue for longer than the heartbeat, and a node whose
// renewals keep arriving, however late, is alive.
import { isDeepStrictEqual } from 'node:util';
import { isNotFound, type KcsClient } from '../client/interface.ts';
import { kindByName, NODE_LEASE_NAMESPACE } from '../objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';
import type { Metrics } from '../util/metrics.ts';
import { setCondition } from '../objects/conditions.ts';
import { updateStatus } from '../client/update-status.ts';
import type { EventRecorder } from '../client/events.ts';
import type { Informer, InformerHandlers } from '../client/informer.ts';
import type { Reconciler, ReconcileResult } from './runner.ts';
import { unbindPods } from '../client/unbind.ts';
import { FailoverTimer } from './failover-timer.ts';
import { ObservationGaps } from './observation-gaps.ts';
import { podsOnNode } from './pods-on-node.ts';

const NODE = kindByName('Node')!;

export interface Lease extends KubeObject {
  spec?: { renewTime?: string; holderIdentity?: string };
}

export const DEFAULT_GRACE_MS = 3_000;

/**
 * How long a node that has never renewed a Lease may take to start, as
 * Kubernetes' nodeStartupGracePeriod (60 s there): a container node starting
 * on a loaded machine can take longer than the heartbeat grace to register,
 * and it has not failed, it has not begun.
 */
export const STARTUP_GRACE_MS = 30_000;

/**
 * When a node was last heard from, as this controller may judge it: its
 * Lease's renewTime, but never before this controller has been observing
 * without a gap (since it started, or since its last stall ended): what it
 * could not see is not held against the nodes.
 */
export function lastHeard(lease: Lease | undefined, node: Node, observingSince: number, renewalSeenAt = 0): number {
  const renew = lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : Date.parse(node.metadata.creationTimestamp ?? '');
  return Math.max(Number.isFinite(renew) ? renew : 0, observingSince, renewalSeenAt);
}

/**
 * How late the loop may run before it counts as a gap: a quarter of the
 * grace. A shorter lag cannot fail a healthy node: with heartbeats at a
 * third of the grace (the defaults, 1 s and 3 s), a renewal read that much
 * late is still well within the grace. Each gap postpones every verdict by
 * a grace, so lags this short must not count.
 */
export function gapToleranceMs(graceMs: number): number {
  return graceMs / 4;
}

/** Pure: has the node missed its heartbeats for longer than the grace period? */
export function heartbeatsMissed(lastHeardMs: number, now: number, graceMs: number): boolean {
  return now - lastHeardMs > graceMs;
}

export interface HealthOptions {
  client: KcsClient;
  nodes: Informer<Node>;
  leases: Informer<Lease>;
  pods: Informer<Pod>;
  graceMs?: number;
  /** The grace of a node that has never renewed a Lease (default STARTUP_GRACE_MS, never less than graceMs). */
  startupGraceMs?: number;
  clock?: Clock;
  events?: EventRecorder;
  /** Where each failover's time (declared failed to its pods bound again) is observed. */
  metrics?: Metrics;
}

export class HealthController implements Reconciler {
  readonly name = 'health';
  private readonly opts: HealthOptions;
  private readonly clock: Clock;
  private readonly graceMs: number;
  /** Watched from construction: the controller's start is the end of its first gap. */
  private readonly gaps: ObservationGaps;
  /** When this controller saw each node's latest renewal arrive (its own clock). */
  private readonly renewalSeen = new Map<string, number>();
  private readonly failovers?: FailoverTimer;

  constructor(opts: HealthOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.gaps = new ObservationGaps(this.clock, { toleranceMs: gapToleranceMs(this.graceMs) });
    const metrics = opts.metrics;
    if (metrics) {
      this.failovers = new FailoverTimer(this.clock, (seconds) => metrics.failoverCompleted(seconds));
      opts.pods.on(this.failovers.podHandlers());
    }
  }

  /** A new node is judged at once; each renewal re-arms the check for its expiry. */
  nodeHandlers(enqueue: (key: string) => void): InformerHandlers<Node> {
    return { add: (n) => enqueue(n.metadata.name!) };
  }

  /** Leases are named after their node, so a Lease key is the node's. */
  leaseHandlers(enqueue: (key: string) => void): InformerHandlers<Lease> {
    return {
      add: (l) => enqueue(l.metadata.name!),
      update: (prev, l) => {
        if (l.spec?.renewTime !== prev.spec?.renewTime) this.renewalSeen.set(l.metadata.name!, this.clock.now().getTime());
        enqueue(l.metadata.name!);
      },
      delete: (l) => { this.renewalSeen.delete(l.metadata.name!); },
    };
  }

  /** Stops watching for gaps (its timer); after the runner has stopped. */
  stop(): void {
    this.gaps.stop();
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const node = this.opts.nodes.get(name);
    if (!node) return;
    const now = this.clock.now().getTime();
    const lease = this.opts.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const heard = lastHeard(lease, node, this.gaps.observingSince(now), this.renewalSeen.get(name));
    const grace = lease ? this.graceMs : Math.max(this.graceMs, this.opts.startupGraceMs ?? STARTUP_GRACE_MS);
    if (!heartbeatsMissed(heard, now, grace)) {
      // Look again exactly when it would expire: no polling.
      return { requeueAfterMs: heard + grace - now + 1 };
    }
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const silentFor = ((now - heard) / 1000).toFixed(1);
    if (ready?.status !== 'Unknown') {
      // The pods about to move leave this node's array first, so no pod ID is
      // in two nodes' arrays at once when their new node reports them.
      const finished = new Set(podsOnNode(this.opts.pods, name).filter((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed').map((p) => p.metadata.uid));
      await this.markUnknown(name, heard, (ids) => ids.filter((id) => finished.has(id)));
      this.failovers?.declared(name, now);
      await this.opts.events?.record(node, 'Warning', 'NodeNotReady', `node ${name} missed heartbeats for ${silentFor} s (last at ${rfc3339(new Date(heard))})`);
      // Let watchers hear of the failure before the eviction, a transaction
      // of up to a thousand pods, holds the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.evictPods(node, silentFor);
  }

  private async markUnknown(name: string, heard: number, keepPods: (ids: string[]) => string[]): Promise<void> {
    try {
      await updateStatus<Node>(this.opts.client, NODE, undefined, name, (n) => {
        const status = n.status ?? {};
        const conditions = setCondition(status.conditions, {
          type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown',
          message: `kcs agent stopped posting node status; last heartbeat at ${rfc3339(new Date(heard))}`,
          lastHeartbeatTime: status.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime,
        }, this.clock.now());
        const next = { ...status, conditions, pods: keepPods(status.pods ?? []) };
        return isDeepStrictEqual(next, status) ? undefined : next;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Every unfinished pod on a failed node goes back to Pending, for the scheduler to move (a thousand pods in one transaction). */
  private async evictPods(node: Node, silentFor: string): Promise<void> {
    const name = node.metadata.name!;
    const because = `${name} missed heartbeats for ${silentFor} s`;
    const events = this.opts.events;
    const onNode = podsOnNode(this.opts.pods, name);
    this.failovers?.moving(name, onNode);
    const moved = await unbindPods(this.opts.client, onNode, because, events && ((pod) => events.build(pod, 'Warning', 'NodeFailed', `pod ${pod.metadata.name} unbound from ${name} after ${because}; the scheduler places it again`)));
    this.failovers?.moved(name, moved);
  }
}
