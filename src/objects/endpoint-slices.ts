// What a Service's endpoints are, from its pods and their nodes: the
// EndpointSlices (discovery.k8s.io/v1) and the Endpoints object (core/v1)
// the endpoints controller keeps, as pure functions of what it observes.
// A pod is an endpoint when the Service's selector matches it, it is bound
// to a node, has an address, has not finished and is not being deleted; it
// is ready when its Ready condition is True and its node is Ready. Pods are
// grouped by the ports their Service's ports resolve to on them (a named
// targetPort is looked up in each pod's container ports), as Kubernetes
// groups them, at most 100 endpoints to a slice.
import { createHash } from 'node:crypto';
import { isFinished } from './conditions.ts';
import { labelsMatch } from './selectors.ts';
import type { KubeObject, OwnerReference, Pod } from './types.ts';
import { HEADLESS, type Service, type ServicePort } from './services.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

/** The informer index of the slices kcs manages, by their Service (`namespace/name`): the endpoints controller and the proxy share it. */
export const SLICES_BY_SERVICE = 'service';
export function sliceServiceOf(s: KubeObject): string | undefined {
  return s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? `${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL]}` : undefined;
}
/** Set on the Endpoints of a headless Service, as Kubernetes does. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface EndpointPort { name: string; port: number; protocol: string; appProtocol?: string }

export interface Endpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointSlice extends KubeObject {
  kind: 'EndpointSlice';
  addressType: 'IPv4';
  endpoints: Endpoint[];
  ports: EndpointPort[];
}

export interface EndpointAddress { ip: string; nodeName: string; targetRef: Endpoint['targetRef'] }

export interface Endpoints extends KubeObject {
  kind: 'Endpoints';
  subsets?: Array<{ addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports: EndpointPort[] }>;
}

/** The Service keeps endpoints only with a selector; one without is the user's to fill. */
export function hasSelector(service: Service): boolean {
  return Object.keys(service.spec?.selector ?? {}).length > 0;
}

export function selects(service: Service, pod: Pod): boolean {
  return hasSelector(service) && pod.metadata.namespace === service.metadata.namespace && labelsMatch(service.spec.selector, pod.metadata.labels);
}

export function podIpOf(pod: Pod): string | undefined {
  return pod.status?.podIP || undefined;
}

/** Bound, addressed, running or about to, and not being deleted. */
export function isEndpointCandidate(pod: Pod): boolean {
  return !!pod.spec.nodeName && !!podIpOf(pod) && !isFinished(pod) && !pod.metadata.deletionTimestamp;
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

type ContainerPort = { name?: string; containerPort?: number; protocol?: string };

/** The port a Service port reaches on this pod, or undefined when the pod has no port of that name. */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec.containers) {
    for (const p of (c.ports ?? []) as ContainerPort[]) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Every Service port resolved on this pod, or undefined when one cannot be: the pod is left out. */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] | undefined {
  const out: EndpointPort[] = [];
  for (const p of service.spec.ports ?? []) {
    const port = resolveTargetPort(p, pod);
    if (port === undefined) return undefined;
    out.push({ name: p.name ?? '', port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) });
  }
  return out;
}

interface PortGroup { ports: EndpointPort[]; endpoints: Endpoint[] }

/**
 * The Service's endpoints by the ports they serve, each group's endpoints
 * in pod-name order (so the same pods make the same content, and nothing
 * is written again). nodeReady answers for the node a pod is bound to.
 */
export function endpointGroups(service: Service, pods: Pod[], nodeReady: (node: string) => boolean): Map<string, PortGroup> {
  const groups = new Map<string, PortGroup>();
  const sorted = pods.filter((p) => selects(service, p) && isEndpointCandidate(p)).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  for (const pod of sorted) {
    const ports = endpointPorts(service, pod);
    if (!ports) continue;
    const ready = service.spec.publishNotReadyAddresses === true || (isPodReady(pod) && nodeReady(pod.spec.nodeName!));
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, endpoints: [] }));
    group.endpoints.push({
      addresses: [podIpOf(pod)!],
      conditions: { ready, serving: ready, terminating: false },
      nodeName: pod.spec.nodeName!,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    });
  }
  return groups;
}

export function serviceOwnerReference(service: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `<service>-<5 characters>`, derived from the Service's uid and the slice's place, so a reconcile finds its own slice again by name. */
export function sliceName(service: Service, part: string): string {
  const digest = createHash('sha256').update(`${service.metadata.uid}/${part}`).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[digest[i]! % NAME_ALPHABET.length];
  return `${service.metadata.name}-${suffix}`;
}

/**
 * The slices the Service should have: per port group, one per 100
 * endpoints; with no endpoints at all, one empty slice (Kubernetes'
 * placeholder, so a client sees the Service has been looked at).
 */
export function desiredSlices(service: Service, pods: Pod[], nodeReady: (node: string) => boolean): EndpointSlice[] {
  const groups = [...endpointGroups(service, pods, nodeReady).entries()];
  const slices: EndpointSlice[] = [];
  const make = (part: string, endpoints: Endpoint[], ports: EndpointPort[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: sliceName(service, part), namespace: service.metadata.namespace,
      labels: { ...service.metadata.labels, [SERVICE_NAME_LABEL]: service.metadata.name!, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [serviceOwnerReference(service)],
    },
    addressType: 'IPv4', endpoints, ports,
  });
  if (!groups.length) return [make('placeholder', [], [])];
  for (const [key, group] of groups) {
    for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      slices.push(make(`${key}/${i / MAX_ENDPOINTS_PER_SLICE}`, group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE), group.ports));
    }
  }
  return slices;
}

/** The core/v1 Endpoints of the Service: one subset per port group, ready and not-ready addresses apart. */
export function desiredEndpoints(service: Service, pods: Pod[], nodeReady: (node: string) => boolean): Endpoints {
  const subsets = [...endpointGroups(service, pods, nodeReady).values()].map((g) => {
    const address = (e: Endpoint): EndpointAddress => ({ ip: e.addresses[0]!, nodeName: e.nodeName, targetRef: e.targetRef });
    const ready = g.endpoints.filter((e) => e.conditions.ready).map(address);
    const notReady = g.endpoints.filter((e) => !e.conditions.ready).map(address);
    return { ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: g.ports };
  });
  const labels = { ...service.metadata.labels, ...(service.spec.clusterIP === HEADLESS ? { [HEADLESS_LABEL]: '' } : {}) };
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: service.metadata.name, namespace: service.metadata.namespace, ...(Object.keys(labels).length ? { labels } : {}), ownerReferences: [serviceOwnerReference(service)] },
    ...(subsets.length ? { subsets } : {}),
  };
}

/** Whether what the controller states of an object (labels, owners, content) differs from what is stored. */
export function differs(stored: KubeObject, desired: KubeObject, fields: string[]): boolean {
  const pick = (o: KubeObject) => JSON.stringify([o.metadata.labels ?? {}, o.metadata.ownerReferences ?? [], ...fields.map((f) => (o as unknown as Record<string, unknown>)[f] ?? null)]);
  return pick(stored) !== pick(desired);
}
