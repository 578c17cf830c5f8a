// The autoscaler: keeps each NodePool between its min and max nodes, as
// cluster-autoscaler keeps a node group.
// - Up: pods the scheduler found no room for (PodScheduled=False,
//   Unschedulable) that a node made from the pool's template would hold get
//   as many new nodes as they need at once (autoscaling.ts packs them), up
//   to max; and, if the pool sets a CPU target, one more node when its
//   average use stays above it for the window.
// - Down: a node whose requests (and CPU use) stay under the threshold for
//   the unneeded time, whose pods all fit on the other nodes, is cordoned,
//   emptied as `kcs drain` empties a node (bare pods move, owned pods are
//   deleted for their owner to replace), then deleted; never below min.
// Every decision is an Event on the pool that says why, and its status says
// current, ready and desired nodes. One pass looks at every pool in name
// order, so pods one pool takes are not counted again by the next.
import { buildEvent, type EventRecorder } from '../client/events.ts';
import type { Informer, InformerHandlers } from '../client/informer.ts';
import type { KcsClient } from '../client/interface.ts';
import { unbindPods } from '../client/unbind.ts';
import { isFinished, isNodeReady } from '../objects/conditions.ts';
import { kindByName } from '../objects/kinds.ts';
import { nodeCapacity } from '../objects/requests.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { describeTemplate, estimateScaleUp, podsFitElsewhere, requestedShare, stillUnschedulable, templateNode, type NodePoolSpec } from '../scheduler/autoscaling.ts';
import { buildSnapshot, type NodeInfo } from '../scheduler/snapshot.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';
import type { NodePoolMetrics } from '../util/metrics.ts';
import type { Reconciler } from './runner.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const NODEPOOL = kindByName('NodePool')!;

/** Set on a node the autoscaler is removing: when it began and why. */
export const SCALE_DOWN_ANNOTATION = 'kcs.io/scale-down';

export interface NodePool extends KubeObject {
  spec: NodePoolSpec;
  status?: { currentNodes?: number; readyNodes?: number; desiredNodes?: number; lastScaleUpTime?: string; lastScaleDownTime?: string; message?: string };
}

export interface AutoscalerOptions {
  client: KcsClient;
  pools: Informer<NodePool>;
  nodes: Informer<Node>;
  pods: Informer<Pod>;
  events: EventRecorder;
  clock?: Clock;
  /** A node's CPU use now (millicores), where this process knows it: for CPU targets and scale-down. */
  cpuUsage?: (node: string) => number | undefined;
  /** Where decisions and pool sizes are counted (/metrics). */
  metrics?: NodePoolMetrics;
  log?: (message: string) => void;
}

/** The one key: a pass over every pool. */
export const AUTOSCALER_KEY = 'nodepools';
/** How long a pass waits after a pod is found unschedulable, for the others found with it. */
export const AUTOSCALER_BATCH_MS = 250;

/** A node made for a pool that is not Ready after this long no longer counts as on its way. */
const PROVISIONING_MS = 5 * 60_000;

const DEFAULTS = { utilizationThreshold: 50, unneededSeconds: 600, delayAfterAddSeconds: 600, windowSeconds: 60 };

function isUnschedulable(pod: Pod): boolean {
  if (pod.spec.nodeName || pod.metadata.deletionTimestamp || isFinished(pod)) return false;
  return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') ?? false;
}

