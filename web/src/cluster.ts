// What the page knows of the cluster: every Node, Pod and heartbeat Lease,
// the recent Events, and the scheduling policy, kept current by one watch
// per kind. Changes are applied as they stream in and shown once per
// animation frame: a burst of a thousand bindings is one render, and only
// the node cards whose pods changed get new props (the rest are skipped).
import type { Condition, KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { listWatch, type ApiError } from './api.ts';

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

/** The Lease annotation where an agent keeps its last few renewals. */
const RECENT_HEARTBEATS = 'kcs.io/recent-heartbeats';
/** Heartbeats kept per node for the timeline. */
const HEARTBEATS_KEPT = 600;
/** Events kept for the stream, newest first. */
const EVENTS_KEPT = 2000;
/** Node events and pod moves kept for the failover timeline. */
const HISTORY_KEPT = 5000;
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
