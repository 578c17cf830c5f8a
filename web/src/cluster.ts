// What the page knows of the cluster: every Node, Pod and heartbeat Lease,
// the recent Events, and the scheduling policy, kept current by one watch
// per kind; and what each node uses, read from the metrics API. Changes are applied as they stream in and shown once per
// animation frame: a burst of a thousand bindings is one render, and only
// the node cards whose pods changed get new props (the rest are skipped).
import { parseBytes, parseMilliCpu } from '../../src/objects/quantity.ts';
import type { Condition, KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { api, listWatch, type ApiError } from './api.ts';

export interface Lease extends KubeObject {
  spec?: { renewTime?: string; holderIdentity?: string; leaseDurationSeconds?: number };
}

export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  source?: { component?: string; host?: string };
}

export interface SchedulerConfiguration extends KubeObject {
  spec?: { defaultPolicy?: string };
}

/** What a node uses now, as its agent last reported it. */
export interface NodeUsage { milliCpu: number; memory: number }
/** A node's CPU use at one moment (ms since the epoch, on the API's clock). */
export interface CpuSample { at: number; milliCpu: number }

type UsageQuantities = { cpu: string; memory: string };
interface NodeMetrics { metadata: { name: string }; timestamp: string; usage: UsageQuantities }
interface NodeUsageHistory { metadata: { name: string }; samples: Array<{ timestamp: string; usage: UsageQuantities }> }

/** The Lease annotation where an agent keeps its last few renewals. */
const RECENT_HEARTBEATS = 'kcs.io/recent-heartbeats';
/** Heartbeats kept per node for the timeline. */
const HEARTBEATS_KEPT = 600;
/** Events kept for the stream, newest first. */
const EVENTS_KEPT = 2000;
/** Node events and pod moves kept for the failover timeline. */
const HISTORY_KEPT = 5000;
/** How often usage is read while the page is in sight. */
const USAGE_POLL_MS = 2000;
/** The span of each node's recent CPU use the page keeps (its sparkline). */
export const CPU_RECENT_MS = 5 * 60_000;
/** One point per this much time, as the API's usage history keeps them. */
const CPU_SAMPLE_EVERY_MS = 5000;
const HISTORY_REASONS = new Set(['NodeNotReady', 'NodeFailureRequested', 'MachineRestarted', 'MachineStarted', 'MachineStopped', 'Moved', 'NodeReady']);

export function podKey(p: KubeObject): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function eventTime(e: KubeEvent): number {
  return Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '') || 0;
}

function eventUid(e: KubeEvent): string {
  return e.metadata.uid ?? `${e.metadata.namespace}/${e.metadata.name}`;
}

/**
 * As kubectl shows it: Ready, NotReady (Ready False, or Unknown because the
 * node stopped reporting), or Unknown for a node never heard from.
 */
export function readiness(node: Node): 'Ready' | 'NotReady' | 'Unknown' {
  const c = node.status?.conditions?.find((x: Condition) => x.type === 'Ready');
  return !c ? 'Unknown' : c.status === 'True' ? 'Ready' : 'NotReady';
}

export function isPending(p: Pod): boolean {
  return !p.spec.nodeName && (p.status?.phase ?? 'Pending') === 'Pending' && !p.metadata.deletionTimestamp;
}

export type Connection = { state: 'connecting' | 'live' | 'trouble'; message?: string; code?: number };

