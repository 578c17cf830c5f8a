// Leader election over a coordination.k8s.io/v1 Lease, as Kubernetes'
// controller managers elect theirs: several control planes may share one
// store (etcd), and only the one holding the Lease runs the controllers.
//
// Every write is a compare-and-swap on the Lease's resourceVersion, so two
// candidates cannot both take it. Expiry is judged on this process's own
// clock from when it saw the record last change, never from the holder's
// renewTime: the candidates' clocks need not agree. A leader that cannot
// renew within renewDeadline stops leading, and renewDeadline is shorter
// than the lease duration, so it has stopped before any other candidate
// may see the Lease expire.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import { CONTROLLER_LEASE_NAME, CONTROLLER_LEASE_NAMESPACE } from '../objects/leader-leases.ts';
import type { KubeObject } from '../objects/types.ts';
import { rfc3339Micro, systemClock, type Clock, type Timer } from '../util/clock.ts';

const LEASE = kindByName('Lease')!;

export { CONTROLLER_LEASE_NAME, CONTROLLER_LEASE_NAMES, CONTROLLER_LEASE_NAMESPACE, NAMESPACE_CONTROLLER_LEASE_NAME } from '../objects/leader-leases.ts';

/**
 * Short, for a simulator: a failed leader is replaced within about 4 s, on
 * the scale of a failed node (a 3 s grace). Kubernetes' 15 s / 10 s / 2 s
 * keep the same order: retry < renew deadline < lease duration, with a
 * whole retry period between the deadline and expiry, so a leader that
 * lost the Lease has stopped a second before anyone else may take it, and
 * a leader has three tries to renew before its deadline.
 */
export const DEFAULT_LEASE_DURATION_MS = 4_000;
export const DEFAULT_RENEW_DEADLINE_MS = 3_000;
export const DEFAULT_RETRY_PERIOD_MS = 1_000;

export interface LeaderLease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaderElectorOptions {
  client: KcsClient;
  /** Who this candidate is, in the Lease's holderIdentity (default: hostname, pid and a random suffix). */
  identity?: string;
  name?: string;
  namespace?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: (message: string) => void;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
}

