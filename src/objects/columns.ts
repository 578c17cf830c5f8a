// Which columns a listing shows for each kind, derived from the object alone:
// `kcs get` prints them and the API serves them as Table responses.
import { formatBytes, formatMilliCpu, parseBytes, parseMilliCpu } from './quantity.ts';
import { nodeCapacity, podRequests } from './requests.ts';
import { podRestarts } from './pod-health.ts';
import type { KubeObject, Node, Pod } from './types.ts';
import { age, humanDuration } from './age.ts';
import { formatLabelSelector, type LabelSelector } from './label-selector.ts';
import { kindByName } from './kinds.ts';
import type { Job } from './job-status.ts';
import type { PriorityClass } from './priority-classes.ts';
import type { Workflow } from './workflows.ts';

export interface Column {
  header: string;
  wide?: boolean;
  value(obj: KubeObject, now: Date): string;
}

export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  if (node.spec.unschedulable) s += ',SchedulingDisabled';
  return s;
}

function cpuOf(list: Record<string, unknown> | undefined): string {
  const v = list?.cpu;
  return v === undefined ? '-' : formatMilliCpu(parseMilliCpu(v as string));
}

function memoryOf(list: Record<string, unknown> | undefined): string {
  const v = list?.memory;
  return v === undefined ? '-' : formatBytes(parseBytes(v as string));
}

function labels(obj: KubeObject): string {
  const l = obj.metadata.labels ?? {};
  const s = Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');
  return s || '<none>';
}

/** The file a GitOps sync applied the object from (its kcs.io/source annotation). */
function source(obj: KubeObject): string {
  return obj.metadata.annotations?.['kcs.io/source'] ?? '<none>';
}

const NODE_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'STATUS', value: (o) => nodeStatus(o as Node) },
  { header: 'CPU', value: (o) => cpuOf((o as Node).spec.capacity) },
  { header: 'MEMORY', value: (o) => memoryOf((o as Node).spec.capacity) },
  { header: 'PODS', value: (o) => `${(o as Node).status?.pods?.length ?? 0}/${nodeCapacity(o as Node).pods}` },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'CPU-ALLOCATED', wide: true, value: (o) => cpuOf((o as Node).status?.allocated) },
  { header: 'MEMORY-ALLOCATED', wide: true, value: (o) => memoryOf((o as Node).status?.allocated) },
  { header: 'CONTAINER', wide: true, value: (o) => shortId((o as Node).status?.containerID) },
  { header: 'SOURCE', wide: true, value: source },
  { header: 'LABELS', wide: true, value: labels },
];

