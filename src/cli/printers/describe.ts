// `kcs describe`: a person-readable page per object, laid out like kubectl's.
import { formatBytes, formatMilliCpu } from '../../objects/quantity.ts';
import { nodeCapacity, podRequests } from '../../objects/requests.ts';
import type { Condition, ContainerState, ContainerStatus, KubeObject, Node, Pod } from '../../objects/types.ts';
import { LAST_APPLIED } from '../../client/apply-patch.ts';
import type { SchedulingRecord } from '../../scheduler/explain.ts';
import { age } from '../../objects/age.ts';
import { nodeStatus } from '../../objects/columns.ts';
import { renderTable } from './table.ts';

function field(label: string, value: string): string {
  return `${(label + ':').padEnd(Math.max(20, label.length + 2))}${value}`;
}

function mapLines(label: string, map: Record<string, string> | undefined, skip: string[] = []): string[] {
  const entries = Object.entries(map ?? {}).filter(([k]) => !skip.includes(k));
  if (!entries.length) return [field(label, '<none>')];
  return entries.map(([k, v], i) => (i === 0 ? field(label, `${k}=${v}`) : ' '.repeat(20) + `${k}=${v}`));
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}

function conditions(list: Condition[] | undefined): string[] {
  if (!list?.length) return ['Conditions:          <none>'];
  const rows = list.map((c) => [c.type, c.status, c.lastHeartbeatTime ?? '-', c.lastTransitionTime ?? '-', c.reason ?? '', c.message ?? '']);
  return ['Conditions:', indent(renderTable(['TYPE', 'STATUS', 'LASTHEARTBEATTIME', 'LASTTRANSITIONTIME', 'REASON', 'MESSAGE'], rows))];
}

function common(obj: KubeObject, now: Date): string[] {
  const m = obj.metadata;
  return [
    field('Name', m.name ?? ''),
    ...(m.namespace ? [field('Namespace', m.namespace)] : []),
    ...mapLines('Labels', m.labels),
    ...mapLines('Annotations', m.annotations, [LAST_APPLIED]),
    field('CreationTimestamp', `${m.creationTimestamp ?? '<unknown>'} (${age(m.creationTimestamp, now)} ago)`),
    field('UID', m.uid ?? ''),
    field('ResourceVersion', m.resourceVersion ?? ''),
  ];
}

type EventRow = { type?: string; reason?: string; message?: string; lastTimestamp?: string; count?: number; source?: { component?: string } };

/** The Events section, oldest first, as kubectl shows it. */
export function eventsSection(events: KubeObject[], now = new Date()): string[] {
  if (!events.length) return ['Events:              <none>'];
  const rows = (events as unknown as EventRow[])
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
    .map((e) => [e.type ?? '', e.reason ?? '', `${age(e.lastTimestamp, now)}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`, e.source?.component ?? '', e.message ?? '']);
  return ['Events:', indent(renderTable(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows))];
}

