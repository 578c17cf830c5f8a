// A pod as it is once unbound from its node: the one rule the controllers,
// `kcs drain` (client/unbind.ts) and the dashboard's drain (which cannot
// bundle the client's Node-only parts) all write.
import type { Pod, PodStatus } from './types.ts';

/** The node a Pending pod was taken off, and why ("node-2 missed heartbeats for 3.2 s"). */
export const MOVED_FROM = 'kcs.io/moved-from';
export const MOVED_BECAUSE = 'kcs.io/moved-because';

/** The conditions a node's agent reports about a pod's containers: meaningless once the pod has left it. */
const NODE_CONDITIONS = new Set(['Initialized', 'ContainersReady', 'Ready']);

/** The status of a pod on no node: Pending, no containers, only the conditions not about them (PodScheduled). */
function unboundStatus(status: PodStatus | undefined): PodStatus {
  // Its start and its address were its node's: the next node starts it again, with an address of its own.
  const { containerStatuses: _c, startTime: _s, podIP: _ip, podIPs: _ips, hostIP: _h, hostIPs: _hs, ...rest } = status ?? {};
  const conditions = status?.conditions?.filter((c) => !NODE_CONDITIONS.has(c.type));
  return { ...rest, ...(conditions ? { conditions } : {}), phase: 'Pending' };
}

/** The pod as it is after unbinding: no node, Pending, and why it moved. */
export function unbound(pod: Pod, because: string, extra?: Record<string, string>): Pod {
  const { nodeName: _n, ...spec } = pod.spec;
  const annotations = { ...pod.metadata.annotations, ...extra, [MOVED_FROM]: pod.spec.nodeName ?? '', [MOVED_BECAUSE]: because };
  return { ...pod, metadata: { ...pod.metadata, annotations }, spec, status: unboundStatus(pod.status) };
}
