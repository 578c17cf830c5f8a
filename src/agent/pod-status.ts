// What an agent reports about each pod on its node, as pure functions of the
// pod and the time: its containers' states, restart counts and readiness, in
// Kubernetes' shape (status.containerStatuses and the Ready and
// ContainersReady conditions). Everything a restart needs to know (when the
// container failed, how often) is in the status itself, so an agent that
// restarts picks up where the last one left off.
import { isDeepStrictEqual } from 'node:util';
import { setCondition } from '../objects/conditions.ts';
import { rfc3339 } from '../util/clock.ts';
import { SIMULATE_UNHEALTHY, unhealthyContainers } from '../objects/pod-health.ts';
import { exitCodeOf, lifetimesOf, LIFETIME_ANNOTATION, type ContainerLifetime } from '../objects/pod-lifetime.ts';
import type { ContainerStatus, Pod, PodStatus } from '../objects/types.ts';

export interface RestartBackoff {
  /** The wait after the first failure; each further failure doubles it. */
  baseMs: number;
  /** The most it grows to. */
  maxMs: number;
}

/**
 * Kubernetes waits 10 s doubling to 5 min; a simulator wants to show a crash
 * loop in seconds: 1, 2, 4, 8, 16, 30, 30 ... s.
 */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { baseMs: 1000, maxMs: 30_000 };

export const CRASH_LOOP = 'CrashLoopBackOff';

/** How long a container that has restarted restartCount times waits before it runs again. */
export function restartBackoffMs(restartCount: number, backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF): number {
  if (restartCount <= 0) return 0;
  // Capped before the power, so a huge count cannot overflow to Infinity*0 trouble.
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(restartCount - 1, 40));
}