/** The node's last heartbeats and the gaps between them, from its Lease. */
export function heartbeatSection(heartbeats: string[], now = new Date()): string[] {
  if (!heartbeats.length) return ['Heartbeats:          <none>'];
  const times = heartbeats.map((h) => Date.parse(h)).filter(Number.isFinite);
  const gaps = times.slice(1).map((t, i) => (t - times[i]) / 1000);
  const typical = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
  const rows = times.map((t, i) => {
    const gap = i === 0 ? '' : `+${gaps[i - 1].toFixed(1)}s${typical && gaps[i - 1] > typical * 2 ? '  (gap)' : ''}`;
    return [new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'), gap];
  });
  return [`Heartbeats:          last ${times.length}, latest ${age(new Date(times[times.length - 1]).toISOString(), now)} ago`, indent(renderTable(['RENEWED', 'SINCE PREVIOUS'], rows))];
}

export function describeNode(node: Node, pods: Pod[], now = new Date(), events: KubeObject[] = [], heartbeats: string[] = []): string {
  const cap = nodeCapacity(node);
  const used = pods.reduce((acc, p) => {
    const r = podRequests(p);
    return { milliCpu: acc.milliCpu + r.milliCpu, memory: acc.memory + r.memory };
  }, { milliCpu: 0, memory: 0 });
  const pct = (a: number, b: number) => (b > 0 ? ` (${Math.round((a / b) * 100)}%)` : '');
  const lines = [
    ...common(node, now),
    field('Status', nodeStatus(node)),
    field('Unschedulable', String(node.spec.unschedulable ?? false)),
    field('Container', node.status?.containerID ?? '<none>'),
    ...conditions(node.status?.conditions),
    'Capacity:',
    `  cpu:     ${formatMilliCpu(cap.milliCpu)}`,
    `  memory:  ${cap.memory ? formatBytes(cap.memory) : '<not set>'}`,
    `  pods:    ${cap.pods}`,
    'Allocated resources:',
    indent(renderTable(['RESOURCE', 'REQUESTS'], [
      ['cpu', `${formatMilliCpu(used.milliCpu)}${pct(used.milliCpu, cap.milliCpu)}`],
      ['memory', `${formatBytes(used.memory)}${pct(used.memory, cap.memory)}`],
      ['pods', `${pods.length}${pct(pods.length, cap.pods)}`],
    ])),
    `Pods bound here:     (${pods.length})`,
    ...(pods.length
      ? [indent(renderTable(['NAMESPACE', 'NAME', 'CPU', 'MEMORY', 'STATUS', 'AGE'], pods.map((p) => {
        const r = podRequests(p);
        return [p.metadata.namespace ?? '', p.metadata.name ?? '', formatMilliCpu(r.milliCpu), formatBytes(r.memory), p.status?.phase ?? 'Pending', age(p.metadata.creationTimestamp, now)];
      })))]
      : []),
    `Pod IDs reported by agent: ${node.status?.pods?.length ? node.status.pods.join(', ') : '<none>'}`,
    ...heartbeatSection(heartbeats, now),
    ...eventsSection(events, now),
  ];
  return lines.join('\n');
}

/** The scheduler's last decision: every node's filter result and score under the policy used. */
function schedulingSection(pod: Pod): string[] {
  const s = pod.status?.scheduling as SchedulingRecord | undefined;
  if (!s) return [];
  const rows = s.nodes.map((n) => [n.name, n.fits ? 'fits' : n.reasons!.join('; '), n.fits ? String(n.score) : '-', n.name === s.node ? 'chosen' : '']);
  return [
    `Scheduling:          last decision by ${s.policy}${s.node ? `, placed on ${s.node}` : ', no node fits'}`,
    indent(renderTable(['NODE', 'FILTER', 'SCORE', ''], rows)),
    ...(s.omitted ? [`  (${s.omitted} more nodes not shown)`] : []),
    ...preemptionSection(s),
  ];
}

/** Whom the pod preempted, where, and why that node. */
function preemptionSection(s: SchedulingRecord): string[] {
  const p = s.preemption;
  if (!p) return [];
  const rows = p.victims.map((v) => [v.pod, String(v.priority), v.outcome]);
  return [
    field('Preemption', `nominated ${p.node}; ${p.reason}`),
    ...(rows.length ? [indent(renderTable(['VICTIM', 'PRIORITY', 'OUTCOME'], rows))] : []),
  ];
}

export function describePod(pod: Pod, now = new Date(), events: KubeObject[] = []): string {
  const r = podRequests(pod);
  const lines = [
    ...common(pod, now),
    field('Node', pod.spec.nodeName || '<none>'),
    field('Status', pod.status?.phase ?? 'Pending'),
    field('Scheduler', pod.spec.schedulerName ?? 'default-scheduler'),
    ...(pod.spec.priority !== undefined ? [field('Priority', String(pod.spec.priority))] : []),
    ...(pod.spec.priorityClassName ? [field('Priority Class Name', pod.spec.priorityClassName)] : []),
    ...(pod.status?.nominatedNodeName ? [field('NominatedNodeName', pod.status.nominatedNodeName)] : []),
    ...mapLines('Node-Selectors', pod.spec.nodeSelector),
    'Requests (effective):',
    `  cpu:     ${formatMilliCpu(r.milliCpu)}`,
    `  memory:  ${formatBytes(r.memory)}`,
    'Containers:',
    ...pod.spec.containers.flatMap((c) => [
      `  ${c.name}:`,
      `    Image:         ${c.image ?? '<none>'}`,
      ...containerStatusLines(pod.status?.containerStatuses?.find((s) => s.name === c.name)),
      `    Requests:      ${formatList(c.resources?.requests)}`,
      `    Limits:        ${formatList(c.resources?.limits)}`,
    ]),
    ...conditions(pod.status?.conditions),
    ...schedulingSection(pod),
    ...eventsSection(events, now),
  ];
  return lines.join('\n');
}

/** A container's state as kubectl describes it: the kind of state, then its details indented. */
function stateLines(label: string, state: ContainerState | undefined): string[] {
  const head = (kind: string) => `    ${(label + ':').padEnd(15)}${kind}`;
  const detail = (name: string, value: string | number | undefined) => (value === undefined || value === '' ? [] : [`      ${(name + ':').padEnd(13)}${value}`]);
  if (state?.running) return [head('Running'), ...detail('Started', state.running.startedAt)];
  if (state?.waiting) return [head('Waiting'), ...detail('Reason', state.waiting.reason), ...detail('Message', state.waiting.message)];
  if (state?.terminated) {
    const t = state.terminated;
    return [head('Terminated'), ...detail('Reason', t.reason), ...detail('Message', t.message), ...detail('Exit Code', t.exitCode), ...detail('Started', t.startedAt), ...detail('Finished', t.finishedAt)];
  }
  return label === 'State' ? [head('<unknown>')] : [];
}

/** What the node reports about the container: nothing until a node runs the pod. */
export function containerStatusLines(cs: ContainerStatus | undefined): string[] {
  if (!cs) return [];
  return [
    ...stateLines('State', cs.state),
    ...stateLines('Last State', cs.lastState),
    `    ${'Ready:'.padEnd(15)}${cs.ready ? 'True' : 'False'}`,
    `    ${'Restart Count:'.padEnd(15)}${cs.restartCount ?? 0}`,
  ];
}

function formatList(list: Record<string, unknown> | undefined): string {
  const entries = Object.entries(list ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(', ') : '<none>';
}

type NodePoolLike = KubeObject & {
  spec: { minNodes?: number; maxNodes: number; template: { metadata?: { labels?: Record<string, string> }; spec: { capacity: Record<string, string | number> } }; scaleUp?: { cpuUtilizationTarget?: number; windowSeconds?: number }; scaleDown?: { enabled?: boolean; utilizationThreshold?: number; unneededSeconds?: number; delayAfterAddSeconds?: number } };
  status?: { currentNodes?: number; readyNodes?: number; desiredNodes?: number; lastScaleUpTime?: string; lastScaleDownTime?: string; message?: string };
};

/** A NodePool: its bounds and policy, its nodes now, and its history (the autoscaler's decisions, as Events). */
export function describeNodePool(pool: NodePoolLike, nodes: Node[], now = new Date(), events: KubeObject[] = []): string {
  const { spec, status = {} } = pool;
  const cap = spec.template.spec.capacity;
  const down = spec.scaleDown ?? {};
  const when = (t: string | undefined) => (t ? `${t} (${age(t, now)} ago)` : '<never>');
  const nodeRows = nodes.map((n) => [n.metadata.name ?? '', nodeStatus(n), age(n.metadata.creationTimestamp, now), n.metadata.annotations?.['kcs.io/scale-down'] ? 'being removed' : '']);
  return [
    ...common(pool, now),
    field('Nodes', `min ${spec.minNodes ?? 0}, max ${spec.maxNodes}; current ${status.currentNodes ?? 0}, ready ${status.readyNodes ?? 0}, desired ${status.desiredNodes ?? spec.minNodes ?? 0}`),
    field('Template', Object.entries(cap).map(([k, v]) => `${k}=${v}`).join(', ')),
    ...mapLines('Template labels', spec.template.metadata?.labels),
    field('Scale up', `for unschedulable pods that fit a template node${spec.scaleUp?.cpuUtilizationTarget !== undefined ? `; and when CPU use stays above ${spec.scaleUp.cpuUtilizationTarget}% for ${spec.scaleUp.windowSeconds ?? 60}s` : ''}`),
    field('Scale down', down.enabled === false ? 'off' : `a node under ${down.utilizationThreshold ?? 50}% for ${down.unneededSeconds ?? 600}s, not within ${down.delayAfterAddSeconds ?? 600}s of a scale-up`),
    field('Last scale up', when(status.lastScaleUpTime)),
    field('Last scale down', when(status.lastScaleDownTime)),
    field('Last decision', status.message ?? '<none>'),
    nodeRows.length ? `Pool nodes:\n${indent(renderTable(['NAME', 'STATUS', 'AGE', ''], nodeRows))}` : 'Pool nodes:          <none>',
    // The autoscaler's decisions are its Events: the pool's history.
    ...eventsSection(events, now).map((l, i) => (i === 0 ? l.replace(/^Events:/, 'History:') : l)),
  ].join('\n');
}
