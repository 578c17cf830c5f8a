// What a node agent reports, as pure functions of what it sees, so the
// reporting rules are tested without a server or a clock.
import { isDeepStrictEqual } from 'node:util';
import { formatBytes, formatMilliCpu } from '../objects/quantity.ts';
import { nodeCapacity, podRequests } from '../objects/requests.ts';
import type { Condition, Node, NodeStatus, Pod } from '../objects/types.ts';
import { rfc3339 } from '../util/clock.ts';

export const READY_REASON = 'KcsAgentReady';

/** The pod IDs a node reports: the pods' UIDs, sorted, so equal sets compare equal. */
export function podIds(pods: Pod[]): string[] {
  return pods.map((p) => p.metadata.uid!).filter(Boolean).sort();
}

function readyCondition(prev: Condition | undefined, now: Date): Condition {
  const stillReady = prev?.status === 'True';
  return {
    type: 'Ready',
    status: 'True',
    reason: READY_REASON,
    message: 'kcs agent is posting ready status',
    lastHeartbeatTime: rfc3339(now),
    lastTransitionTime: stillReady && prev?.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
  };
}

/**
 * The node status the agent wants: capacity from the manifest, what its
 * pods request, their IDs, and Ready. Conditions other agents or
 * controllers own are kept as they are.
 */
export function desiredNodeStatus(node: Node, pods: Pod[], now: Date): NodeStatus {
  const cap = nodeCapacity(node);
  const used = pods.reduce((a, p) => {
    const r = podRequests(p);
    return { milliCpu: a.milliCpu + r.milliCpu, memory: a.memory + r.memory };
  }, { milliCpu: 0, memory: 0 });
  const capacity = { cpu: formatMilliCpu(cap.milliCpu), memory: formatBytes(cap.memory), pods: String(cap.pods) };
  const prev = node.status ?? {};
  const others = (prev.conditions ?? []).filter((c) => c.type !== 'Ready');
  const ready = readyCondition(prev.conditions?.find((c) => c.type === 'Ready'), now);
  return {
    ...prev,
    capacity,
    allocatable: capacity,
    allocated: { cpu: formatMilliCpu(used.milliCpu), memory: formatBytes(used.memory), pods: String(pods.length) },
    pods: podIds(pods),
    conditions: [ready, ...others],
  };
}

/** Whether a status differs in anything but the heartbeat time (which alone is not worth a write). */
export function statusChanged(current: NodeStatus | undefined, desired: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined) => s && {
    ...s,
    conditions: s.conditions?.map(({ lastHeartbeatTime: _h, ...c }) => c),
  };
  return !isDeepStrictEqual(strip(current), strip(desired));
}
