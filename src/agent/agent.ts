// The node agent: the process inside each node container (or a virtual
// node). It renews its node's Lease every heartbeat, watches the pods bound
// to its node, keeps their IDs, and reports them with the node's status.
// Each heartbeat it also checks its pods' health and reports their
// containers (restarts, CrashLoopBackOff, Ready) in each pod's status, and
// reports what each container uses (its kcs.io/usage profile, usage.ts),
// and what its pods' calls to other Services met (kcs.io/calls).
// It keeps no state of its own: on a restart it rebuilds from the API.
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import { Informer } from '../client/informer.ts';
import { kindByName, NODE_LEASE_NAMESPACE } from '../objects/kinds.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { rfc3339Micro, systemClock, type Clock, type Timer } from '../util/clock.ts';
import { UsageModel } from '../objects/usage.ts';
import { USAGE_REPORT_KIND, type NodeUsageReport } from '../api/usage-report.ts';
import { DEFAULT_RESTART_BACKOFF, nextLifetimeDue, nextPodStatus, type RestartBackoff } from './pod-status.ts';
import { PodAddresses } from './pod-addresses.ts';
import { PodServers } from './pod-servers.ts';
import { PodCallers } from './pod-callers.ts';
import type { Service } from '../objects/services.ts';
import { desiredNodeStatus, statusChanged } from './status.ts';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const LEASE = kindByName('Lease')!;
const SERVICE = kindByName('Service')!;

export interface AgentOptions {
  client: KcsClient;
  /**
   * What Lease renewals go through (default: client). Over HTTP, a client
   * of its own (its own connection, and a timeout shorter than the grace):
   * a node busy confirming a thousand pods still renews on time, and a
   * renewal that hangs fails and is retried instead of stopping heartbeats.
   */
  leaseClient?: KcsClient;
  nodeName: string;
  clock?: Clock;
  /** How often the Lease is renewed (the heartbeat). */
  heartbeatMs?: number;
  /** How often the node status is written even when nothing changed, to refresh its heartbeat time. */
  statusRefreshMs?: number;
  /** How long a container that failed its health check waits before it runs again. */
  restartBackoff?: RestartBackoff;
  /**
   * Turns the pods' computed usage into the node's report (default: as
   * computed). Real load (real-load.ts) burns it in this process and
   * reports what the container's cgroup measured.
   */
  usageSink?: UsageSink;
  log?: (message: string) => void;
}

/** What becomes of the usage computed each heartbeat before it is reported. */
export interface UsageSink {
  /** Given the pods' total demand; answers the node's measured figures, if it measures any. */
  apply(demand: { milliCpu: number; memory: number }): NodeUsageReport['node'];
  stop(): void;
}

/** A Lease annotation with the node's last heartbeats, newest last. */
export const RECENT_HEARTBEATS = 'kcs.io/recent-heartbeats';
const HEARTBEATS_KEPT = 10;
/** A pod this agent has confirmed Running, with a status for each of its containers. */
function settled(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.containerStatuses?.length ?? -1) === pod.spec.containers.length;
}

/** Pod status writes an agent has in flight at once, when they go one by one. */
const POD_WRITES_IN_FLIGHT = 8;
/** How long a lifetime pass that changed nothing waits before it looks again. */
const LIFETIME_RETRY_MS = 200;
/** Pod statuses confirmed in one commit (one request, one store transaction). */
const POD_STATUSES_PER_COMMIT = 250;

/**
 * How long an HTTP agent waits on one renewal before it gives up on it and
 * tries again: for a renewal that hangs (a connection that died without a
 * word), not for one that is merely slow. A loaded API server may take
 * seconds to answer, and a renewal given up on is usually written anyway:
 * giving up after 2 s made every next renewal conflict, re-read and time
 * out in turn, and a busy node went 6 s without one reaching the API.
 */
export function leaseTimeoutMs(heartbeatMs: number): number {
  return Math.max(10_000, 5 * heartbeatMs);
}

interface PodWrite { pod: Pod; status: NonNullable<Pod['status']> }

/** A pod's status write in a commit: the whole status, as a merge patch of the agent's fields would leave it. */
function podStatusOp({ pod, status }: PodWrite) {
  return { verb: 'update' as const, kind: POD, subresource: 'status' as const, object: { ...pod, status: { ...pod.status, ...status } } };
}

