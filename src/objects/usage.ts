// Simulated resource usage: how much CPU and memory each container of a pod
// uses at a moment, from the profiles of its `kcs.io/usage` annotation (see
// docs/usage.md) or, where it says nothing, from the default rule. Read by
// the node agents each heartbeat and by the dashboard, so it stays pure and
// browser-safe; validation refuses an annotation this model could not follow.
import type { FieldError } from './field-error.ts';
import { parseBytes, parseMilliCpu } from './quantity.ts';
import type { Container, Pod } from './types.ts';
import { parseUsageAnnotation, type ParsedUsage } from './usage-annotation.ts';
import { profileCurve, ProfileError, type Curve, type UsageResource } from './usage-profile.ts';

export const USAGE_ANNOTATION = 'kcs.io/usage';
/** The annotation as a field path, in Kubernetes' form for a map key. */
export const USAGE_FIELD = `metadata.annotations[${USAGE_ANNOTATION}]`;

/** Without a profile, a container uses this share of its request... */
export const DEFAULT_USAGE_PERCENT = 50;
/** ...or, when it requests no CPU, this many millicores, so no running pod shows as idle as a stopped one. */
export const IDLE_MILLI_CPU = 1;
/** ...and, when it requests no memory, this many bytes (4Mi). */
export const IDLE_MEMORY_BYTES = 4 * 1024 * 1024;

/** One container's usage: millicores and bytes, whole numbers. */
export interface ContainerUsage { name: string; milliCpu: number; memory: number }

interface ContainerCurves { name: string; cpu: Curve; memory: Curve }

interface Plan { containers: ContainerCurves[]; errors: string[] }

/** Errors of the pod's usage annotation, with field `metadata.annotations[kcs.io/usage]`: one, listing every problem. */
export function usageErrors(pod: Pod): FieldError[] {
  const text = pod.metadata.annotations?.[USAGE_ANNOTATION];
  if (text === undefined) return [];
  const { usage, errors } = parseUsageAnnotation(text);
  const problems = errors.length ? errors : planPod(usage, pod).errors;
  if (problems.length === 0) return [];
  return [{ reason: 'FieldValueInvalid', field: USAGE_FIELD, message: `Invalid value: ${shown(text)}: ${problems.join('; ')}` }];
}

function shown(text: string): string {
  const json = JSON.stringify(text);
  return json.length > 80 ? `${json.slice(0, 77)}..."` : json;
}

/**
 * Computes pods' usage over time. Holds parsed annotations (re-parsed only when
 * the annotation string changes) and the walks' memos, per pod uid.
 */
export class UsageModel {
  private readonly pods = new Map<string, PodEntry>();

  /** Per container, in spec order. A pod whose annotation does not parse uses the default. */
  podUsage(pod: Pod, now: Date): ContainerUsage[] {
    const elapsedMs = sinceStart(pod, now);
    return this.curvesOf(pod).map(({ name, cpu, memory }) => ({
      name,
      milliCpu: Math.round(cpu(elapsedMs)),
      memory: Math.round(memory(elapsedMs)),
    }));
  }

  /** Drops what is kept for a pod that left (by uid). */
  forget(uid: string): void {
    this.pods.delete(uid);
  }

