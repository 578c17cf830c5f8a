// The API server's memory of resource usage, as metrics-server keeps it:
// each node's and pod's latest figures from its node's agent, and each
// node's recent history (15 minutes, a sample every 5 s) for plots. Nothing
// is stored: after a restart the figures come back with the next
// heartbeats. Pod history is not kept: at 150,000 pods it would cost more
// memory than the whole cluster's objects.
import type { Clock } from '../util/clock.ts';
import type { CallReport, ContainerUsageReport, NodeUsageReport, Throttling } from './usage-report.ts';

export interface UsageFigures { milliCpu: number; memory: number }

export interface NodeUsage extends UsageFigures {
  /** When it was reported (ms since the epoch) and over how long it was measured. */
  at: number;
  windowMs: number;
  throttling?: Throttling;
}

export interface PodUsage {
  /** The node that reported it: shown only while the pod is still bound there. */
  node: string;
  uid?: string;
  at: number;
  windowMs: number;
  containers: ContainerUsageReport[];
  /** What the pod's calls to other Services met (kcs.io/calls), if it makes any. */
  calls?: CallReport[];
}

export interface UsageSample extends UsageFigures { at: number }

export interface UsageRecorderOptions {
  historyMs?: number;
  resolutionMs?: number;
}

interface NodeEntry { latest: NodeUsage; history: UsageSample[]; pods: Set<string> }

const podKey = (namespace: string, name: string) => `${namespace}/${name}`;

export class UsageRecorder {
  private readonly clock: Clock;
  private readonly historyMs: number;
  private readonly resolutionMs: number;
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly pods = new Map<string, PodUsage>();

  constructor(clock: Clock, opts: UsageRecorderOptions = {}) {
    this.clock = clock;
    this.historyMs = opts.historyMs ?? 15 * 60_000;
    this.resolutionMs = opts.resolutionMs ?? 5_000;
  }

  /** Takes a node's report: its pods' figures replace what that node said before. */
  record(report: NodeUsageReport): void {
    const at = this.clock.now().getTime();
    const windowMs = report.windowSeconds * 1000;
    const name = report.metadata.name;
    let entry = this.nodes.get(name);
    const previous = entry?.pods ?? new Set<string>();
    const reported = new Set<string>();
    let milliCpu = 0;
    let memory = 0;
    for (const p of report.pods) {
      const key = podKey(p.namespace, p.name);
      reported.add(key);
      // Updated in place when the same node reports it again: a node reports every pod every heartbeat.
      const known = this.pods.get(key);
      if (known && known.node === name) {
        known.uid = p.uid;
        known.at = at;
        known.windowMs = windowMs;
        known.containers = p.containers;
        known.calls = p.calls;
      } else this.pods.set(key, { node: name, uid: p.uid, at, windowMs, containers: p.containers, calls: p.calls });
      for (const c of p.containers) {
        milliCpu += c.milliCpu;
        memory += c.memory;
      }
    }
    // A pod the node no longer reports left it: forget it unless another node reported it since.
    for (const key of previous) if (!reported.has(key) && this.pods.get(key)?.node === name) this.pods.delete(key);
    const latest: NodeUsage = report.node
      ? { milliCpu: report.node.milliCpu, memory: report.node.memory, at, windowMs, throttling: report.node.throttling }
      : { milliCpu, memory, at, windowMs };
    if (!entry) this.nodes.set(name, (entry = { latest, history: [], pods: reported }));
    entry.latest = latest;
    entry.pods = reported;
    const last = entry.history.at(-1);
    if (!last || at - last.at >= this.resolutionMs) entry.history.push({ at, milliCpu: latest.milliCpu, memory: latest.memory });
    while (entry.history.length && at - entry.history[0]!.at > this.historyMs) entry.history.shift();
  }

  /** A report is current for a few of its windows; a silent node's figures are not shown (as metrics-server drops them). */
  private fresh(at: number, windowMs: number): boolean {
    return this.clock.now().getTime() - at <= Math.max(10_000, 5 * windowMs);
  }

  node(name: string): NodeUsage | undefined {
    const latest = this.nodes.get(name)?.latest;
    return latest && this.fresh(latest.at, latest.windowMs) ? latest : undefined;
  }

  /** The pod's latest figures, if the node it is bound to reported them recently. */
  pod(namespace: string, name: string, boundTo: string | undefined): PodUsage | undefined {
    const usage = this.pods.get(podKey(namespace, name));
    return usage && usage.node === boundTo && this.fresh(usage.at, usage.windowMs) ? usage : undefined;
  }

  /** The node's samples over the last 15 minutes, oldest first. */
  history(name: string): UsageSample[] {
    return [...(this.nodes.get(name)?.history ?? [])];
  }

  /** Drops a deleted node's figures and history. */
  forgetNode(name: string): void {
    const entry = this.nodes.get(name);
    if (!entry) return;
    for (const key of entry.pods) if (this.pods.get(key)?.node === name) this.pods.delete(key);
    this.nodes.delete(name);
  }
}
