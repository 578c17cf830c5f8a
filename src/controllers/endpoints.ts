// The endpoints controller (kube-controller-manager's endpointslice and
// endpoints controllers in one): for every Service with a selector, the
// EndpointSlices and the Endpoints object its pods make
// (objects/endpoint-slices.ts), owned by the Service so the garbage
// collector deletes them with it. Keys are Services (`namespace/name`);
// a pod change queues the Services in its namespace that select it before
// or after, a node's readiness change the Services with pods on that node
// (its endpoints turn not ready at once: the proxy stops sending there),
// and a change to a slice or Endpoints someone else made queues its
// Service to be put back. Level-based, writing only what differs.
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import { isNodeReady } from '../objects/conditions.ts';
import {
  desiredEndpoints, desiredSlices, differs, hasSelector, isEndpointCandidate, isPodReady, MANAGED_BY, MANAGED_BY_LABEL, podIpOf, selects, SERVICE_NAME_LABEL, SLICES_BY_SERVICE, sliceServiceOf,
  type Endpoints, type EndpointSlice,
} from '../objects/endpoint-slices.ts';
import { kindByName, type KindInfo } from '../objects/kinds.ts';
import type { Service } from '../objects/services.ts';
import type { KubeObject, Node, Pod } from '../objects/types.ts';
import { podsOnNode } from './pods-on-node.ts';
import type { Reconciler } from './runner.ts';

const SLICE = kindByName('EndpointSlice')!;
const ENDPOINTS = kindByName('Endpoints')!;
const BY_NAMESPACE = 'metadata.namespace';

export interface EndpointsControllerOptions {
  client: KcsClient;
  services: Informer<Service>;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  slices: Informer<EndpointSlice>;
  endpoints: Informer<Endpoints>;
}

/** What of a pod decides its endpoint: a change to anything else (usage, restarts) queues nothing. */
function endpointView(pod: Pod): string {
  const ports = pod.spec.containers.map((c) => c.ports ?? null);
  return JSON.stringify([pod.metadata.labels ?? {}, pod.spec.nodeName ?? '', podIpOf(pod) ?? '', isEndpointCandidate(pod), isPodReady(pod), ports]);
}

export class EndpointsController implements Reconciler {
  readonly name = 'endpoints';
  private readonly opts: EndpointsControllerOptions;

  constructor(opts: EndpointsControllerOptions) {
    this.opts = opts;
    const byNamespace = (o: KubeObject) => o.metadata.namespace;
    if (!opts.pods.hasIndex(BY_NAMESPACE)) opts.pods.addIndex(BY_NAMESPACE, byNamespace);
    if (!opts.services.hasIndex(BY_NAMESPACE)) opts.services.addIndex(BY_NAMESPACE, byNamespace);
    if (!opts.slices.hasIndex(SLICES_BY_SERVICE)) opts.slices.addIndex(SLICES_BY_SERVICE, sliceServiceOf);
  }

  serviceHandlers(enqueue: (key: string) => void): InformerHandlers<Service> {
    return { add: (s) => enqueue(objectKey(s)), update: (_p, s) => enqueue(objectKey(s)), delete: (s) => enqueue(objectKey(s)) };
  }

  podHandlers(enqueue: (key: string) => void): InformerHandlers<Pod> {
    const selecting = (...pods: Pod[]) => {
      for (const service of this.opts.services.byIndex(BY_NAMESPACE, pods[0]!.metadata.namespace!)) {
        if (pods.some((p) => selects(service, p))) enqueue(objectKey(service));
      }
    };
    return {
      add: (p) => selecting(p),
      update: (prev, p) => { if (endpointView(prev) !== endpointView(p)) selecting(prev, p); },
      delete: (p) => selecting(p),
    };
  }