  private curvesOf(pod: Pod): ContainerCurves[] {
    const annotation = pod.metadata.annotations?.[USAGE_ANNOTATION];
    // Most pods state nothing: their constant curves go with the pod object
    // (informers never change one in place), and nothing is kept per pod.
    if (annotation === undefined) {
      let curves = defaultsOf.get(pod);
      if (!curves) defaultsOf.set(pod, (curves = pod.spec.containers.map(defaultCurves)));
      this.pods.delete(pod.metadata.uid ?? '');
      return curves;
    }
    const key = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    let entry = this.pods.get(key);
    // The same object as last time: nothing about it changed.
    if (entry?.pod === pod && entry.curves) return entry.curves;
    if (!entry || entry.annotation !== annotation) {
      const parsed = annotation === undefined ? undefined : parseUsageAnnotation(annotation);
      entry = { annotation, usage: parsed && !parsed.errors.length ? parsed.usage : undefined };
      this.pods.set(key, entry);
    }
    // The curves (and the walks' memos in them) hold the requests they were
    // resolved against: made again only if the containers change.
    const shape = containersShape(pod);
    if (!entry.curves || entry.shape !== shape) {
      const plan = entry.usage && planPod(entry.usage, pod);
      entry.curves = plan && !plan.errors.length ? plan.containers : pod.spec.containers.map(defaultCurves);
      entry.shape = shape;
    }
    entry.pod = pod;
    return entry.curves;
  }
}

/** The default curves of a pod without a usage annotation, by pod object. */
const defaultsOf = new WeakMap<Pod, ContainerCurves[]>();

interface PodEntry {
  /** The pod object the curves were last checked against. */
  pod?: Pod;
  annotation: string | undefined;
  /** Undefined when there is no annotation or it does not parse: the default rule. */
  usage: ParsedUsage | undefined;
  shape?: string;
  curves?: ContainerCurves[];
}

function containersShape(pod: Pod): string {
  return JSON.stringify(pod.spec.containers.map((c) => [c.name, c.resources?.requests?.cpu, c.resources?.requests?.memory, c.resources?.limits?.cpu, c.resources?.limits?.memory]));
}

/** Milliseconds since the pod started on its node, else since it was created; 0 if neither is known (or it is in the future). */
function sinceStart(pod: Pod, now: Date): number {
  const startTime = pod.status?.startTime;
  const text = typeof startTime === 'string' ? startTime : pod.metadata.creationTimestamp;
  const start = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(start) ? 0 : Math.max(0, now.getTime() - start);
}

// ---- a pod's profiles, resolved against its containers ---------------------------------

/** The curves of each container, or why the annotation does not fit this pod. */
function planPod(usage: ParsedUsage, pod: Pod): Plan {
  const errors: string[] = [];
  const names = pod.spec.containers.map((c) => c.name);
  for (const name of usage.containers.keys()) {
    if (!names.includes(name)) errors.push(`${name}: the pod has no container of that name (its containers: ${names.join(', ')})`);
  }
  const containers = pod.spec.containers.map((c) => {
    const curve = (resource: UsageResource): Curve => {
      const override = usage.containers.get(c.name)?.[resource];
      const profile = override ?? usage.all[resource];
      if (!profile) return defaultCurve(c, resource);
      try {
        return profileCurve(profile, requestOf(c, resource), resource);
      } catch (err) {
        if (!(err instanceof ProfileError)) throw err;
        errors.push(`${override ? `${c.name}.${resource}` : `${resource} (container ${c.name})`}: ${err.message}`);
        return defaultCurve(c, resource);
      }
    };
    return { name: c.name, cpu: curve('cpu'), memory: curve('memory') };
  });
  return { containers, errors };
}

function defaultCurves(c: Container): ContainerCurves {
  return { name: c.name, cpu: defaultCurve(c, 'cpu'), memory: defaultCurve(c, 'memory') };
}

function defaultCurve(c: Container, resource: UsageResource): Curve {
  const request = requestOf(c, resource);
  const idle = resource === 'cpu' ? IDLE_MILLI_CPU : IDLE_MEMORY_BYTES;
  const value = request > 0 ? (request * DEFAULT_USAGE_PERCENT) / 100 : idle;
  return () => value;
}

/** The container's request (millicores or bytes; 0 if none); a limit alone is its request, as Kubernetes defaults it. */
function requestOf(c: Container, resource: UsageResource): number {
  const quantity = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  if (quantity === undefined) return 0;
  return resource === 'cpu' ? parseMilliCpu(quantity) : parseBytes(quantity);
}
