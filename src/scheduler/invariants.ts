// The invariants kcs keeps, checked over a snapshot of nodes and pods. The
// fault tests run it once the system is quiet; a violation names the
// objects involved.
import { nodeCapacity, podRequests } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import { isFinished } from '../objects/conditions.ts';

export function checkInvariants(nodes: Node[], pods: Pod[]): string[] {
  const problems: string[] = [];
  const byName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  const live = pods.filter((p) => !isFinished(p));

  // No node holds more than it offers.
  for (const node of nodes) {
    const name = node.metadata.name!;
    const cap = nodeCapacity(node);
    const on = live.filter((p) => p.spec.nodeName === name);
    const cpu = on.reduce((s, p) => s + podRequests(p).milliCpu, 0);
    const memory = on.reduce((s, p) => s + podRequests(p).memory, 0);
    if (cpu > cap.milliCpu) problems.push(`node ${name}: pods request ${cpu}m CPU of ${cap.milliCpu}m`);
    if (node.spec.capacity.memory !== undefined && memory > cap.memory) problems.push(`node ${name}: pods request ${memory} bytes of memory of ${cap.memory}`);
    if (on.length > cap.pods) problems.push(`node ${name}: ${on.length} pods, room for ${cap.pods}`);
  }

  // No pod ID in two nodes' arrays.
  const listedOn = new Map<string, string[]>();
  for (const node of nodes) {
    for (const id of node.status?.pods ?? []) listedOn.set(id, [...(listedOn.get(id) ?? []), node.metadata.name!]);
  }
  for (const [id, on] of listedOn) if (on.length > 1) problems.push(`pod ${id} is listed by ${on.length} nodes: ${on.join(', ')}`);

  // Every bound pod is on a node that exists and lists it.
  for (const pod of live) {
    const name = pod.spec.nodeName;
    if (!name) continue;
    const ref = `pod ${pod.metadata.namespace}/${pod.metadata.name}`;
    const node = byName.get(name);
    if (!node) problems.push(`${ref} is bound to ${name}, which does not exist`);
    else if (!(node.status?.pods ?? []).includes(pod.metadata.uid!)) problems.push(`${ref} is bound to ${name}, which does not list it`);
  }
  return problems;
}
