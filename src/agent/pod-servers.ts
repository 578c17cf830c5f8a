// Pods that answer: for each Ready pod with an address, the node's agent
// keeps a real HTTP listener on every TCP containerPort at that address
// (in the node's container for a Docker node, in this process for a
// virtual one). It answers with which pod, container and node served it,
// after the pod's simulated service time, at most its concurrency at once
// (others wait their turn, as a server's workers would). A pod that is not
// Ready, or has left the node, stops listening: connections are refused,
// as they are by a pod that is down. A node that dies takes them all.
// Each caller is checked against the network policies first (admit: the
// API's answer, kept a second): a request they deny is cut off unanswered.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseDurationMs } from '../objects/usage-profile.ts';
import type { Pod } from '../objects/types.ts';
import { systemClock, type Clock } from '../util/clock.ts';

/** How long the pod takes to answer a request (a duration: `20ms`, `1s`); default 0. */
export const SERVICE_TIME = 'kcs.io/service-time';
/** How many requests it serves at once; the others wait (default 100). */
export const CONCURRENCY = 'kcs.io/concurrency';
export const DEFAULT_CONCURRENCY = 100;

export interface PodPort { container: string; port: number; name?: string }

/** The TCP ports a pod's containers declare. */
export function podPorts(pod: Pod): PodPort[] {
  const ports: PodPort[] = [];
  for (const c of pod.spec.containers) {
    for (const p of ((c as { ports?: unknown }).ports ?? []) as Array<{ containerPort?: number; protocol?: string; name?: string }>) {
      if (typeof p.containerPort === 'number' && (p.protocol ?? 'TCP') === 'TCP') ports.push({ container: c.name, port: p.containerPort, name: p.name });
    }
  }
  return ports;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pod's service time (ms) and concurrency, from its annotations; what does not parse is the default. */
export function servingOf(pod: Pod): { serviceMs: number; concurrency: number } {
  const time = pod.metadata.annotations?.[SERVICE_TIME];
  const limit = Number(pod.metadata.annotations?.[CONCURRENCY]);
  return {
    serviceMs: time === undefined ? 0 : parseDurationMs(time.trim()) ?? 0,
    concurrency: Number.isInteger(limit) && limit >= 1 ? limit : DEFAULT_CONCURRENCY,
  };
}

/** May this address reach this pod on this port (the network policies)? */
export type Admit = (fromIp: string, pod: Pod, port: number) => Promise<boolean>;

/** How long an answer of admit is used before it is asked again. */
const VERDICT_MS = 1000;

interface Listener { server: Server; key: string; pod: Pod; served: number; active: number; waiting: Array<() => void>; listening: Promise<void> }

export class PodServers {
  private readonly nodeName: string;
  private readonly log: (message: string) => void;
  /** By ip:port. */
  private readonly listeners = new Map<string, Listener>();
  /** Served requests, and those the network policies denied, for tests and benches. */
  readonly stats = { requests: 0, denied: 0 };
  private readonly admit?: Admit;
  /** Recent answers of admit, by caller, pod and port, until when they hold. */
  private readonly verdicts = new Map<string, { allowed: boolean; until: number }>();

  /**
   * Statuses the agent is writing, by pod uid, with the version of the pod
   * they were computed from. A pod listens (or stops) as its status is
   * written, not once the agent's watch brings the write back: no endpoint
   * is ready before its pod answers, as a real server is up before its
   * readiness is reported. Dropped when the watch brings a newer version.
   */
  private readonly reporting = new Map<string, { from?: string; pod: Pod }>();

  /** Service times run on it (the agent's clock). */
  private readonly clock: Clock;

  constructor(nodeName: string, opts: { log?: (message: string) => void; clock?: Clock; admit?: Admit } = {}) {
    this.nodeName = nodeName;
    this.log = opts.log ?? (() => {});
    this.clock = opts.clock ?? systemClock;
    this.admit = opts.admit;
  }

  /**
   * Listens as these statuses, about to be written, say (pods is every pod
   * of the node, as the agent sees them); resolves once the pods that will
   * be Ready listen.
   */
  async beforeReport(writes: ReadonlyArray<{ pod: Pod; status: Partial<NonNullable<Pod['status']>> }>, pods: Pod[]): Promise<void> {
    for (const { pod, status } of writes) this.reporting.set(pod.metadata.uid!, { from: pod.metadata.resourceVersion, pod: { ...pod, status: { ...pod.status, ...status } } });
    this.sync(pods);
    await Promise.all([...this.listeners.values()].map((l) => l.listening));
  }

  /** The pod as it will be once the status being written is seen, or as listed once the watch brought anything newer. */
  private asReported(listed: Pod): Pod {
    const uid = listed.metadata.uid!;
    const r = this.reporting.get(uid);
    if (!r) return listed;
    if (r.from === listed.metadata.resourceVersion) return r.pod;
    this.reporting.delete(uid);
    return listed;
  }

  /** Listens for every Ready pod's ports, and stops for the others. */
  sync(pods: Pod[]): void {
    const wanted = new Map<string, { pod: Pod; port: PodPort }>();
    const present = new Set<string>();
    for (const listed of pods) {
      present.add(listed.metadata.uid!);
      const pod = this.asReported(listed);
      const ip = pod.status?.podIP;
      if (!ip || !isPodReady(pod) || pod.metadata.deletionTimestamp) continue;
      for (const port of podPorts(pod)) wanted.set(`${ip}:${port.port}`, { pod, port });
    }
    for (const uid of this.reporting.keys()) if (!present.has(uid)) this.reporting.delete(uid);
    for (const [key, l] of this.listeners) {
      const w = wanted.get(key);
      if (!w || w.pod.metadata.uid !== l.pod.metadata.uid) this.close(key);
      else l.pod = w.pod; // its annotations (service time, concurrency) may have changed
    }
    for (const [key, { pod, port }] of wanted) if (!this.listeners.has(key)) this.open(key, pod, port);
  }

  /** The addresses listened on now. */
  addresses(): string[] {
    return [...this.listeners.keys()];
  }

  stop(): void {
    for (const key of [...this.listeners.keys()]) this.close(key);
  }

  private open(key: string, pod: Pod, port: PodPort): void {
    const server = createServer((req, res) => this.serve(listener, port, req, res));
    // Settles either way: a pod that cannot listen is logged below, not waited for.
    const listening = new Promise<void>((resolve) => { server.once('listening', resolve); server.once('error', () => resolve()); });
    const listener: Listener = { key, pod, served: 0, active: 0, waiting: [], server, listening };
    listener.server.on('error', (err) => {
      this.log(`pod ${pod.metadata.namespace}/${pod.metadata.name} cannot listen on ${key}: ${err.message}`);
      if (this.listeners.get(key) === listener) this.listeners.delete(key);
    });
    listener.server.keepAliveTimeout = 5_000;
    listener.server.listen(port.port, pod.status!.podIP!);
    this.listeners.set(key, listener);
  }

  private close(key: string): void {
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    l.server.close();
    // A pod that goes down drops what it was serving, as a killed process does.
    l.server.closeAllConnections();
  }

  private serve(l: Listener, port: PodPort, req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (!this.admit) return this.queue(l, port, req, res);
    const from = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const key = `${from}|${l.pod.metadata.uid}|${port.port}`;
    const known = this.verdicts.get(key);
    const now = this.clock.now().getTime();
    const decided = known && known.until > now ? Promise.resolve(known.allowed) : this.admit(from, l.pod, port.port).then((allowed) => {
      this.verdicts.set(key, { allowed, until: this.clock.now().getTime() + VERDICT_MS });
      return allowed;
    }, (err: Error) => {
      // The API cannot be asked: the last answer holds, and with none the
      // pod keeps serving (a data plane outlives its control plane, as in Kubernetes).
      this.log(`network policy review for ${key} failed: ${err.message}`);
      return known?.allowed ?? true;
    });
    void decided.then((allowed) => {
      if (allowed) return this.queue(l, port, req, res);
      this.stats.denied++;
      req.socket.destroy();
    });
  }

  private queue(l: Listener, port: PodPort, req: IncomingMessage, res: ServerResponse): void {
    const run = () => {
      l.active++;
      const { serviceMs } = servingOf(l.pod);
      const answer = () => {
        l.active--;
        l.waiting.shift()?.();
        l.served++;
        this.stats.requests++;
        const body = JSON.stringify({
          pod: `${l.pod.metadata.namespace}/${l.pod.metadata.name}`, node: this.nodeName, container: port.container,
          ip: l.pod.status?.podIP, port: port.port, path: req.url, client: req.socket.remoteAddress, served: l.served,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'x-kcs-pod': `${l.pod.metadata.namespace}/${l.pod.metadata.name}`, 'x-kcs-node': this.nodeName });
        res.end(body + '\n');
      };
      if (serviceMs > 0) this.clock.setTimer(answer, serviceMs);
      else answer();
    };
    if (l.active < servingOf(l.pod).concurrency) run();
    else l.waiting.push(run);
  }
}