export function appendHeartbeat(list: string | undefined, at: string): string {
  return [...(list ? list.split(',') : []), at].slice(-HEARTBEATS_KEPT).join(',');
}

interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
}

export class NodeAgent {
  readonly nodeName: string;
  private readonly client: KcsClient;
  private readonly leaseClient: KcsClient;
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly statusRefreshMs: number;
  private readonly restartBackoff: RestartBackoff;
  private readonly log: (message: string) => void;
  private readonly nodeInformer: Informer<Node>;
  private readonly podInformer: Informer<Pod>;
  private readonly usage = new UsageModel();
  private readonly addresses = new PodAddresses();
  /** Listeners for the Ready pods' ports: public for tests. */
  readonly servers: PodServers;
  /** The pods' calls to other Services: public for tests. */
  readonly callers: PodCallers;
  private readonly usageSink?: UsageSink;
  private usageInFlight = false;
  private lease?: Lease;
  private heartbeatTimer?: Timer;
  private refreshTimer?: Timer;
  /** Set for the next moment a container's kcs.io/lifetime ends or it restarts after one. */
  private lifetimeTimer?: { at: number; timer: Timer };
  private statusPending = false;
  private healthCheckQueued = false;
  private statusWrite: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Events before the first status write change nothing that write will not cover. */
  private started = false;
  /** Heartbeats sent and failed: for tests and the benchmarks. */
  readonly stats = { heartbeats: 0, heartbeatFailures: 0, statusWrites: 0, podStatusWrites: 0, healthChecks: 0, usageReports: 0 };