  /** A node turning Ready or not changes the readiness of every endpoint on it. */
  nodeHandlers(enqueue: (key: string) => void): InformerHandlers<Node> {
    const servicesOn = (node: Node) => {
      for (const pod of podsOnNode(this.opts.pods, node.metadata.name!)) {
        for (const service of this.opts.services.byIndex(BY_NAMESPACE, pod.metadata.namespace!)) if (selects(service, pod)) enqueue(objectKey(service));
      }
    };
    return {
      add: servicesOn,
      update: (prev, node) => { if (isNodeReady(prev) !== isNodeReady(node)) servicesOn(node); },
      delete: servicesOn,
    };
  }

  /** A managed slice or Endpoints changed or deleted by someone else is put back. */
  ownedHandlers<T extends KubeObject>(serviceKey: (o: T) => string | undefined, enqueue: (key: string) => void): InformerHandlers<T> {
    const queue = (o: T) => { const key = serviceKey(o); if (key) enqueue(key); };
    return { update: (_p, o) => queue(o), delete: queue };
  }

  sliceServiceKey(slice: EndpointSlice): string | undefined {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    return slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && service ? `${slice.metadata.namespace}/${service}` : undefined;
  }

  endpointsServiceKey(endpoints: Endpoints): string | undefined {
    return endpoints.metadata.ownerReferences?.some((r) => r.kind === 'Service' && r.controller) ? objectKey(endpoints) : undefined;
  }

  /** For the periodic resync: every Service. */
  keys(): string[] {
    return this.opts.services.keys();
  }

  async reconcile(key: string): Promise<void> {
    const service = this.opts.services.get(key);
    const namespace = key.slice(0, key.indexOf('/'));
    const existing = this.opts.slices.byIndex(SLICES_BY_SERVICE, key);
    // A deleted Service's slices and Endpoints are the garbage collector's
    // (they are owned); a Service whose selector went keeps none of ours.
    if (!service) return;
    if (!hasSelector(service)) {
      for (const slice of existing) await this.remove(SLICE, slice);
      return;
    }
    const pods = this.opts.pods.byIndex(BY_NAMESPACE, namespace);
    const nodeReady = (name: string) => { const node = this.opts.nodes.get(name); return !!node && isNodeReady(node); };
    const wanted = desiredSlices(service, pods, nodeReady);
    for (const slice of wanted) {
      const stored = existing.find((s) => s.metadata.name === slice.metadata.name);
      await this.put(SLICE, stored, slice, ['addressType', 'endpoints', 'ports']);
    }
    for (const slice of existing) if (!wanted.some((w) => w.metadata.name === slice.metadata.name)) await this.remove(SLICE, slice);
    await this.put(ENDPOINTS, this.opts.endpoints.get(key), desiredEndpoints(service, pods, nodeReady), ['subsets']);
  }

  /** Creates the object, or updates the stored one if what this controller states of it differs. */
  private async put(kind: KindInfo, stored: KubeObject | undefined, desired: KubeObject, fields: string[]): Promise<void> {
    const { client } = this.opts;
    if (!stored) {
      await client.create(kind, desired.metadata.namespace, desired);
      return;
    }
    if (!differs(stored, desired, fields)) return;
    // A slice is ours only if this Service owns it: one made by someone else under this name is left alone, and the failure retried.
    // Endpoints are the controller's for every Service with a selector, as in Kubernetes: taken over.
    const owner = desired.metadata.ownerReferences![0]!;
    if (kind === SLICE && !(stored.metadata.ownerReferences ?? []).some((r) => r.uid === owner.uid)) {
      throw new Error(`${kind.plural} ${stored.metadata.namespace}/${stored.metadata.name} exists and is not owned by Service ${owner.name} (uid ${owner.uid})`);
    }
    const next = { ...desired, metadata: { ...stored.metadata, labels: desired.metadata.labels, ownerReferences: desired.metadata.ownerReferences } };
    // Against the version read: one changed meanwhile is a conflict, retried with the informer's newer copy.
    await client.update(kind, stored.metadata.namespace, stored.metadata.name!, next);
  }

  private async remove(kind: KindInfo, obj: KubeObject): Promise<void> {
    try {
      await this.opts.client.delete(kind, obj.metadata.namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
