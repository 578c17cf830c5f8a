// Wire types in Kubernetes core/v1 shape. Only the fields kcs reads are typed;
// manifests may carry any other core/v1 field and it is kept as written.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  /** What must still happen before a deleted object goes from the store; see objects/owners.ts. */
  finalizers?: string[];
  /** The objects this one depends on: when all are gone, the garbage collector deletes it. */
  ownerReferences?: OwnerReference[];
  /** Who owns which fields (server-side apply); see objects/managed-fields.ts. */
  managedFields?: ManagedFieldsEntry[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  /** At most one owner is the object's managing controller. */
  controller?: boolean;
  /** A foreground deletion of the owner waits for this dependent to be gone. */
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export type Quantity = string | number;
export type ResourceList = { cpu?: Quantity; memory?: Quantity; pods?: Quantity; [name: string]: Quantity | undefined };

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface NodeSpec {
  /** What the simulated machine contributes: cpu cores, memory, pods. A kcs field. */
  capacity: ResourceList;
  unschedulable?: boolean;
  taints?: unknown[];
  [field: string]: unknown;
}

export interface NodeStatus {
  capacity?: ResourceList;
  allocatable?: ResourceList;
  allocated?: ResourceList;
  conditions?: Condition[];
  /** The IDs of the pods the node's agent reports it hosts. */
  pods?: string[];
  containerID?: string;
  /** The value of the last kcs.io/fail-requested the node controller carried out. */
  failureCarriedOut?: string;
  [field: string]: unknown;
}

export interface Node extends KubeObject {
  kind: 'Node';
  spec: NodeSpec;
  status?: NodeStatus;
}

export interface Container {
  name: string;
  image?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  schedulerName?: string;
  /** Higher is scheduled first and may preempt lower (admission fills it from priorityClassName); absent counts as 0. */
  priority?: number;
  priorityClassName?: string;
  /** PreemptLowerPriority (the default) or Never. */
  preemptionPolicy?: string;
  [field: string]: unknown;
}

/** A container's state, as Kubernetes reports it: exactly one of the three is set. */
export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  /** Required by Kubernetes; empty for a simulated container, which pulls no image. */
  imageID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state?: ContainerState;
  lastState?: ContainerState;
  [field: string]: unknown;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  /** When the node it is bound to started it (RFC 3339). */
  startTime?: string;
  /** Its address on its node (objects/pod-network.ts), and the node's. */
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  hostIP?: string;
  hostIPs?: Array<{ ip: string }>;
  /** The node the scheduler preempted pods on for this pod, while it waits for their room. */
  nominatedNodeName?: string;
  [field: string]: unknown;
}

export interface Pod extends KubeObject {
  kind: 'Pod';
  spec: PodSpec;
  status?: PodStatus;
}

export interface Namespace extends KubeObject {
  kind: 'Namespace';
  /** Set by the server: what must still happen before a deleted namespace is gone (`kubernetes`: its content removed). */
  spec?: { finalizers?: string[]; [field: string]: unknown };
  status?: { phase?: 'Active' | 'Terminating'; conditions?: Condition[]; [field: string]: unknown };
}

export interface ListMeta { resourceVersion: string; continue?: string; remainingItemCount?: number }

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent<T = KubeObject> { type: WatchEventType; object: T }

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }> };
  code: number;
}