  constructor(opts: AgentOptions) {
    this.client = opts.client;
    this.leaseClient = opts.leaseClient ?? opts.client;
    this.nodeName = opts.nodeName;
    this.clock = opts.clock ?? systemClock;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.statusRefreshMs = opts.statusRefreshMs ?? 10_000;
    this.restartBackoff = opts.restartBackoff ?? DEFAULT_RESTART_BACKOFF;
    this.usageSink = opts.usageSink;
    this.servers = new PodServers(opts.nodeName, {
      log: opts.log, clock: this.clock,
      admit: async (fromIp, pod, port) => (await this.client.reviewNetworkPolicy({ fromIP: fromIp, namespace: pod.metadata.namespace!, pod: pod.metadata.name!, port })).allowed,
    });
    this.callers = new PodCallers({
      clock: this.clock,
      lookup: (namespace, name) => this.client.get<Service>(SERVICE, namespace, name).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      }),
    });
    this.log = opts.log ?? (() => {});
    this.nodeInformer = new Informer<Node>(this.client, NODE, { fieldSelector: `metadata.name=${this.nodeName}`, clock: this.clock, log: this.log });
    this.podInformer = new Informer<Pod>(this.client, POD, { fieldSelector: `spec.nodeName=${this.nodeName}`, clock: this.clock, log: this.log });
  }

  /** Registers: first status and heartbeat written before this resolves. */
  async start(): Promise<void> {
    // Each change to its pods may open or close a pod's listeners (Ready, address, gone).
    const changed = () => {
      this.requestStatus();
      const pods = this.podInformer.list();
      this.servers.sync(pods);
      this.callers.sync(pods);
      this.scheduleLifetimes();
    };
    this.nodeInformer.on({ add: changed, update: changed });
    this.podInformer.on({ add: changed, update: changed, delete: (pod) => { this.usage.forget(pod.metadata.uid!); this.addresses.release(pod.metadata.uid); changed(); } });
    await Promise.all([this.nodeInformer.start(), this.podInformer.start()]);
    await this.heartbeat();
    // On the same chain as event-driven writes, so the two never race.
    this.statusWrite = this.statusWrite.then(() => this.writeStatus(true));
    await this.statusWrite;
    this.started = true;
    // Anything that changed while that write was in flight is caught here (a no-op otherwise).
    this.requestStatus();
    // Usage from the first moment, not a heartbeat later.
    this.sendUsage();
    this.scheduleHeartbeat();
    this.scheduleRefresh();
  }

  stop(): void {
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    this.refreshTimer?.cancel();
    this.lifetimeTimer?.timer.cancel();
    this.usageSink?.stop();
    this.servers.stop();
    this.callers.stop();
    this.nodeInformer.stop();
    this.podInformer.stop();
  }

  /** The pod IDs this agent currently reports. */
  hostedPods(): Pod[] {
    return this.podInformer.list();
  }

  private scheduleHeartbeat(delayMs = this.heartbeatMs): void {
    if (this.stopped) return;
    this.heartbeatTimer = this.clock.setTimer(() => {
      const started = this.clock.now().getTime();
      this.heartbeat().then(() => {
        // Declared failed while away (the health controller): say Ready again now that heartbeats go through.
        const ready = this.nodeInformer.get(this.nodeName)?.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True') this.requestStatus();
        this.sendUsage();
      }, (err) => {
        this.stats.heartbeatFailures++;
        this.log(`heartbeat failed: ${(err as Error).message}`);
      }).finally(() => {
        // Health is checked on the same chain as the other pod writes, so no two
        // race on a pod; one check waiting is enough, however slow the writes.
        if (!this.healthCheckQueued) {
          this.healthCheckQueued = true;
          this.statusWrite = this.statusWrite
            .then(() => { this.healthCheckQueued = false; return this.reportPods(true); })
            .then(() => { this.stats.healthChecks++; })
            .catch((err) => this.log(`pod health check failed: ${(err as Error).message}`));
        }
        // On a steady cadence: a slow renewal does not push the next one back.
        this.scheduleHeartbeat(Math.max(0, this.heartbeatMs - (this.clock.now().getTime() - started)));
      });
    }, delayMs);
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    this.refreshTimer = this.clock.setTimer(() => {
      this.statusWrite = this.statusWrite.then(() => this.writeStatus(true)).catch((err) => this.log(`status refresh failed: ${(err as Error).message}`));
      this.scheduleRefresh();
    }, this.statusRefreshMs);
  }

  /** Renews the node's Lease (creating it the first time). */
  async heartbeat(): Promise<void> {
    const now = rfc3339Micro(this.clock.now());
    const durationSeconds = Math.max(1, Math.ceil((this.heartbeatMs * 4) / 1000));
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.lease) {
        try {
          this.lease = await this.leaseClient.get<Lease>(LEASE, NODE_LEASE_NAMESPACE, this.nodeName);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          const lease: Lease = {
            apiVersion: LEASE.apiVersion, kind: 'Lease',
            metadata: { name: this.nodeName, namespace: NODE_LEASE_NAMESPACE, annotations: { [RECENT_HEARTBEATS]: now } },
            spec: { holderIdentity: this.nodeName, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now },
          };
          try {
            this.lease = (await this.leaseClient.create<Lease>(LEASE, NODE_LEASE_NAMESPACE, lease)).body;
            this.stats.heartbeats++;
            return;
          } catch (createErr) {
            if (!isConflict(createErr)) throw createErr;
            continue; // someone created it meanwhile: read it and renew
          }
        }
      }
      const next: Lease = {
        ...this.lease,
        // The last few renewals ride along in the same write, for `kcs describe node`.
        metadata: { ...this.lease.metadata, annotations: { ...this.lease.metadata.annotations, [RECENT_HEARTBEATS]: appendHeartbeat(this.lease.metadata.annotations?.[RECENT_HEARTBEATS], now) } },
        spec: { ...this.lease.spec, holderIdentity: this.nodeName, leaseDurationSeconds: durationSeconds, renewTime: now },
      };
      try {
        this.lease = (await this.leaseClient.update<Lease>(LEASE, NODE_LEASE_NAMESPACE, this.nodeName, next)).body;
        this.stats.heartbeats++;
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        this.lease = undefined; // stale or gone: read again
      }
    }
    throw new Error('lease renewal kept conflicting');
  }

  /**
   * What each container of each pod uses now, reported once a heartbeat on
   * a request of its own (never stored, so never in the way of status
   * writes). One report in flight at a time: a slow one is not queued behind.
   */
  usageReport(): NodeUsageReport {
    const now = this.clock.now();
    const windowSeconds = this.heartbeatMs / 1000;
    let milliCpu = 0;
    let memory = 0;
    const pods = this.podInformer.list().filter((p) => p.status?.phase === 'Running').map((pod) => {
      const containers = this.usage.podUsage(pod, now);
      for (const c of containers) {
        milliCpu += c.milliCpu;
        memory += c.memory;
      }
      const calls = this.callers.reportsFor(pod.metadata.uid!);
      return { namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid, containers, ...(calls.length ? { calls } : {}) };
    });
    const node = this.usageSink?.apply({ milliCpu, memory });
    // Throttled (real load): each pod got its share of what the node really had.
    if (node && node.milliCpu < milliCpu) {
      const got = node.milliCpu / milliCpu;
      for (const p of pods) p.containers = p.containers.map((c) => ({ ...c, milliCpu: Math.round(c.milliCpu * got) }));
    }
    return { apiVersion: USAGE_REPORT_KIND.apiVersion, kind: USAGE_REPORT_KIND.kind, metadata: { name: this.nodeName }, windowSeconds, ...(node ? { node } : {}), pods };
  }

  private sendUsage(): void {
    if (this.usageInFlight || this.stopped) return;
    this.usageInFlight = true;
    this.client.reportUsage(this.usageReport())
      .then(() => { this.stats.usageReports++; }, (err) => this.log(`usage report failed: ${(err as Error).message}`))
      .finally(() => { this.usageInFlight = false; });
  }

  /**
   * Containers that finish (kcs.io/lifetime) end when their time is up, not
   * at the next heartbeat: a timer for the earliest end or restart among the
   * node's pods, on the agent's clock, then a pass over the pods that are
   * due. A pass that wrote nothing (the write was refused) tries again a
   * little later rather than at once.
   */
  private scheduleLifetimes(minDelayMs = 0): void {
    if (this.stopped) return;
    let due: number | undefined;
    for (const pod of this.podInformer.list()) {
      const at = nextLifetimeDue(pod, this.restartBackoff);
      if (at !== undefined && (due === undefined || at < due)) due = at;
    }
    if (due === undefined) {
      this.lifetimeTimer?.timer.cancel();
      this.lifetimeTimer = undefined;
      return;
    }
    // Already past after a pass (its write was refused or not yet seen): look again a little later, not at once.
    const now = this.clock.now().getTime();
    const at = due > now ? due : now + minDelayMs;
    if (this.lifetimeTimer && this.lifetimeTimer.at <= at) return;
    this.lifetimeTimer?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      if (this.lifetimeTimer?.timer !== timer) return;
      this.lifetimeTimer = undefined;
      this.statusWrite = this.statusWrite
        .then(() => this.reportPods(false))
        .catch((err) => this.log(`lifetime pass failed: ${(err as Error).message}`))
        .finally(() => this.scheduleLifetimes(LIFETIME_RETRY_MS));
    }, at - now);
    this.lifetimeTimer = { at, timer };
  }

  /** Coalesces bursts of pod events into one status write. */
  private requestStatus(): void {
    // One write waiting is enough: it reads everything as it is when it
    // runs. (Queuing one per burst of watch events made a node given a
    // thousand pods redo its O(pods) work hundreds of times, starving its
    // heartbeat for seconds.)
    if (this.statusPending || this.stopped || !this.started) return;
    this.statusPending = true;
    this.statusWrite = this.statusWrite
      .then(() => { this.statusPending = false; return this.writeStatus(false); })
      .catch((err) => this.log(`status update failed: ${(err as Error).message}`));
  }

  /**
   * A pod the node now reports in its array is Running: the last step of the
   * lifecycle Pending -> bound -> Running, with its containers running. With
   * check (each heartbeat) the pods' health is judged too: a failing
   * container restarts and waits out its back-off. Only the fields the agent
   * owns are written (a merge patch, so conditions others set stay), only
   * when they change, and only on the version of the pod they were computed
   * from (a pod changed meanwhile is looked at again next time).
   */
  private async reportPods(check: boolean): Promise<void> {
    await this.confirm(this.podWrites(check));
  }

  /** The pod statuses to write now: outside a health check only those of pods not yet confirmed Running. */
  private podWrites(check: boolean): PodWrite[] {
    const now = this.clock.now();
    const writes: PodWrite[] = [];
    this.addresses.setRange(this.nodeInformer.get(this.nodeName)?.spec.podCIDR as string | undefined);
    for (const pod of this.podInformer.list()) {
      if (!check && settled(pod) && pod.status?.podIP === this.addresses.addressOf(pod) && !((nextLifetimeDue(pod, this.restartBackoff) ?? Infinity) <= now.getTime())) continue;
      const status = nextPodStatus(pod, { now, backoff: this.restartBackoff, check, podIP: this.addresses.addressOf(pod) });
      if (status) writes.push({ pod, status });
    }
    return writes;
  }

  private async confirm(writes: PodWrite[]): Promise<void> {
    // In commits of many statuses at once: a node given a thousand pods
    // confirms them in a few requests, not a thousand.
    for (let i = 0; i < writes.length && !this.stopped; i += POD_STATUSES_PER_COMMIT) {
      const batch = writes.slice(i, i + POD_STATUSES_PER_COMMIT);
      await this.servers.beforeReport(batch, this.podInformer.list());
      try {
        await this.client.commit(batch.map(podStatusOp));
        this.stats.podStatusWrites += batch.length;
      } catch (err) {
        // One pod unbound, deleted or changed meanwhile fails the whole commit: write that batch one by one.
        const code = (err as { code?: number }).code;
        if (code !== 403 && code !== 404 && code !== 409) throw err;
        await this.writeEach(batch);
      }
    }
  }

  /** Pod statuses one merge patch each, a few in flight at once; a pod that moved or changed is skipped. */
  private async writeEach(writes: PodWrite[]): Promise<void> {
    let next = 0;
    const writer = async () => {
      while (next < writes.length && !this.stopped) {
        const { pod, status } = writes[next++]!;
        try {
          await this.client.patch(POD, pod.metadata.namespace, pod.metadata.name!, { metadata: { resourceVersion: pod.metadata.resourceVersion }, status }, { subresource: 'status' });
          this.stats.podStatusWrites++;
        } catch (err) {
          // Unbound or deleted meanwhile (403/404), or changed (409): the informer brings that change.
          const code = (err as { code?: number }).code;
          if (code !== 403 && code !== 404 && code !== 409) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(POD_WRITES_IN_FLIGHT, writes.length) }, writer));
  }

  /**
   * The node status and the pods it now reports, confirmed Running, in one
   * commit: one write where there were two, for a node given its pods one
   * or a few at a time. False if it did not apply (a pod or the Node changed
   * meanwhile): the caller writes them apart, as before.
   */
  private async commitStatusWithPods(node: Node, desired: NonNullable<Node['status']>): Promise<boolean> {
    const writes = this.podWrites(false);
    const first = writes.slice(0, POD_STATUSES_PER_COMMIT - 1);
    await this.servers.beforeReport(first, this.podInformer.list());
    try {
      await this.client.commit([{ verb: 'update', kind: NODE, subresource: 'status', object: { ...node, status: desired } }, ...first.map(podStatusOp)]);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 403 || code === 404 || code === 409) return false;
      throw err;
    }
    this.stats.statusWrites++;
    this.stats.podStatusWrites += first.length;
    await this.confirm(writes.slice(first.length));
    return true;
  }

  /** Writes the node status if it changed (or always, to refresh the heartbeat time), with compare-and-swap. */
  private async writeStatus(refresh: boolean): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this.stopped; attempt++) {
      const node = attempt === 0 ? this.nodeInformer.get(this.nodeName) : await this.client.get<Node>(NODE, undefined, this.nodeName).catch(() => undefined);
      if (!node) return; // the Node was deleted; the node controller is about to remove this machine
      const desired = desiredNodeStatus(node, this.podInformer.list(), this.clock.now());
      if (!refresh && !statusChanged(node.status, desired)) {
        await this.reportPods(false);
        return;
      }
      if (attempt === 0 && await this.commitStatusWithPods(node, desired)) return;
      try {
        const { body } = await this.client.update(NODE, undefined, this.nodeName, { ...node, status: desired }, { subresource: 'status' });
        if (body.metadata.resourceVersion !== node.metadata.resourceVersion) this.stats.statusWrites++;
        // Reported in the array now: confirm each pod as Running.
        await this.reportPods(false);
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}
