// What `kcs netpol` evaluates: the cluster's NetworkPolicies, Namespaces and
// the pods asked about, read from the API, and a pod as one end of a
// connection (its status.podIP; a pod with none has no address an ipBlock
// could match).
import { listAll } from '../client/list-all.ts';
import type { KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Endpoint, NetworkPolicy, Protocol, World } from '../objects/network-policy.ts';
import type { Namespace, Pod } from '../objects/types.ts';

export const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

export async function readWorld(client: KcsClient): Promise<World> {
  const [policies, namespaces] = await Promise.all([
    listAll<NetworkPolicy>(client, kindByName('NetworkPolicy')!, undefined),
    listAll<Namespace>(client, kindByName('Namespace')!, undefined),
  ]);
  return { policies: policies.items, namespaces: namespaces.items };
}

export async function readPods(client: KcsClient, namespace: string | undefined): Promise<Pod[]> {
  return (await listAll<Pod>(client, kindByName('Pod')!, namespace)).items;
}

export function podEndpoint(pod: Pod): Endpoint {
  return { ip: pod.status?.podIP ?? '', pod, namespace: pod.metadata.namespace };
}

/** `pod x/a (127.64.0.10)`, `pod x/a (no IP)`, or the bare address of what is no pod. */
export function describeEndpoint(e: Endpoint): string {
  if (!e.pod) return e.ip;
  return `pod ${e.namespace}/${e.pod.metadata.name} (${e.ip || 'no IP'})`;
}
