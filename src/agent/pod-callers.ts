// Pods that call: for each running pod whose kcs.io/calls annotation lists
// Services (objects/pod-calls.ts), the node's agent sends HTTP GETs at each
// call's rate from the pod's own address to the Service's cluster IP, a new
// connection each (the service proxy balances connections), and keeps what
// they met: answers by serving pod, latency, errors by kind. The agent
// reports the figures with its usage every heartbeat.
//
// The address is the pod's: the proxy judges the network policies on the
// caller's source, so a pod's calls are allowed or denied as that pod's.
import { Agent } from 'node:http';
import { podCalls, type PodCall } from '../objects/pod-calls.ts';
import type { Service } from '../objects/services.ts';
import type { Pod } from '../objects/types.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { hit, newReport, percentileMs, type TrafficReport } from '../client/traffic.ts';
import type { CallReport } from '../api/usage-report.ts';

/** Reads a Service (undefined: there is none); the agent's is the API, cached briefly. */
export type ServiceLookup = (namespace: string, name: string) => Promise<Service | undefined>;

/** Requests one call keeps waiting at once; beyond it a tick is counted as an error, not queued. */
const MAX_IN_FLIGHT = 100;
/** How long a Service looked up is used before it is read again: a changed port or a deleted Service shows within this. */
const LOOKUP_MS = 5_000;

interface Caller {
  key: string;
  podUid: string;
  call: PodCall;
  namespace: string;
  fromIp: string;
  report: TrafficReport;
  inFlight: number;
  timer?: Timer;
}

export class PodCallers {
  private readonly clock: Clock;
  private readonly lookup: ServiceLookup;
  /** By pod uid, call and address: a pod given a new address calls from it. */
  private readonly callers = new Map<string, Caller>();
  private readonly services = new Map<string, { service: Promise<Service | undefined | Error>; until: number }>();
  /** No keep-alive: each request its own connection, balanced on its own by the proxy. */
  private readonly agent = new Agent({ keepAlive: false });

  constructor(opts: { lookup: ServiceLookup; clock?: Clock }) {
    this.lookup = opts.lookup;
    this.clock = opts.clock ?? systemClock;
  }

  /** Calls for every running pod with an address and calls to make; stops the others. */
  sync(pods: Pod[]): void {
    const wanted = new Map<string, Omit<Caller, 'report' | 'inFlight'>>();
    for (const pod of pods) {
      const fromIp = pod.status?.podIP;
      if (!fromIp || pod.status?.phase !== 'Running' || pod.metadata.deletionTimestamp) continue;
      podCalls(pod).forEach((call, i) => {
        const key = `${pod.metadata.uid}|${i}|${call.text}|${fromIp}`;
        wanted.set(key, { key, podUid: pod.metadata.uid!, call, namespace: call.namespace ?? pod.metadata.namespace!, fromIp });
      });
    }
    for (const [key, caller] of this.callers) {
      if (!wanted.has(key)) {
        caller.timer?.cancel();
        this.callers.delete(key);
      }
    }
    for (const [key, w] of wanted) {
      if (this.callers.has(key)) continue;
      const caller: Caller = { ...w, report: newReport(), inFlight: 0 };
      this.callers.set(key, caller);
      this.schedule(caller);
    }
  }

  /** What the pod's calls met so far, in the annotation's order. */
  reportsFor(podUid: string): CallReport[] {
    const out: CallReport[] = [];
    for (const c of this.callers.values()) {
      if (c.podUid !== podUid) continue;
      const r = c.report;
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      out.push({
        call: c.call.text, perSecond: c.call.perSecond, sent: r.sent, answered: r.ok,
        errors: Object.fromEntries(r.errors), byPod: Object.fromEntries(r.byPod),
        ...(sorted.length ? { latencyMs: { p50: round(percentileMs(sorted, 50)), p99: round(percentileMs(sorted, 99)) } } : {}),
      });
    }
    return out;
  }

  /** How many calls are being made now, for tests. */
  callerCount(): number {
    return this.callers.size;
  }

  stop(): void {
    for (const c of this.callers.values()) c.timer?.cancel();
    this.callers.clear();
    this.agent.destroy();
  }

  private schedule(caller: Caller): void {
    caller.timer = this.clock.setTimer(() => {
      if (this.callers.get(caller.key) !== caller) return;
      this.schedule(caller);
      void this.fire(caller);
    }, 1000 / caller.call.perSecond);
  }

  private async fire(c: Caller): Promise<void> {
    if (c.inFlight >= MAX_IN_FLIGHT) return this.failed(c, 'TooManyInFlight');
    c.inFlight++;
    try {
      const target = await this.target(c);
      if (typeof target === 'string') return this.failed(c, target);
      await hit(this.agent, target.ip, target.port, c.report, c.fromIp);
    } finally {
      c.inFlight--;
    }
  }

  private failed(c: Caller, why: string): void {
    c.report.sent++;
    c.report.errors.set(why, (c.report.errors.get(why) ?? 0) + 1);
  }

  /** The cluster IP and port to call, or why there is none. */
  private async target(c: Caller): Promise<{ ip: string; port: number } | string> {
    const key = `${c.namespace}/${c.call.service}`;
    const now = this.clock.now().getTime();
    let cached = this.services.get(key);
    if (!cached || cached.until <= now) {
      cached = { service: this.lookup(c.namespace, c.call.service).catch((err: Error) => err), until: now + LOOKUP_MS };
      this.services.set(key, cached);
    }
    const service = await cached.service;
    if (service instanceof Error) return 'ServiceLookupFailed';
    if (!service) return 'ServiceNotFound';
    const ip = service.spec.clusterIP;
    if (!ip || ip === 'None') return 'NoClusterIP';
    const ports = service.spec.ports ?? [];
    const port = c.call.port === undefined ? ports[0] : ports.find((p) => p.port === c.call.port || p.name === c.call.port);
    return port ? { ip, port: port.port } : 'NoSuchPort';
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