export class Cluster {
  readonly nodes = new Map<string, Node>();
  readonly pods = new Map<string, Pod>();
  readonly leases = new Map<string, Lease>();
  /** Renewal times (ms) seen per node, oldest first. */
  readonly heartbeats = new Map<string, number[]>();
  /** The newest events, newest first. */
  events: KubeEvent[] = [];
  /** Events about nodes and pod moves, oldest first, for the timeline. */
  history: KubeEvent[] = [];
  /**
   * What each node uses now; absent for a node that has not reported
   * lately. An entry is replaced only when its figures change, so a card
   * whose node's use holds steady is not drawn again.
   */
  readonly usage = new Map<string, NodeUsage>();
  /** Each node's CPU use over the last minutes, oldest first; an array is replaced only when it gains or loses a point. */
  readonly cpuRecent = new Map<string, CpuSample[]>();
  policy: string | undefined;
  connection: Connection = { state: 'connecting' };
  /** Set once every kind has been listed: the page then shows the whole cluster. */
  synced = false;
  /** Bumped once per frame in which anything changed. */
  version = 0;

  /** The pods on each node, as arrays that change identity only when that node's pods change. */
  private readonly onNode = new Map<string, Map<string, Pod>>();
  private readonly onNodeArrays = new Map<string, Pod[]>();
  private readonly dirtyNodes = new Set<string>();
  private pendingArray: Pod[] = [];
  private pendingDirty = true;
  private readonly listed = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private frame = 0;
  private readonly stops: Array<() => void> = [];
  private readonly eventUids = new Map<string, KubeEvent>();