/** Container times keep milliseconds (RFC 3339 allows them), so sub-second back-offs are exact. */
function instant(d: Date): string {
  return d.toISOString();
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * A simulated container pulls no image, so it has no image digest to
 * report: imageID is empty, as a kubelet reports it before the pull. The
 * field is required in Kubernetes' ContainerStatus, so it is always there.
 */
const NO_IMAGE_ID = '';

function fresh(name: string, image: string | undefined, ready: boolean, now: Date): ContainerStatus {
  return { name, image: image ?? '', imageID: NO_IMAGE_ID, ready, started: true, restartCount: 0, state: { running: { startedAt: instant(now) } }, lastState: {} };
}

/**
 * One step of a container's life at a health check: a running container
 * that fails is restarted (restartCount + 1) and waits out its back-off in
 * CrashLoopBackOff; a waiting one whose back-off is over runs again. One
 * step per check, so a restarted container always runs until the next check
 * before it is judged.
 */
export function stepContainer(cs: ContainerStatus, failing: boolean, pod: Pod, now: Date, backoff: RestartBackoff): ContainerStatus {
  const { running, waiting } = cs.state ?? {};
  if (running) {
    if (!failing) return cs.ready ? cs : { ...cs, ready: true };
    const restartCount = cs.restartCount + 1;
    const wait = restartBackoffMs(restartCount, backoff);
    return {
      ...cs,
      ready: false,
      started: false,
      restartCount,
      // Kubernetes' own wording, so it reads as kubectl users know it.
      state: { waiting: { reason: CRASH_LOOP, message: `back-off ${seconds(wait)} restarting failed container=${cs.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', message: `failed its health check (annotation ${SIMULATE_UNHEALTHY})`, startedAt: running.startedAt, finishedAt: instant(now) } },
    };
  }
  if (waiting) {
    const failedAt = Date.parse(cs.lastState?.terminated?.finishedAt ?? '');
    const due = (Number.isFinite(failedAt) ? failedAt : 0) + restartBackoffMs(cs.restartCount, backoff);
    if (now.getTime() < due) return cs;
    return { ...cs, ready: !failing, started: true, state: { running: { startedAt: instant(now) } } };
  }
  // No state we know (written by someone else): start it.
  return { ...fresh(cs.name, cs.image, !failing, now), restartCount: cs.restartCount, lastState: cs.lastState ?? {} };
}

/** How a container that ended as its lifetime says is marked, so its restart is timed by the agent and not by the next health check. */
const LIFETIME_EXIT = `ended as its ${LIFETIME_ANNOTATION} says`;

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function restartPolicyOf(pod: Pod): RestartPolicy {
  const p = pod.spec.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

function endedByLifetime(cs: ContainerStatus): boolean {
  return cs.lastState?.terminated?.message === LIFETIME_EXIT || cs.state?.terminated?.message === LIFETIME_EXIT;
}

/**
 * A running container whose lifetime is over ends, at the moment it was due
 * (not when the agent noticed): it exits with the code its lifetime draws for
 * this run, and restarts after its back-off when the restartPolicy says so
 * (Always; OnFailure when it failed), or stays terminated. A container
 * waiting out the back-off after such an end runs again once it is over.
 */
export function stepLifetime(cs: ContainerStatus, lifetime: ContainerLifetime, policy: RestartPolicy, pod: Pod, now: Date, backoff: RestartBackoff): ContainerStatus {
  const { running, waiting } = cs.state ?? {};
  if (running) {
    const started = Date.parse(running.startedAt ?? '');
    if (!Number.isFinite(started) || now.getTime() < started + lifetime.durationMs) return cs;
    const exitCode = exitCodeOf(pod, cs.name, lifetime, cs.restartCount);
    const terminated = {
      exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message: LIFETIME_EXIT,
      startedAt: running.startedAt, finishedAt: instant(new Date(started + lifetime.durationMs)),
    };
    const restarts = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restarts) return { ...cs, ready: false, started: false, state: { terminated } };
    const restartCount = cs.restartCount + 1;
    const wait = restartBackoffMs(restartCount, backoff);
    return {
      ...cs, ready: false, started: false, restartCount, lastState: { terminated },
      state: { waiting: { reason: CRASH_LOOP, message: `back-off ${seconds(wait)} restarting failed container=${cs.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } },
    };
  }
  if (waiting && endedByLifetime(cs)) {
    const due = Date.parse(cs.lastState!.terminated!.finishedAt ?? '') + restartBackoffMs(cs.restartCount, backoff);
    if (!(now.getTime() >= due)) return cs;
    return { ...cs, ready: true, started: true, state: { running: { startedAt: instant(new Date(due)) } } };
  }
  return cs;
}

/** When the next lifetime event of the pod's containers is due (an end, or a restart after one), in ms since the epoch. */
export function nextLifetimeDue(pod: Pod, backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF): number | undefined {
  if (pod.status?.phase !== 'Running') return undefined;
  const lifetimes = lifetimesOf(pod);
  if (lifetimes.size === 0) return undefined;
  let next: number | undefined;
  for (const cs of pod.status.containerStatuses ?? []) {
    const lifetime = lifetimes.get(cs.name);
    if (!lifetime) continue;
    let due: number | undefined;
    if (cs.state?.running) due = Date.parse(cs.state.running.startedAt ?? '') + lifetime.durationMs;
    else if (cs.state?.waiting && endedByLifetime(cs)) due = Date.parse(cs.lastState!.terminated!.finishedAt ?? '') + restartBackoffMs(cs.restartCount, backoff);
    if (due !== undefined && Number.isFinite(due) && (next === undefined || due < next)) next = due;
  }
  return next;
}

/** The phase of a pod whose containers are all terminated for good: Succeeded when every one exited 0. */
function finishedPhase(statuses: ContainerStatus[]): 'Succeeded' | 'Failed' | undefined {
  if (statuses.length === 0 || !statuses.every((cs) => cs.state?.terminated)) return undefined;
  return statuses.every((cs) => cs.state!.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
}

export interface PodStatusOptions {
  now: Date;
  backoff?: RestartBackoff;
  /** A health check (each heartbeat): containers may fail and restart. Otherwise only what is missing is filled in. */
  check: boolean;
  /** The address the node gives the pod (objects/pod-network.ts); none when the node has no pod range. */
  podIP?: string;
}

/** Where nodes' agents listen: every node shares the host's loopback. */
export const HOST_IP = '127.0.0.1';

/**
 * The pod's status fields the agent owns (phase, containerStatuses, and the
 * Initialized, ContainersReady and Ready conditions), or undefined when they
 * need no write. A pod the node has just been given starts Running with
 * every container running and no restarts: any statuses from another node
 * were cleared when it was unbound, and a container the statuses miss
 * starts fresh.
 */
export function nextPodStatus(pod: Pod, opts: PodStatusOptions): Pick<PodStatus, 'phase' | 'conditions' | 'containerStatuses' | 'startTime' | 'podIP' | 'podIPs' | 'hostIP' | 'hostIPs'> | undefined {
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return undefined;
  const failing = unhealthyContainers(pod);
  const backoff = opts.backoff ?? DEFAULT_RESTART_BACKOFF;
  const known = new Map((status.phase === 'Running' ? status.containerStatuses ?? [] : []).map((cs) => [cs.name, cs]));
  const lifetimes = lifetimesOf(pod);
  const policy = restartPolicyOf(pod);
  const containerStatuses = pod.spec.containers.map((c) => {
    const reported = known.get(c.name);
    if (!reported) return fresh(c.name, c.image, !failing.has(c.name), opts.now);
    // A status an earlier agent wrote without imageID gains it (and so is written once more).
    let cs = reported.imageID === undefined ? { ...reported, imageID: NO_IMAGE_ID } : reported;
    // A container that has ended for good is not checked or restarted again.
    if (cs.state?.terminated) return cs;
    const lifetime = lifetimes.get(c.name);
    // Its lifetime runs on the agent's clock, checked or not; its health only at a check.
    if (lifetime) cs = stepLifetime(cs, lifetime, policy, pod, opts.now, backoff);
    const lifetimeWait = !!cs.state?.waiting && endedByLifetime(cs);
    if (opts.check && !lifetimeWait && !cs.state?.terminated) cs = stepContainer(cs, failing.has(c.name), pod, opts.now, backoff);
    return cs;
  });
  const finished = finishedPhase(containerStatuses);
  const unready = containerStatuses.filter((cs) => !cs.ready).map((cs) => cs.name);
  const ready = unready.length === 0;
  // Kubernetes' reason for a pod whose containers have all ended.
  const why = ready ? {} : finished ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  let conditions = setCondition(status.conditions, { type: 'Initialized', status: 'True' }, opts.now);
  conditions = setCondition(conditions, { type: 'ContainersReady', status: ready ? 'True' : 'False', ...why }, opts.now);
  conditions = setCondition(conditions, { type: 'Ready', status: ready ? 'True' : 'False', ...why }, opts.now);
  // setCondition keeps a reason the new entry does not state: a Ready=True must not keep the old ContainersNotReady.
  if (ready) conditions = conditions.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? withoutReason(c) : c));
  // When this node started it, as the kubelet records it: a pod that moved starts again (its usage profile too).
  const startTime = status.phase === 'Running' && typeof status.startTime === 'string' ? status.startTime : rfc3339(opts.now);
  const network = opts.podIP ? { podIP: opts.podIP, podIPs: [{ ip: opts.podIP }], hostIP: HOST_IP, hostIPs: [{ ip: HOST_IP }] } : {};
  const next = { phase: finished ?? ('Running' as const), startTime, ...network, conditions, containerStatuses };
  const same = status.phase === next.phase && status.startTime === startTime && status.podIP === opts.podIP && isDeepStrictEqual(status.conditions, conditions) && isDeepStrictEqual(status.containerStatuses, containerStatuses);
  return same ? undefined : next;
}

function withoutReason<T extends { reason?: string; message?: string }>(c: T): T {
  const { reason: _r, message: _m, ...rest } = c;
  return rest as T;
}