function shortId(id: string | undefined): string {
  if (!id) return '<none>';
  return id.replace(/^[a-z]+:\/\//, '').slice(0, 12);
}

/** As kubectl: a container's waiting reason (CrashLoopBackOff) says more than the phase. */
export function podStatus(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (waiting && pod.status?.phase === 'Running') return waiting;
  return pod.status?.phase ?? 'Pending';
}

/** kubectl's READY: containers ready of containers declared. */
export function podReady(pod: Pod): string {
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${pod.spec.containers.length}`;
}

/** kubectl's RESTARTS: the containers' restarts summed, with how long ago the last was. */
export function podRestartsColumn(pod: Pod, now: Date): string {
  const total = podRestarts(pod);
  const last = (pod.status?.containerStatuses ?? []).map((c) => c.lastState?.terminated?.finishedAt).filter((t): t is string => !!t).sort().pop();
  return total && last ? `${total} (${age(last, now)} ago)` : String(total);
}

const POD_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'READY', value: (o) => podReady(o as Pod) },
  { header: 'STATUS', value: (o) => podStatus(o as Pod) },
  { header: 'RESTARTS', value: (o, now) => podRestartsColumn(o as Pod, now) },
  { header: 'CPU', value: (o) => formatMilliCpu(podRequests(o as Pod).milliCpu) },
  { header: 'MEMORY', value: (o) => { const m = podRequests(o as Pod).memory; return m ? formatBytes(m) : '0'; } },
  { header: 'NODE', value: (o) => (o as Pod).spec.nodeName || '<none>' },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  // As kubectl's -o wide: the pod's address (from its node's range).
  { header: 'IP', wide: true, value: (o) => (o as Pod).status?.podIP ?? '<none>' },
  { header: 'UID', wide: true, value: (o) => o.metadata.uid ?? '' },
  { header: 'SOURCE', wide: true, value: source },
  { header: 'LABELS', wide: true, value: labels },
];

/** kubectl's columns for namespaces: NAME STATUS AGE, the status being the phase. */
const NAMESPACE_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'STATUS', value: (o) => String((o.status as { phase?: string } | undefined)?.phase ?? '') },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'LABELS', wide: true, value: labels },
];

const LEASE_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'HOLDER', value: (o) => String((o.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? '') },
  { header: 'RENEWED', value: (o, now) => { const t = (o.spec as { renewTime?: string } | undefined)?.renewTime; return t ? `${age(t, now)} ago` : '<never>'; } },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

type EventLike = { type?: string; reason?: string; message?: string; lastTimestamp?: string; count?: number; involvedObject?: { kind?: string; name?: string } };
const ev = (o: KubeObject) => o as unknown as EventLike;

const EVENT_COLUMNS: Column[] = [
  { header: 'LAST SEEN', value: (o, now) => age(ev(o).lastTimestamp ?? o.metadata.creationTimestamp, now) },
  { header: 'TYPE', value: (o) => ev(o).type ?? '' },
  { header: 'REASON', value: (o) => ev(o).reason ?? '' },
  { header: 'OBJECT', value: (o) => `${(ev(o).involvedObject?.kind ?? '').toLowerCase()}/${ev(o).involvedObject?.name ?? ''}` },
  { header: 'COUNT', wide: true, value: (o) => String(ev(o).count ?? 1) },
  { header: 'MESSAGE', value: (o) => ev(o).message ?? '' },
];

type NodePoolLike = { spec?: { minNodes?: number; maxNodes?: number }; status?: { currentNodes?: number; desiredNodes?: number; readyNodes?: number; message?: string } };
const pool = (o: KubeObject) => o as unknown as NodePoolLike;

const NODEPOOL_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'MIN', value: (o) => String(pool(o).spec?.minNodes ?? 0) },
  { header: 'CURRENT', value: (o) => String(pool(o).status?.currentNodes ?? 0) },
  { header: 'DESIRED', value: (o) => String(pool(o).status?.desiredNodes ?? pool(o).spec?.minNodes ?? 0) },
  { header: 'MAX', value: (o) => String(pool(o).spec?.maxNodes ?? '') },
  { header: 'READY', value: (o) => String(pool(o).status?.readyNodes ?? 0) },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'LAST DECISION', wide: true, value: (o) => pool(o).status?.message ?? '' },
];

type ServiceLike = { spec?: { type?: string; clusterIP?: string; selector?: Record<string, string>; ports?: Array<{ port?: number; protocol?: string; nodePort?: number }> } };
type EndpointSliceLike = { addressType?: string; endpoints?: Array<{ addresses?: string[] }>; ports?: Array<{ port?: number; name?: string }> };
type EndpointsLike = { subsets?: Array<{ addresses?: Array<{ ip?: string }>; ports?: Array<{ port?: number }> }> };
const svc = (o: KubeObject) => (o as unknown as ServiceLike).spec ?? {};
const slice = (o: KubeObject) => o as unknown as EndpointSliceLike;

/** kubectl's way of listing many values: the first three, then how many more. */
function firstThree(values: string[], empty: string): string {
  if (!values.length) return empty;
  return values.length > 3 ? `${values.slice(0, 3).join(',')} + ${values.length - 3} more...` : values.join(',');
}

const SERVICE_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'TYPE', value: (o) => svc(o).type ?? 'ClusterIP' },
  { header: 'CLUSTER-IP', value: (o) => svc(o).clusterIP || '<none>' },
  { header: 'EXTERNAL-IP', value: () => '<none>' },
  { header: 'PORT(S)', value: (o) => (svc(o).ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>' },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'SELECTOR', wide: true, value: (o) => Object.entries(svc(o).selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
];

const ENDPOINTSLICE_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'ADDRESSTYPE', value: (o) => slice(o).addressType ?? '' },
  { header: 'PORTS', value: (o) => firstThree((slice(o).ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*')), '<unset>') },
  { header: 'ENDPOINTS', value: (o) => firstThree((slice(o).endpoints ?? []).flatMap((e) => e.addresses ?? []), '<unset>') },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

/** Ready addresses with each port (ip:port), as kubectl lists Endpoints. */
function endpointsColumn(o: KubeObject): string {
  const pairs = ((o as unknown as EndpointsLike).subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip ?? ''])));
  return firstThree(pairs, '<none>');
}

const ENDPOINTS_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'ENDPOINTS', value: endpointsColumn },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

/** kubectl's columns for network policies: the pods each selects, as a label selector. */
const NETWORKPOLICY_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'POD-SELECTOR', value: (o) => formatLabelSelector((o.spec as { podSelector?: LabelSelector } | undefined)?.podSelector) },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

/** A Job's state in kubectl's words: how it ended, else what holds it, else Running. */
export function jobStatus(job: Job): string {
  const is = (type: string) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
  if (is('Complete')) return 'Complete';
  if (is('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  for (const type of ['Suspended', 'FailureTarget', 'SuccessCriteriaMet']) if (is(type)) return type;
  return 'Running';
}

/** kubectl's COMPLETIONS: pods succeeded of those needed; without completions, one pod succeeding is enough. */
function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** kubectl's DURATION: from the start to completion, or to now while it runs; nothing before it started. */
function jobDuration(job: Job, now: Date): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime;
  return end ? humanDuration(Date.parse(end) - Date.parse(start)) : age(start, now);
}

const job = (o: KubeObject) => o as Job;
const templateContainers = (o: KubeObject) => job(o).spec.template?.spec?.containers ?? [];

const JOB_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'STATUS', value: (o) => jobStatus(job(o)) },
  { header: 'COMPLETIONS', value: (o) => jobCompletions(job(o)) },
  { header: 'DURATION', value: (o, now) => jobDuration(job(o), now) },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'CONTAINERS', wide: true, value: (o) => templateContainers(o).map((c) => c.name).join(',') },
  { header: 'IMAGES', wide: true, value: (o) => templateContainers(o).map((c) => c.image ?? '').join(',') },
  { header: 'SELECTOR', wide: true, value: (o) => formatLabelSelector(job(o).spec.selector as LabelSelector | undefined) },
];

const pc = (o: KubeObject) => o as PriorityClass;

const PRIORITYCLASS_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'VALUE', value: (o) => String(pc(o).value ?? '') },
  { header: 'GLOBAL-DEFAULT', value: (o) => String(pc(o).globalDefault ?? false) },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  { header: 'PREEMPTIONPOLICY', value: (o) => pc(o).preemptionPolicy ?? '' },
];

const workflow = (o: KubeObject) => o as Workflow;

const WORKFLOW_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  // Nothing has run before the workflow controller first writes its status.
  { header: 'STATUS', value: (o) => workflow(o).status?.phase ?? 'Pending' },
  { header: 'JOBS', value: (o) => `${(workflow(o).status?.jobs ?? []).filter((j) => j.phase === 'Succeeded').length}/${workflow(o).spec?.jobs?.length ?? 0}` },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

const NAMESPACE_COLUMN: Column = { header: 'NAMESPACE', value: (o) => o.metadata.namespace ?? '' };

/** A kind without columns of its own lists by name and age, as Kubernetes lists a custom resource that declares no printer columns. */
const DEFAULT_COLUMNS: Column[] = [
  { header: 'NAME', value: (o) => o.metadata.name ?? '' },
  { header: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
];

const COLUMNS: Record<string, Column[]> = { Node: NODE_COLUMNS, Namespace: NAMESPACE_COLUMNS, Pod: POD_COLUMNS, Lease: LEASE_COLUMNS, Event: EVENT_COLUMNS, NodePool: NODEPOOL_COLUMNS, NetworkPolicy: NETWORKPOLICY_COLUMNS, Service: SERVICE_COLUMNS, EndpointSlice: ENDPOINTSLICE_COLUMNS, Endpoints: ENDPOINTS_COLUMNS, Job: JOB_COLUMNS, PriorityClass: PRIORITYCLASS_COLUMNS, Workflow: WORKFLOW_COLUMNS };

export function columnsFor(kind: string, opts: { wide: boolean; allNamespaces: boolean }): Column[] {
  const base = COLUMNS[kind] ?? DEFAULT_COLUMNS;
  const cols = base.filter((c) => opts.wide || !c.wide);
  // A cluster-scoped kind has no namespace to show, whatever -A says.
  return opts.allNamespaces && kindByName(kind)?.namespaced !== false ? [NAMESPACE_COLUMN, ...cols] : cols;
}
