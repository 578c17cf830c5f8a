// The resource kinds the API serves, described once: how they are named in
// URLs and on the command line, and whether they live in a namespace.

export interface KindInfo {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** '' for the core group, served under /api/v1; others under /apis/{group}/{version}. */
  group: string;
  version: string;
  apiVersion: string;
  /** Whether the kind has a /status subresource (and so a status the main resource may not write). */
  hasStatus: boolean;
  /** Groups a user can name at once, as in Kubernetes discovery (`kubectl get all`). */
  categories: string[];
}

function kind(k: Omit<KindInfo, 'apiVersion' | 'version' | 'group' | 'hasStatus' | 'categories'> & { group?: string; version?: string; hasStatus?: boolean; categories?: string[] }): KindInfo {
  const group = k.group ?? '';
  const version = k.version ?? 'v1';
  return { ...k, group, version, apiVersion: group ? `${group}/${version}` : version, hasStatus: k.hasStatus ?? true, categories: k.categories ?? [] };
}

export const KINDS: KindInfo[] = [
  kind({ kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false }),
  kind({ kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false }),
  kind({ kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true, categories: ['all'] }),
  // The default scheduling policy, changed at runtime by applying this object.
  kind({ kind: 'SchedulerConfiguration', listKind: 'SchedulerConfigurationList', plural: 'schedulerconfigurations', singular: 'schedulerconfiguration', shortNames: ['schedconf'], namespaced: false, group: 'kcs.io', hasStatus: false }),
  // A group of identical nodes the autoscaler grows and shrinks (kcs.io: Kubernetes has no such kind; cluster-autoscaler reads cloud groups).
  kind({ kind: 'NodePool', listKind: 'NodePoolList', plural: 'nodepools', singular: 'nodepool', shortNames: ['np'], namespaced: false, group: 'kcs.io' }),
  kind({ kind: 'Event', listKind: 'EventList', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true, hasStatus: false }),
  // A node agent's heartbeat: one small write per interval, so the Node
  // object (and everyone watching nodes) changes only when its status does.
  kind({ kind: 'Lease', listKind: 'LeaseList', plural: 'leases', singular: 'lease', shortNames: [], namespaced: true, group: 'coordination.k8s.io', hasStatus: false }),
  kind({ kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', plural: 'networkpolicies', singular: 'networkpolicy', shortNames: ['netpol'], namespaced: true, group: 'networking.k8s.io', hasStatus: false }),
  // A stable address for the pods a selector picks, and the endpoints the endpoints controller keeps for it.
  kind({ kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service', shortNames: ['svc'], namespaced: true, categories: ['all'] }),
  kind({ kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice', shortNames: [], namespaced: true, group: 'discovery.k8s.io', hasStatus: false }),
  kind({ kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'], namespaced: true, hasStatus: false }),
  // Batch work: pods that run to completion (a Job), how pods rank (a PriorityClass), and Jobs run in dependency order (kcs.io: a Workflow).
  kind({ kind: 'Job', listKind: 'JobList', plural: 'jobs', singular: 'job', shortNames: [], namespaced: true, group: 'batch', categories: ['all'] }),
  kind({ kind: 'PriorityClass', listKind: 'PriorityClassList', plural: 'priorityclasses', singular: 'priorityclass', shortNames: ['pc'], namespaced: false, group: 'scheduling.k8s.io', hasStatus: false }),
  kind({ kind: 'Workflow', listKind: 'WorkflowList', plural: 'workflows', singular: 'workflow', shortNames: ['wf'], namespaced: true, group: 'kcs.io' }),
];

/** The namespace node agents keep their heartbeat Leases in, as in Kubernetes. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Where a kind is served: /api/v1 or /apis/{group}/{version}. */
export function apiPrefix(kind: KindInfo): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

export const DEFAULT_NAMESPACE = 'default';

/**
 * The namespaces every cluster has from its start, as Kubernetes makes them,
 * and which may never be deleted (Kubernetes' immortal namespaces).
 */
export const SYSTEM_NAMESPACES: readonly string[] = [DEFAULT_NAMESPACE, 'kube-system', 'kube-public', NODE_LEASE_NAMESPACE];

/** The finalizer Kubernetes puts in every Namespace's spec: the namespace controller removes it once the namespace is empty. */
export const NAMESPACE_FINALIZER = 'kubernetes';

export function kindByName(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** Resolves what a user types (`nodes`, `node`, `no`, `Node`) to a kind. */
export function kindByAlias(alias: string): KindInfo | undefined {
  const a = alias.toLowerCase();
  return KINDS.find((k) => k.plural === a || k.singular === a || k.shortNames.includes(a) || k.kind.toLowerCase() === a);
}
