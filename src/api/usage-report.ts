// What a node agent reports each heartbeat: the resource usage of each of
// its pods' containers, and of the node as a whole where it measures it
// (real load: the container's cgroup). `POST /apis/kcs.io/v1/nodeusagereports`,
// created and never stored (as Kubernetes' TokenReview), kept in memory by
// the UsageRecorder and served as metrics.k8s.io. Numbers, not quantity
// strings: an agent sends one every second for up to 110 pods.
//
//   { apiVersion: kcs.io/v1, kind: NodeUsageReport, metadata: { name: n1 },
//     windowSeconds: 1,
//     node: { milliCpu: 1480, memory: 52428800,            (optional: measured)
//             throttling: { periods: 10, throttledPeriods: 4, throttledSeconds: 0.41 } },
//     pods: [ { namespace: default, name: web, uid: ...,
//               containers: [ { name: app, milliCpu: 250, memory: 67108864 } ],
//               calls: [ { call: backend 5/s, perSecond: 5, sent: 50, answered: 49,     (optional)
//                          errors: { ECONNREFUSED: 1 }, byPod: { default/backend-1: 25, ... },
//                          latencyMs: { p50: 0.6, p99: 2.1 } } ] } ] }
import type { FieldError } from '../objects/validation.ts';
import { errors } from './errors.ts';

export const USAGE_REPORT_KIND = { kind: 'NodeUsageReport', apiVersion: 'kcs.io/v1', plural: 'nodeusagereports', path: '/apis/kcs.io/v1/nodeusagereports' } as const;

export interface ContainerUsageReport { name: string; milliCpu: number; memory: number }
/**
 * What a pod's calls to a Service (its kcs.io/calls annotation) met since
 * the pod started calling: counts, the pods that answered, and the latency
 * of its recent answers.
 */
export interface CallReport {
  /** The entry as the annotation wrote it. */
  call: string;
  perSecond: number;
  sent: number;
  answered: number;
  /** Failed requests by why (ECONNREFUSED, HTTP 503, ServiceNotFound, ...). */
  errors: Record<string, number>;
  /** Answers by the pod that served them (namespace/name). */
  byPod: Record<string, number>;
  latencyMs?: { p50: number; p99: number };
}

export interface PodUsageReport { namespace: string; name: string; uid?: string; containers: ContainerUsageReport[]; calls?: CallReport[] }
/** CPU throttling read from the node's cgroup since its previous report (cpu.stat). */
export interface Throttling { periods: number; throttledPeriods: number; throttledSeconds: number }

export interface NodeUsageReport {
  apiVersion: typeof USAGE_REPORT_KIND.apiVersion;
  kind: typeof USAGE_REPORT_KIND.kind;
  metadata: { name: string };
  /** The interval the figures are averaged over (the heartbeat). */
  windowSeconds: number;
  /** Measured usage of the node as a whole, where the agent measures it; otherwise the sum of its pods'. */
  node?: { milliCpu: number; memory: number; throttling?: Throttling };
  pods: PodUsageReport[];
}

/** Pods one report may carry: a node holds at most a few hundred. */
const MAX_PODS = 10_000;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

const isCounts = (v: unknown): v is Record<string, number> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isCount);

function callProblem(c: Partial<CallReport> | null): string | undefined {
  if (!c || typeof c !== 'object') return 'must be an object';
  if (typeof c.call !== 'string') return 'call (the annotation\'s entry) is required';
  if (!isCount(c.perSecond) || !isCount(c.sent) || !isCount(c.answered)) return 'perSecond, sent and answered must be numbers >= 0';
  if (!isCounts(c.errors) || !isCounts(c.byPod)) return 'errors and byPod must map names to numbers >= 0';
  if (c.latencyMs !== undefined && !(isCount(c.latencyMs?.p50) && isCount(c.latencyMs?.p99))) return 'latencyMs must have p50 and p99, numbers >= 0';
  return undefined;
}

/** The report, checked; a 422 naming the first bad fields otherwise. */
export function parseUsageReport(body: unknown, name?: string): NodeUsageReport {
  const problems: FieldError[] = [];
  const bad = (field: string, message: string) => problems.push({ reason: 'FieldValueInvalid', field, message });
  const r = body as Partial<NodeUsageReport> | null;
  if (!r || typeof r !== 'object') throw errors.badRequest('a NodeUsageReport must be a JSON object');
  if (r.apiVersion !== USAGE_REPORT_KIND.apiVersion || r.kind !== USAGE_REPORT_KIND.kind) bad('kind', `must be ${USAGE_REPORT_KIND.apiVersion} ${USAGE_REPORT_KIND.kind}`);
  const node = r.metadata?.name ?? name;
  if (typeof node !== 'string' || !node) bad('metadata.name', 'the reporting node\'s name is required');
  if (!isCount(r.windowSeconds) || r.windowSeconds === 0) bad('windowSeconds', 'must be a number of seconds above 0');
  if (r.node !== undefined) {
    if (!isCount(r.node?.milliCpu)) bad('node.milliCpu', 'must be a number >= 0');
    if (!isCount(r.node?.memory)) bad('node.memory', 'must be a number >= 0');
    const t = r.node?.throttling;
    if (t !== undefined && !(isCount(t?.periods) && isCount(t?.throttledPeriods) && isCount(t?.throttledSeconds))) bad('node.throttling', 'periods, throttledPeriods and throttledSeconds must be numbers >= 0');
  }
  if (!Array.isArray(r.pods)) bad('pods', 'must be a list');
  else if (r.pods.length > MAX_PODS) bad('pods', `at most ${MAX_PODS} pods in one report`);
  else {
    r.pods.forEach((p, i) => {
      if (problems.length > 10) return;
      if (typeof p?.namespace !== 'string' || typeof p?.name !== 'string') bad(`pods[${i}]`, 'namespace and name are required');
      if (!Array.isArray(p?.containers)) return void bad(`pods[${i}].containers`, 'must be a list');
      p.containers.forEach((c, j) => {
        if (typeof c?.name !== 'string' || !isCount(c?.milliCpu) || !isCount(c?.memory)) bad(`pods[${i}].containers[${j}]`, 'name, milliCpu and memory (numbers >= 0) are required');
      });
      if (p.calls !== undefined) {
        if (!Array.isArray(p.calls)) return void bad(`pods[${i}].calls`, 'must be a list');
        p.calls.forEach((c, j) => {
          const problem = callProblem(c);
          if (problem) bad(`pods[${i}].calls[${j}]`, problem);
        });
      }
    });
  }
  if (problems.length) throw errors.invalid(USAGE_REPORT_KIND.kind, String(node ?? ''), problems);
  return r as NodeUsageReport;
}
