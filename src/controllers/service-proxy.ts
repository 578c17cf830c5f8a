// The service proxy, kube-proxy's userspace mode in spirit: for every
// Service with a cluster IP, a real listener on each of its TCP ports at
// that loopback address, which hands each connection to one ready endpoint
// of the Service (its EndpointSlices) and copies bytes both ways. The
// endpoint is chosen per Service (annotation kcs.io/load-balancing):
// round-robin (the default), least-connections, or random. It connects from
// the caller's own address when the caller is a pod (127.0.0.0/8 lets a
// socket bind any of it), so the pod's listener sees who really called. An
// endpoint that refuses is counted and the next one tried. A connection the
// network policies deny (network-policy-gate.ts) is closed and counted.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Informer } from '../client/informer.ts';
import { SLICES_BY_SERVICE, sliceServiceOf, type EndpointSlice } from '../objects/endpoint-slices.ts';
import type { Service, ServicePort } from '../objects/services.ts';
import type { NetworkPolicyGate } from './network-policy-gate.ts';

export const LOAD_BALANCING = 'kcs.io/load-balancing';
export const POLICIES = ['round-robin', 'least-connections', 'random'] as const;
export type BalancingPolicy = (typeof POLICIES)[number];


export interface Backend { ip: string; port: number; pod?: string }

/** The ready backends of one Service port, from the Service's slices. */
export function backendsOf(port: ServicePort, slices: EndpointSlice[]): Backend[] {
  const out: Backend[] = [];
  for (const slice of slices) {
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (!sp?.port) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses) out.push({ ip, port: sp.port, pod: e.targetRef?.name && `${e.targetRef.namespace ?? slice.metadata.namespace}/${e.targetRef.name}` });
    }
  }
  return out;
}

/** Which backend a new connection goes to, by the Service's policy. */
export class Balancer {
  private next = 0;
  readonly active = new Map<string, number>();

  pick(policy: BalancingPolicy, backends: Backend[], random: () => number = Math.random): Backend | undefined {
    if (!backends.length) return undefined;
    if (policy === 'random') return backends[Math.floor(random() * backends.length)];
    if (policy === 'least-connections') {
      // Fewest open now; ties go round-robin, so equal backends share the load.
      const start = this.next++ % backends.length;
      let best = backends[start]!;
      for (let i = 1; i < backends.length; i++) {
        const b = backends[(start + i) % backends.length]!;
        if ((this.active.get(keyOf(b)) ?? 0) < (this.active.get(keyOf(best)) ?? 0)) best = b;
      }
      return best;
    }
    return backends[this.next++ % backends.length];
  }
}

const keyOf = (b: Backend) => `${b.ip}:${b.port}`;

export function policyOf(svc: Service): BalancingPolicy {
  const p = svc.metadata.annotations?.[LOAD_BALANCING];
  return (POLICIES as readonly string[]).includes(p ?? '') ? (p as BalancingPolicy) : 'round-robin';
}

interface Frontend { server: Server; service: string; port: ServicePort; balancer: Balancer }

export interface ProxyStats { connections: number; refused: number; noEndpoint: number; denied: number; byBackend: Map<string, number> }

export class ServiceProxy {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly log: (message: string) => void;
  /** By clusterIP:port. */
  private readonly frontends = new Map<string, Frontend>();
  readonly stats: ProxyStats = { connections: 0, refused: 0, noEndpoint: 0, denied: 0, byBackend: new Map() };
  private readonly gate?: NetworkPolicyGate;

  constructor(opts: { services: Informer<Service>; slices: Informer<EndpointSlice>; gate?: NetworkPolicyGate; log?: (message: string) => void }) {
    this.services = opts.services;
    this.slices = opts.slices;
    // A connection reads its Service's slices only, not every slice in the cluster.
    if (!this.slices.hasIndex(SLICES_BY_SERVICE)) this.slices.addIndex(SLICES_BY_SERVICE, sliceServiceOf);
    this.gate = opts.gate;
    this.log = opts.log ?? (() => {});
  }

  /** Listens for every Service port there is, and stops for those gone (called on any Service change). */
  sync(): void {
    const wanted = new Map<string, { svc: Service; port: ServicePort }>();
    for (const svc of this.services.list()) {
      const ip = svc.spec.clusterIP;
      if (!ip || ip === 'None' || svc.metadata.deletionTimestamp) continue;
      for (const port of svc.spec.ports ?? []) if ((port.protocol ?? 'TCP') === 'TCP') wanted.set(`${ip}:${port.port}`, { svc, port });
    }
    for (const [key, f] of this.frontends) {
      const w = wanted.get(key);
      if (!w || `${w.svc.metadata.namespace}/${w.svc.metadata.name}` !== f.service) this.close(key);
      else f.port = w.port;
    }
    for (const [key, { svc, port }] of wanted) if (!this.frontends.has(key)) this.open(key, svc, port);
  }

  /** The addresses served now (clusterIP:port). */
  addresses(): string[] {
    return [...this.frontends.keys()];
  }

  stop(): void {
    for (const key of [...this.frontends.keys()]) this.close(key);
  }

  private open(key: string, svc: Service, port: ServicePort): void {
    const service = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const f: Frontend = { service, port, balancer: new Balancer(), server: createServer((socket) => this.accept(f, socket)) };
    f.server.on('error', (err) => {
      this.log(`service proxy: cannot listen on ${key} for ${service}: ${err.message}`);
      if (this.frontends.get(key) === f) this.frontends.delete(key);
    });
    f.server.listen(port.port, svc.spec.clusterIP);
    this.frontends.set(key, f);
  }

  private close(key: string): void {
    const f = this.frontends.get(key);
    if (!f) return;
    this.frontends.delete(key);
    f.server.close();
  }

  private accept(f: Frontend, client: Socket): void {
    this.stats.connections++;
    const svc = this.services.get(f.service);
    const backends = backendsOf(f.port, this.slices.byIndex(SLICES_BY_SERVICE, f.service));
    const policy = svc ? policyOf(svc) : 'round-robin';
    client.on('error', () => {});
    // The caller's address, when it is a pod's (or any loopback address): the backend sees it.
    const from = client.remoteAddress?.replace(/^::ffff:/, '');
    const source = from && from.startsWith('127.') ? from : undefined;
    const tried = new Set<string>();
    const attempt = () => {
      const left = backends.filter((b) => !tried.has(keyOf(b)));
      const b = f.balancer.pick(policy, left);
      if (!b) {
        if (!tried.size) this.stats.noEndpoint++;
        client.destroy();
        return;
      }
      tried.add(keyOf(b));
      if (this.gate && !this.gate.check(from ?? '127.0.0.1', { ip: b.ip }, b.port).allowed) {
        // Denied as the policies say: the connection goes nowhere, as a dropped one would.
        this.stats.denied++;
        client.destroy();
        return;
      }
      const upstream = connect({ host: b.ip, port: b.port, ...(source ? { localAddress: source } : {}) });
      const k = keyOf(b);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        f.balancer.active.set(k, (f.balancer.active.get(k) ?? 0) + 1);
        this.stats.byBackend.set(k, (this.stats.byBackend.get(k) ?? 0) + 1);
        upstream.once('close', () => f.balancer.active.set(k, (f.balancer.active.get(k) ?? 1) - 1));
        client.pipe(upstream);
        upstream.pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      upstream.once('error', () => {
        if (connected) return void client.destroy();
        // Not connected: a pod that stopped answering; the next one is tried.
        this.stats.refused++;
        attempt();
      });
    };
    attempt();
  }
}