  start(): void {
    const kinds = 5;
    const listed = (kind: string) => {
      this.listed.add(kind);
      if (this.listed.size === kinds) this.synced = true;
    };
    const trouble = (err: ApiError | Error) => {
      this.connection = { state: 'trouble', message: err.message, code: (err as ApiError).code };
      this.touch();
    };
    const live = () => { this.connection = { state: 'live' }; this.touch(); };
    this.stops.push(listWatch<Node>('/api/v1/nodes', {
      reset: (items) => { this.nodes.clear(); for (const n of items) this.nodes.set(n.metadata.name!, n); listed('nodes'); live(); },
      changed: (type, n) => { if (type === 'DELETED') this.nodes.delete(n.metadata.name!); else this.nodes.set(n.metadata.name!, n); this.touch(); },
      trouble, live,
    }));
    this.stops.push(listWatch<Pod>('/api/v1/pods', {
      reset: (items) => {
        this.pods.clear();
        for (const key of this.onNode.keys()) this.dirtyNodes.add(key);
        this.onNode.clear();
        for (const p of items) this.putPod(p);
        listed('pods');
        this.touch();
      },
      changed: (type, p) => { if (type === 'DELETED') this.dropPod(p); else this.putPod(p); this.touch(); },
      trouble, live,
    }));
    this.stops.push(listWatch<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      reset: (items) => { for (const l of items) this.putLease(l); listed('leases'); this.touch(); },
      changed: (type, l) => { if (type === 'DELETED') this.leases.delete(l.metadata.name!); else this.putLease(l); this.touch(); },
      trouble, live,
    }));
    this.stops.push(listWatch<KubeEvent>('/api/v1/events', {
      reset: (items) => {
        const newestFirst = items.sort((a, b) => eventTime(b) - eventTime(a));
        this.events = newestFirst.slice(0, EVENTS_KEPT);
        this.history = newestFirst.filter((e) => HISTORY_REASONS.has(e.reason ?? '')).slice(0, HISTORY_KEPT).reverse();
        this.eventUids.clear();
        for (const e of [...this.events, ...this.history]) this.eventUids.set(eventUid(e), e);
        listed('events');
        this.touch();
      },
      changed: (type, e) => { if (type !== 'DELETED') this.putEvent(e); this.touch(); },
      trouble, live,
    }));
    this.stops.push(listWatch<SchedulerConfiguration>('/apis/kcs.io/v1/schedulerconfigurations', {
      reset: (items) => { this.policy = items.find((c) => c.metadata.name === 'default')?.spec?.defaultPolicy; listed('policy'); this.touch(); },
      changed: (type, c) => { if (c.metadata.name === 'default') this.policy = type === 'DELETED' ? undefined : c.spec?.defaultPolicy; this.touch(); },
      trouble, live,
    }));
    this.stops.push(this.pollUsage());
  }

  stop(): void {
    for (const s of this.stops) s();
    cancelAnimationFrame(this.frame);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  podsOn(node: string): Pod[] {
    let arr = this.onNodeArrays.get(node);
    if (!arr || this.dirtyNodes.has(node)) {
      arr = [...(this.onNode.get(node)?.values() ?? [])].sort((a, b) => podKey(a).localeCompare(podKey(b)));
      this.onNodeArrays.set(node, arr);
      this.dirtyNodes.delete(node);
    }
    return arr;
  }

  pending(): Pod[] {
    if (this.pendingDirty) {
      this.pendingArray = [...this.pods.values()].filter(isPending).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      this.pendingDirty = false;
    }
    return this.pendingArray;
  }

  /** Events about one object, newest first. */
  eventsAbout(kind: string, namespace: string | undefined, name: string): KubeEvent[] {
    return this.events.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name && (namespace === undefined || e.involvedObject.namespace === namespace));
  }

  private putPod(p: Pod): void {
    const key = podKey(p);
    const prev = this.pods.get(key);
    if (prev?.spec.nodeName !== p.spec.nodeName && prev?.spec.nodeName) {
      this.onNode.get(prev.spec.nodeName)?.delete(key);
      this.dirtyNodes.add(prev.spec.nodeName);
    }
    this.pods.set(key, p);
    if (p.spec.nodeName) {
      let m = this.onNode.get(p.spec.nodeName);
      if (!m) this.onNode.set(p.spec.nodeName, (m = new Map()));
      m.set(key, p);
      this.dirtyNodes.add(p.spec.nodeName);
    }
    if (isPending(p) || (prev && isPending(prev))) this.pendingDirty = true;
  }

  private dropPod(p: Pod): void {
    const key = podKey(p);
    const prev = this.pods.get(key) ?? p;
    this.pods.delete(key);
    if (prev.spec.nodeName) {
      this.onNode.get(prev.spec.nodeName)?.delete(key);
      this.dirtyNodes.add(prev.spec.nodeName);
    }
    if (isPending(prev)) this.pendingDirty = true;
  }

  /**
   * The one thing the page polls: the metrics API has no watch (in
   * Kubernetes too, metrics are read, not streamed). Polled only while the
   * tab is in sight, as a hidden tab would ask for figures nobody sees;
   * coming back reads the history again to fill the gap. Returns a function
   * that stops it.
   */
  private pollUsage(): () => void {
    let running: AbortController | undefined;
    const resume = () => {
      if (running || document.visibilityState !== 'visible') return;
      const { signal } = (running = new AbortController());
      void (async () => {
        // Figures that fail to come (an API without metrics, a blip) are simply tried again; the watches report the connection.
        await this.readUsageHistory(signal).catch(() => {});
        while (!signal.aborted) {
          await this.readUsage(signal).catch(() => {});
          await pause(USAGE_POLL_MS, signal);
        }
      })();
    };
    const halt = () => { running?.abort(); running = undefined; };
    const visibilityChanged = () => (document.visibilityState === 'visible' ? resume() : halt());
    document.addEventListener('visibilitychange', visibilityChanged);
    resume();
    return () => { document.removeEventListener('visibilitychange', visibilityChanged); halt(); };
  }

  private async readUsageHistory(signal: AbortSignal): Promise<void> {
    const list = await api<{ items: NodeUsageHistory[] }>('GET', '/apis/kcs.io/v1/nodeusagehistories', { signal });
    this.cpuRecent.clear();
    let newest = 0;
    for (const h of list.items) {
      const samples = h.samples.map((s) => ({ at: Date.parse(s.timestamp), milliCpu: parseMilliCpu(s.usage.cpu) }));
      if (samples.length) this.cpuRecent.set(h.metadata.name, samples);
      newest = Math.max(newest, samples.at(-1)?.at ?? 0);
    }
    this.dropCpuSamplesBefore(newest - CPU_RECENT_MS);
    this.touch();
  }

  private async readUsage(signal: AbortSignal): Promise<void> {
    const list = await api<{ items: NodeMetrics[] }>('GET', '/apis/metrics.k8s.io/v1beta1/nodes', { signal });
    let changed = false;
    let newest = 0;
    const reported = new Set<string>();
    for (const m of list.items) {
      const name = m.metadata.name;
      reported.add(name);
      const now: NodeUsage = { milliCpu: parseMilliCpu(m.usage.cpu), memory: parseBytes(m.usage.memory) };
      const was = this.usage.get(name);
      if (was?.milliCpu !== now.milliCpu || was.memory !== now.memory) {
        this.usage.set(name, now);
        changed = true;
      }
      const at = Date.parse(m.timestamp);
      newest = Math.max(newest, at);
      const samples = this.cpuRecent.get(name) ?? [];
      if (at - (samples.at(-1)?.at ?? 0) >= CPU_SAMPLE_EVERY_MS) {
        this.cpuRecent.set(name, [...samples, { at, milliCpu: now.milliCpu }]);
        changed = true;
      }
    }
    for (const name of this.usage.keys()) {
      if (!reported.has(name)) {
        this.usage.delete(name);
        changed = true;
      }
    }
    // Measured on the API's clock, not the browser's: a silent node's points age out as the others' arrive.
    if (newest && this.dropCpuSamplesBefore(newest - CPU_RECENT_MS)) changed = true;
    if (changed) this.touch();
  }

  /** Whether any node lost a point. */
  private dropCpuSamplesBefore(cutoff: number): boolean {
    let dropped = false;
    for (const [name, samples] of this.cpuRecent) {
      const keep = samples.findIndex((s) => s.at >= cutoff);
      if (keep === 0) continue;
      dropped = true;
      if (keep < 0) this.cpuRecent.delete(name);
      else this.cpuRecent.set(name, samples.slice(keep));
    }
    return dropped;
  }

  private putLease(l: Lease): void {
    const name = l.metadata.name!;
    this.leases.set(name, l);
    const seen = this.heartbeats.get(name) ?? [];
    const recent = (l.metadata.annotations?.[RECENT_HEARTBEATS]?.split(',') ?? []).concat(l.spec?.renewTime ?? []);
    const last = seen.at(-1) ?? 0;
    for (const t of recent.map((s) => Date.parse(s)).filter((t) => t > last).sort((a, b) => a - b)) seen.push(t);
    if (seen.length > HEARTBEATS_KEPT) seen.splice(0, seen.length - HEARTBEATS_KEPT);
    this.heartbeats.set(name, seen);
  }

  private putEvent(e: KubeEvent): void {
    const uid = eventUid(e);
    const known = this.eventUids.get(uid);
    this.eventUids.set(uid, e);
    if (known) {
      // A repeat (count + 1): the same Event, moved to the top.
      this.events = this.events.filter((x) => x !== known);
      this.history = this.history.filter((x) => x !== known);
    }
    // Newest first by when it happened: a move's Events can tell of moments just before it.
    const t = eventTime(e);
    let at = 0;
    while (at < this.events.length && eventTime(this.events[at]!) > t) at++;
    this.events.splice(at, 0, e);
    if (this.events.length > EVENTS_KEPT) for (const dropped of this.events.splice(EVENTS_KEPT)) if (!HISTORY_REASONS.has(dropped.reason ?? '')) this.eventUids.delete(eventUid(dropped));
    if (HISTORY_REASONS.has(e.reason ?? '')) {
      this.history.push(e);
      if (this.history.length > HISTORY_KEPT) this.history.splice(0, this.history.length - HISTORY_KEPT);
    }
  }

  /** Once per frame, however many changes streamed in. */
  private touch(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.version++;
      for (const l of this.listeners) l();
    });
  }
}

/** Waits, or stops waiting as soon as the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