const ownedBy = (obj: KubeObject, pool: NodePool) => (obj.metadata.ownerReferences ?? []).some((r) => r.kind === 'NodePool' && r.uid === pool.metadata.uid);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class AutoscalerController implements Reconciler {
  readonly name = 'autoscaler';
  private readonly opts: AutoscalerOptions;
  private readonly clock: Clock;
  /** Since when each node has been unneeded (in memory: a restart starts the count again, as cluster-autoscaler's does). */
  private readonly unneededSince = new Map<string, number>();
  /** Since when each pool's CPU use has been above its target. */
  private readonly hotSince = new Map<string, number>();
  /** The last "cannot scale" message per pool, so it is said once, not every pass. */
  private readonly lastRefusal = new Map<string, string>();
  /** Pools whose size /metrics shows, to drop once they are deleted. */
  private readonly measured = new Set<string>();
  /**
   * Nodes this controller made that its node informer may not show yet: a
   * pass right after a scale-up must count them, or it asks for them again.
   */
  private readonly made = new Map<string, Node>();

  constructor(opts: AutoscalerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** A pass is due when a pod is found unschedulable or leaves a node, and when nodes or pools change. */
  podHandlers(enqueue: () => void): InformerHandlers<Pod> {
    return {
      update: (prev, pod) => { if ((isUnschedulable(pod) && !isUnschedulable(prev!)) || (prev?.spec.nodeName && !pod.spec.nodeName)) enqueue(); },
      delete: (pod) => { if (pod.spec.nodeName) enqueue(); },
    };
  }

  objectHandlers<T extends KubeObject>(enqueue: () => void): InformerHandlers<T> {
    return { add: enqueue, update: enqueue, delete: enqueue };
  }

  async reconcile(): Promise<void> {
    const pools = this.opts.pools.list().filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    for (const gone of [...this.measured].filter((name) => !pools.some((p) => p.metadata.name === name))) {
      this.opts.metrics?.forget(gone);
      this.measured.delete(gone);
    }
    if (!pools.length) return;
    const nodes = this.opts.nodes.list();
    const pods = this.opts.pods.list();
    const snapshot = buildSnapshot(nodes, pods);
    let pending = stillUnschedulable(pods.filter(isUnschedulable), snapshot.nodes);
    for (const pool of pools) {
      const taken = await this.reconcilePool(pool, nodes, pods, snapshot.nodes, pending);
      if (taken.size) pending = pending.filter((p) => !taken.has(p.metadata.uid!));
    }
  }

  /** One pool: grow, or shrink, then say so in its status. Answers the pending pods it took. */
  private async reconcilePool(pool: NodePool, nodes: Node[], pods: Pod[], infos: NodeInfo[], pending: Pod[]): Promise<Set<string>> {
    const name = pool.metadata.name!;
    const spec = pool.spec;
    const min = spec.minNodes ?? 0;
    const seen = nodes.filter((n) => ownedBy(n, pool));
    for (const n of seen) this.made.delete(n.metadata.name!);
    const now = this.clock.now().getTime();
    for (const [made, n] of this.made) if (now - Date.parse(n.metadata.creationTimestamp ?? '') >= PROVISIONING_MS) this.made.delete(made);
    const unseen = [...this.made.values()].filter((n) => ownedBy(n, pool) && now - Date.parse(n.metadata.creationTimestamp ?? '') < PROVISIONING_MS);
    const mine = [...seen, ...unseen].filter((n) => !n.metadata.deletionTimestamp);
    const status = { ...pool.status };
    let desired = mine.length;
    const taken = new Set<string>();

    // Up to min, at once.
    if (mine.length < min) {
      desired = await this.scaleUp(pool, mine.length, min - mine.length, `below its minimum of ${min}`, status);
    } else {
      // Up for pods that fit nowhere but would fit a new node; nodes on their way count first.
      const infoOf = new Map([...infos, ...buildSnapshot(unseen, []).nodes].map((i) => [i.name, i]));
      const upcoming = mine.filter((n) => !isNodeReady(n) && now - Date.parse(n.metadata.creationTimestamp ?? '') < PROVISIONING_MS).flatMap((n) => infoOf.get(n.metadata.name!) ?? []);
      const estimate = estimateScaleUp(name, spec, pending, upcoming);
      for (const pod of estimate.helped) taken.add(pod.metadata.uid!);
      const room = spec.maxNodes - mine.length;
      const add = Math.min(estimate.nodes, room);
      if (add > 0) {
        const why = `${plural(estimate.needNew, 'pod')} unschedulable, each fits a ${describeTemplate(spec)}${add < estimate.nodes ? ` (they need ${estimate.nodes}; the pool's max is ${spec.maxNodes})` : ''}`;
        desired = await this.scaleUp(pool, mine.length, add, why, status);
      } else if (estimate.nodes > 0) {
        await this.refuse(pool, `${plural(estimate.needNew, 'pod')} unschedulable would fit a ${describeTemplate(spec)}, but nodepool/${name} is at its max of ${spec.maxNodes}`);
      } else if (estimate.helped.length === 0) {
        const grown = await this.scaleUpForCpu(pool, mine, status);
        if (grown === 'hot') { /* busy: no node is unneeded now */ } else if (grown) desired = grown;
        else if (await this.scaleDown(pool, mine, pods, infos, status)) desired = mine.length - 1;
      }
    }
    const desiredNodes = Math.max(min, Math.min(spec.maxNodes, desired));
    this.opts.metrics?.sized(name, { current: mine.length, desired: desiredNodes });
    this.measured.add(name);
    await this.writeStatus(pool, { ...status, currentNodes: mine.length, readyNodes: mine.filter(isNodeReady).length, desiredNodes });
    return taken;
  }

  /** Makes count nodes from the template; answers the pool's new size. */
  private async scaleUp(pool: NodePool, from: number, count: number, why: string, status: NonNullable<NodePool['status']>): Promise<number> {
    const name = pool.metadata.name!;
    const template = templateNode(name, pool.spec);
    let made = 0;
    for (let i = 0; i < count; i++) {
      try {
        const { body } = await this.opts.client.create<Node>(NODE, undefined, {
          apiVersion: 'v1', kind: 'Node',
          metadata: {
            generateName: `${name}-`,
            labels: template.metadata.labels,
            ...(pool.spec.template.metadata?.annotations ? { annotations: { ...pool.spec.template.metadata.annotations } } : {}),
            ownerReferences: [{ apiVersion: NODEPOOL.apiVersion, kind: 'NodePool', name, uid: pool.metadata.uid!, controller: true, blockOwnerDeletion: true }],
          },
          spec: { capacity: { ...pool.spec.template.spec.capacity } },
        });
        this.made.set(body.metadata.name!, body);
        made++;
      } catch (err) {
        this.opts.log?.(`autoscaler: cannot add a node to nodepool/${name}: ${(err as Error).message}`);
        break;
      }
    }
    if (made === 0) return from;
    const message = `scaled up nodepool/${name} from ${from} to ${from + made}: ${why}`;
    status.lastScaleUpTime = rfc3339(this.clock.now());
    status.message = message;
    await this.opts.events.record(pool, 'Normal', 'ScaledUp', message);
    this.lastRefusal.delete(name);
    this.opts.metrics?.decided(name, 'up');
    return from + made;
  }

  private async refuse(pool: NodePool, message: string): Promise<void> {
    const name = pool.metadata.name!;
    if (this.lastRefusal.get(name) === message) return;
    this.lastRefusal.set(name, message);
    await this.opts.events.record(pool, 'Warning', 'NotScaledUp', message);
  }

  /**
   * One more node when the pool's average CPU use stayed above its target
   * for the window: answers the new size, 'hot' while above the target (not
   * yet for long enough, or at max), false otherwise.
   */
  private async scaleUpForCpu(pool: NodePool, mine: Node[], status: NonNullable<NodePool['status']>): Promise<number | 'hot' | false> {
    const target = pool.spec.scaleUp?.cpuUtilizationTarget;
    const name = pool.metadata.name!;
    if (target === undefined || !this.opts.cpuUsage) return false;
    const ready = mine.filter(isNodeReady);
    let used = 0;
    let capacity = 0;
    for (const n of ready) {
      const u = this.opts.cpuUsage(n.metadata.name!);
      if (u === undefined) continue;
      used += u;
      capacity += nodeCapacity(n).milliCpu;
    }
    const share = capacity > 0 ? (used / capacity) * 100 : 0;
    const now = this.clock.now().getTime();
    if (capacity === 0 || share <= target) {
      this.hotSince.delete(name);
      return false;
    }
    const since = this.hotSince.get(name) ?? now;
    this.hotSince.set(name, since);
    const windowMs = (pool.spec.scaleUp?.windowSeconds ?? DEFAULTS.windowSeconds) * 1000;
    if (now - since < windowMs) return 'hot';
    if (mine.length >= pool.spec.maxNodes) {
      await this.refuse(pool, `nodepool/${name} uses ${Math.round(share)}% of its CPU (target ${target}%), but is at its max of ${pool.spec.maxNodes}`);
      return 'hot';
    }
    this.hotSince.delete(name);
    return this.scaleUp(pool, mine.length, 1, `its average CPU use was ${Math.round(share)}% for ${windowMs / 1000}s, above its target of ${target}%`, status);
  }

  /** Removes at most one unneeded node a pass; answers whether it did. */
  private async scaleDown(pool: NodePool, mine: Node[], pods: Pod[], infos: NodeInfo[], status: NonNullable<NodePool['status']>): Promise<boolean> {
    const name = pool.metadata.name!;
    const down = { ...DEFAULTS, ...pool.spec.scaleDown };
    const now = this.clock.now().getTime();
    const mineNames = new Set(mine.map((n) => n.metadata.name!));
    for (const node of this.unneededSince.keys()) if (!mineNames.has(node) && node.startsWith(`${name}-`)) this.unneededSince.delete(node);
    // A removal begun before (this process stopped half-way) is finished first.
    const begun = mine.find((n) => n.metadata.annotations?.[SCALE_DOWN_ANNOTATION]);
    if (begun) return this.remove(pool, begun, pods, mine.length, begun.metadata.annotations![SCALE_DOWN_ANNOTATION]!, status);
    if (pool.spec.scaleDown?.enabled === false || mine.length <= (pool.spec.minNodes ?? 0)) return false;
    const lastUp = Date.parse(status.lastScaleUpTime ?? '');
    const settling = Number.isFinite(lastUp) && now - lastUp < down.delayAfterAddSeconds * 1000;
    const byName = new Map(infos.map((i) => [i.name, i]));
    const candidates: Array<{ node: Node; info: NodeInfo; share: number }> = [];
    for (const node of mine) {
      const info = byName.get(node.metadata.name!);
      if (!info || !isNodeReady(node) || node.spec.unschedulable) continue;
      const usage = this.opts.cpuUsage?.(info.name);
      const share = Math.max(requestedShare(info), usage !== undefined && info.capacity.milliCpu > 0 ? usage / info.capacity.milliCpu : 0);
      if (share * 100 >= down.utilizationThreshold) {
        this.unneededSince.delete(info.name);
        continue;
      }
      if (!this.unneededSince.has(info.name)) this.unneededSince.set(info.name, now);
      if (now - this.unneededSince.get(info.name)! >= down.unneededSeconds * 1000) candidates.push({ node, info, share });
    }
    if (settling || !candidates.length) return false;
    candidates.sort((a, b) => a.share - b.share || a.info.name.localeCompare(b.info.name));
    for (const { node, info, share } of candidates) {
      const others = infos.filter((i) => i.name !== info.name && i.ready && !i.unschedulable && !i.node.metadata.annotations?.[SCALE_DOWN_ANNOTATION]);
      const onNode = pods.filter((p) => p.spec.nodeName === info.name && !isFinished(p));
      if (!podsFitElsewhere(onNode, others).fits) continue;
      const why = `node ${info.name} was under ${down.utilizationThreshold}% (${Math.round(share * 100)}%) for ${down.unneededSeconds}s and its ${plural(onNode.length, 'pod')} fit elsewhere`;
      return this.remove(pool, node, pods, mine.length, why, status);
    }
    return false;
  }

  /** Cordon, empty as kcs drain does, delete: the node controller then removes its machine. */
  private async remove(pool: NodePool, node: Node, pods: Pod[], from: number, why: string, status: NonNullable<NodePool['status']>): Promise<boolean> {
    const name = pool.metadata.name!;
    const nodeName = node.metadata.name!;
    const client = this.opts.client;
    if (!node.metadata.annotations?.[SCALE_DOWN_ANNOTATION] || !node.spec.unschedulable) {
      await client.patch(NODE, undefined, nodeName, { metadata: { annotations: { [SCALE_DOWN_ANNOTATION]: why } }, spec: { unschedulable: true } });
    }
    const onNode = pods.filter((p) => p.spec.nodeName === nodeName && !isFinished(p));
    const owned = onNode.filter((p) => p.metadata.ownerReferences?.some((r) => r.controller));
    const bare = onNode.filter((p) => !owned.includes(p));
    const at = this.clock.now();
    await unbindPods(client, bare, `${nodeName} was scaled down`, (pod) => buildEvent(pod, 'Normal', 'ScaleDown', `pod ${pod.metadata.name} unbound from ${nodeName}: the node is removed by nodepool/${name}; the scheduler places it again`, { at, component: 'autoscaler' }));
    for (const pod of owned) await client.delete(POD, pod.metadata.namespace, pod.metadata.name!).catch(() => undefined);
    await client.delete(NODE, undefined, nodeName);
    this.unneededSince.delete(nodeName);
    const message = `scaled down nodepool/${name} from ${from} to ${from - 1}: ${why}`;
    await this.opts.events.record(pool, 'Normal', 'ScaledDown', message);
    this.opts.metrics?.decided(name, 'down');
    status.lastScaleDownTime = rfc3339(at);
    status.message = message;
    return true;
  }

  private async writeStatus(pool: NodePool, status: NonNullable<NodePool['status']>): Promise<void> {
    const before = pool.status ?? {};
    const same = (Object.keys(status) as Array<keyof typeof status>).every((k) => status[k] === before[k]);
    if (same) return;
    try {
      await this.opts.client.update(NODEPOOL, undefined, pool.metadata.name!, { ...pool, status }, { subresource: 'status' });
    } catch (err) {
      // Changed meanwhile: the next pass writes it from the newer pool.
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}
