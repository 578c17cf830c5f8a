// Which API servers a cluster has right now, for the node agents to be given
// all of them. Each API server sharing a store keeps a Lease of its own in
// kube-system (as kube-apiserver keeps its identity Lease there, labelled
// apiserver.kubernetes.io/identity), carrying its URL, renewed every few
// seconds and deleted when it stops. A peer counts as live while its Lease
// keeps changing: judged by when this process saw it change, on its own
// clock, as the leader elector judges the controllers' Lease, so the
// servers' clocks need not agree.
import { createHash } from 'node:crypto';
import type { KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';
import { rfc3339Micro, systemClock, type Clock, type Timer } from '../util/clock.ts';
import { CONTROLLER_LEASE_NAMESPACE } from '../objects/leader-leases.ts';

const LEASE = kindByName('Lease')!;
export const APISERVER_IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
export const APISERVER_IDENTITY = 'kcs-apiserver';
/** The annotation naming the URL agents reach that API server at. */
export const APISERVER_URL_ANNOTATION = 'kcs.io/url';
export const DEFAULT_APISERVER_RENEW_MS = 5_000;
export const DEFAULT_APISERVER_LEASE_MS = 20_000;

export interface ApiServerLeasesOptions {
  /** Writes this server's Lease and lists the others' (the server's own loopback client). */
  client: KcsClient;
  /** The URL agents reach this server at. */
  url: string;
  /** This server's name among them (the Lease's holderIdentity). */
  identity: string;
  renewMs?: number;
  leaseDurationMs?: number;
  clock?: Clock;
  log?: (message: string) => void;
}

export interface ApiServerLease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

/** The Lease name of the API server at url: one per address, so a restarted server takes its own back. */
export function apiServerLeaseName(url: string): string {
  return `${APISERVER_IDENTITY}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

/**
 * The API servers whose Leases have not expired at now, by their own
 * renewTime and duration: a one-off look from outside the cluster (`kcs
 * down`), on one machine's clock, where no changes can be watched.
 */
export function unexpiredApiServers(leases: ApiServerLease[], now: number): Array<{ url: string; renewedAgoMs: number; expiresInMs: number }> {
  const out: Array<{ url: string; renewedAgoMs: number; expiresInMs: number }> = [];
  for (const lease of leases) {
    const url = lease.metadata.annotations?.[APISERVER_URL_ANNOTATION];
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    if (lease.metadata.labels?.[APISERVER_IDENTITY_LABEL] !== APISERVER_IDENTITY || !url || Number.isNaN(renewed)) continue;
    const expires = renewed + (lease.spec?.leaseDurationSeconds ?? DEFAULT_APISERVER_LEASE_MS / 1000) * 1000;
    if (expires > now) out.push({ url, renewedAgoMs: Math.max(0, now - renewed), expiresInMs: expires - now });
  }
  return out.sort((a, b) => a.url.localeCompare(b.url));
}

export class ApiServerLeases {
  private readonly opts: ApiServerLeasesOptions;
  private readonly clock: Clock;
  private readonly name: string;
  /** Each peer's Lease as last seen: its resourceVersion, when it was seen to change, its URL. */
  private readonly seen = new Map<string, { resourceVersion: string; changedAt: number; url: string }>();
  private timer?: Timer;
  private stopped = false;

  constructor(opts: ApiServerLeasesOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.name = apiServerLeaseName(opts.url);
  }

  /** Writes this server's Lease and reads the others', then keeps doing so. */
  async start(): Promise<void> {
    await this.round();
    this.schedule();
  }

  /** Every live API server's URL, this one's first, the others in name order. */
  servers(): string[] {
    const now = this.clock.now().getTime();
    const ttl = this.opts.leaseDurationMs ?? DEFAULT_APISERVER_LEASE_MS;
    const others = [...this.seen.entries()].filter(([name, s]) => name !== this.name && now - s.changedAt < ttl && s.url !== this.opts.url)
      .sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => s.url);
    return [this.opts.url, ...new Set(others)];
  }

  /** Stops renewing and deletes this server's Lease, so peers drop it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.opts.client.delete(LEASE, CONTROLLER_LEASE_NAMESPACE, this.name).catch(() => {});
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.round().catch((err: unknown) => this.opts.log?.(`API server Lease ${this.name}: ${(err as Error).message}`)).finally(() => this.schedule());
    }, this.opts.renewMs ?? DEFAULT_APISERVER_RENEW_MS);
  }

  private async round(): Promise<void> {
    const before = this.servers().join(', ');
    await this.roundOnce();
    const after = this.servers().join(', ');
    if (after !== before) this.opts.log?.(`API servers of this cluster: ${after}`);
  }

  private async roundOnce(): Promise<void> {
    await this.renew();
    const now = this.clock.now().getTime();
    const list = await this.opts.client.list<ApiServerLease>(LEASE, CONTROLLER_LEASE_NAMESPACE, { labelSelector: `${APISERVER_IDENTITY_LABEL}=${APISERVER_IDENTITY}` });
    const present = new Set<string>();
    for (const lease of list.items) {
      const name = lease.metadata.name!;
      const url = lease.metadata.annotations?.[APISERVER_URL_ANNOTATION];
      if (!url) continue;
      present.add(name);
      const rv = lease.metadata.resourceVersion ?? '';
      const before = this.seen.get(name);
      if (!before || before.resourceVersion !== rv) this.seen.set(name, { resourceVersion: rv, changedAt: now, url });
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
  }

  private async renew(): Promise<void> {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: this.name, namespace: CONTROLLER_LEASE_NAMESPACE, labels: { [APISERVER_IDENTITY_LABEL]: APISERVER_IDENTITY }, annotations: { [APISERVER_URL_ANNOTATION]: this.opts.url } },
      spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: Math.ceil((this.opts.leaseDurationMs ?? DEFAULT_APISERVER_LEASE_MS) / 1000), renewTime: rfc3339Micro(this.clock.now()) },
    };
    // An apply: made the first time, renewed after, whoever wrote it last (a restarted server on the same address).
    await this.opts.client.patch(LEASE, CONTROLLER_LEASE_NAMESPACE, this.name, lease, { type: 'apply', fieldManager: APISERVER_IDENTITY, force: true });
  }
}