/** This process's name among the candidates: unique even for two in one process. */
export function candidateIdentity(): string {
  return `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Pure: may a candidate take a Lease it does not hold? When no one holds
 * it (never held, or released), or when the holder has not renewed for a
 * lease duration since this candidate saw the record change.
 */
export function leaseAvailable(holder: string | undefined, observedAtMs: number, leaseDurationMs: number, nowMs: number): boolean {
  return !holder || observedAtMs + leaseDurationMs <= nowMs;
}

export class LeaderElector {
  readonly identity: string;
  private readonly opts: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly name: string;
  private readonly namespace: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: (message: string) => void;
  /** The record as last read or written, and when (this clock) it was seen to change. */
  private observed?: LeaderLease;
  private observedAtMs = 0;
  private leading = false;
  private running = false;
  private tryTimer?: Timer;
  private deadlineTimer?: Timer;
  private trying?: Promise<void>;
  /** The callbacks run one after another, in the order leadership changed. */
  private transitions: Promise<void> = Promise.resolve();

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.identity = opts.identity ?? candidateIdentity();
    this.clock = opts.clock ?? systemClock;
    this.name = opts.name ?? CONTROLLER_LEASE_NAME;
    this.namespace = opts.namespace ?? CONTROLLER_LEASE_NAMESPACE;
    this.leaseDurationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.log = opts.log ?? (() => {});
    if (!(this.retryPeriodMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new Error(`leader election needs retryPeriod < renewDeadline < leaseDuration (got ${this.retryPeriodMs} ms, ${this.renewDeadlineMs} ms, ${this.leaseDurationMs} ms)`);
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Tries at once, then every retry period, for as long as it runs.
   * Resolves after the first try and what it started (onStartedLeading, if
   * it took the Lease): a lone control plane is running when this returns.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.tryNow();
    await this.trying;
    await this.transitions;
  }

  /**
   * Stops trying; a leader stops leading (its callback done) and then
   * releases the Lease, so another candidate takes over at once instead of
   * after the lease duration.
   */
  async stop(): Promise<void> {
    // A try still under way is not waited for (the store may not answer):
    // it changes nothing once stopped, and it and the release cannot both
    // win the compare-and-swap.
    this.running = false;
    this.tryTimer?.cancel();
    const wasLeading = this.leading;
    this.stopLeading('shutting down');
    await this.transitions;
    if (!wasLeading) return;
    // Unreleased, the others wait out the lease duration, as after a crash: no reason to hold a shutdown longer.
    let timer: Timer | undefined;
    await Promise.race([this.release(), new Promise<void>((resolve) => { timer = this.clock.setTimer(resolve, this.renewDeadlineMs); })]);
    timer?.cancel();
  }

  /** Resolves when the try under way, and the callbacks of every change so far, are done. */
  async settled(): Promise<void> {
    await this.trying;
    await this.transitions;
  }

  private tryNow(): void {
    const startedAt = this.clock.now().getTime();
    this.trying = this.tryAcquireOrRenew()
      .then((held) => {
        if (held) this.renewed(startedAt);
        // Taken over (we were thought gone): stop now, not at the deadline.
        else if (this.leading && this.observed?.spec?.holderIdentity !== this.identity) this.stopLeading(`${this.observed?.spec?.holderIdentity ?? 'no one'} holds the Lease`);
      })
      .catch((err: unknown) => this.log(`leader election: ${this.namespace}/${this.name}: ${(err as Error).message}`))
      .finally(() => {
        if (this.running) this.tryTimer = this.clock.setTimer(() => this.tryNow(), this.retryPeriodMs);
      });
  }

  /**
   * The deadline counts from when the renewal was sent, not from its
   * answer: the others count their lease duration from no earlier than
   * the write, and a slow answer must not let this process lead past it.
   */
  private renewed(sentAt: number): void {
    if (!this.running) return;
    this.deadlineTimer?.cancel();
    const left = sentAt + this.renewDeadlineMs - this.clock.now().getTime();
    if (left <= 0) return this.stopLeading(`the renewal took longer than ${this.renewDeadlineMs} ms`);
    this.deadlineTimer = this.clock.setTimer(() => this.stopLeading(`could not renew within ${this.renewDeadlineMs} ms`), left);
    if (this.leading) return;
    this.leading = true;
    this.log(`leader election: ${this.identity} leads (${this.namespace}/${this.name})`);
    this.transitions = this.transitions.then(() => this.opts.onStartedLeading()).catch((err: unknown) => this.giveUp(err));
  }

  /**
   * A leader that could not start what it leads for gives the Lease up
   * rather than hold it idle: another candidate may take it, or this one
   * again at its next try.
   */
  private async giveUp(err: unknown): Promise<void> {
    this.log(`leader election: ${this.identity} could not start leading, gives the Lease up: ${(err as Error).message}`);
    if (!this.leading) return;
    this.leading = false;
    this.deadlineTimer?.cancel();
    await this.release();
  }

  private stopLeading(why: string): void {
    this.deadlineTimer?.cancel();
    if (!this.leading) return;
    this.leading = false;
    this.log(`leader election: ${this.identity} stops leading: ${why}`);
    this.transitions = this.transitions.then(() => this.opts.onStoppedLeading()).catch((err: unknown) => this.log(`leader election: stopping leading failed: ${(err as Error).message}`));
  }

  /** One try: the Lease is ours after it (created, renewed or taken over), or it is another's and still valid. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    let current: LeaderLease;
    try {
      current = await this.opts.client.get<LeaderLease>(LEASE, this.namespace, this.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return this.write(() => this.opts.client.create<LeaderLease>(LEASE, this.namespace, {
        apiVersion: LEASE.apiVersion, kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace },
        spec: this.record(now, now, 0),
      }));
    }
    // Any write changes the resourceVersion: a holder renewing is seen to change.
    if (current.metadata.resourceVersion !== this.observed?.metadata.resourceVersion) {
      this.observed = current;
      this.observedAtMs = now.getTime();
    }
    const holder = current.spec?.holderIdentity;
    const ours = holder === this.identity;
    if (!ours && !leaseAvailable(holder, this.observedAtMs, this.leaseDurationMs, now.getTime())) return false;
    const transitions = current.spec?.leaseTransitions ?? 0;
    const spec = ours
      ? this.record(current.spec?.acquireTime ? new Date(current.spec.acquireTime) : now, now, transitions)
      : this.record(now, now, transitions + 1);
    return this.write(() => this.opts.client.update<LeaderLease>(LEASE, this.namespace, this.name, { ...current, spec }));
  }

  /** A write that loses the compare-and-swap means someone else wrote first: not ours this time. */
  private async write(send: () => Promise<{ body: LeaderLease }>): Promise<boolean> {
    try {
      const written = (await send()).body;
      this.observed = written;
      this.observedAtMs = this.clock.now().getTime();
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private record(acquired: Date, renewed: Date, leaseTransitions: number): LeaderLease['spec'] {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: rfc3339Micro(acquired),
      renewTime: rfc3339Micro(renewed),
      leaseTransitions,
    };
  }

  /** Gives the Lease up: no holder, so the next candidate's first try takes it. */
  private async release(): Promise<void> {
    let observed = this.observed;
    for (let attempt = 1; ; attempt++) {
      if (observed?.spec?.holderIdentity !== this.identity) return;
      const now = rfc3339Micro(this.clock.now());
      try {
        await this.opts.client.update<LeaderLease>(LEASE, this.namespace, this.name, {
          ...observed,
          spec: { leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: observed.spec.leaseTransitions ?? 0 },
        });
        this.observed = undefined;
        return;
      } catch (err) {
        // A renewal still under way when it stopped wrote first: release what it wrote, if still ours.
        if (attempt === 1 && isConflict(err)) {
          observed = await this.opts.client.get<LeaderLease>(LEASE, this.namespace, this.name).catch(() => undefined);
          continue;
        }
        // Not released: the others wait out the lease duration, as after a crash.
        this.log(`leader election: could not release ${this.namespace}/${this.name}: ${(err as Error).message}`);
        return;
      }
    }
  }
}

export interface LeaderElected<T> {
  elector: LeaderElector;
  /** What runs while this process leads; undefined while it does not. */
  readonly current: T | undefined;
  /** Stops what runs, and releases the Lease. */
  stop(): Promise<void>;
}

/**
 * Runs something only while this process leads: started on becoming
 * leader, stopped on ceasing to be, as many times as leadership changes.
 * Resolves after the first try (see LeaderElector.start).
 */
export async function runWhileLeading<T extends { stop(): Promise<void> }>(
  start: () => Promise<T>,
  opts: Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>,
): Promise<LeaderElected<T>> {
  let current: T | undefined;
  const elector = new LeaderElector({
    ...opts,
    onStartedLeading: async () => { current = await start(); },
    onStoppedLeading: async () => {
      const running = current;
      current = undefined;
      await running?.stop();
    },
  });
  await elector.start();
  return {
    elector,
    get current() { return current; },
    stop: () => elector.stop(),
  };
}
