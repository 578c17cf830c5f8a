// Which request bodies kcs reads in Kubernetes' protobuf encoding
// (application/vnd.kubernetes.protobuf), and the message of each. Only the
// kinds Kubernetes itself has protobuf messages for: the core kinds kcs
// serves, Lease, EndpointSlice, Job, PriorityClass, Binding, Eviction and
// DeleteOptions. kcs.io kinds have none
// (Kubernetes serves its CustomResources in JSON and YAML only), so their
// endpoints refuse protobuf with 415. No protobufjs here: the routes import
// this to say what each endpoint reads, and only a protobuf body loads the
// decoder (protobuf-body.ts).
import type { KindInfo } from '../objects/kinds.ts';

/** An object type a body may carry, as its typeMeta names it. */
export interface BodyType {
  apiVersion: string;
  kind: string;
}

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const CORE = 'k8s.io.api.core.v1';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** The protobuf message of each object type kcs reads, by `apiVersion kind`. */
const MESSAGES: Record<string, string> = {
  'v1 Namespace': `${CORE}.Namespace`,
  'v1 Node': `${CORE}.Node`,
  'v1 Pod': `${CORE}.Pod`,
  'v1 Event': `${CORE}.Event`,
  'v1 Binding': `${CORE}.Binding`,
  'v1 Service': `${CORE}.Service`,
  'v1 Endpoints': `${CORE}.Endpoints`,
  'discovery.k8s.io/v1 EndpointSlice': 'k8s.io.api.discovery.v1.EndpointSlice',
  'coordination.k8s.io/v1 Lease': 'k8s.io.api.coordination.v1.Lease',
  'batch/v1 Job': 'k8s.io.api.batch.v1.Job',
  'scheduling.k8s.io/v1 PriorityClass': 'k8s.io.api.scheduling.v1.PriorityClass',
  'policy/v1 Eviction': 'k8s.io.api.policy.v1.Eviction',
  'policy/v1beta1 Eviction': 'k8s.io.api.policy.v1beta1.Eviction',
  'meta.k8s.io/v1 DeleteOptions': `${META}.DeleteOptions`,
};

/** The messages the descriptor must hold (tools/protobuf-descriptor.ts starts from these). */
export const ROOT_MESSAGES: readonly string[] = [...new Set(Object.values(MESSAGES))];

/**
 * The message for an object type. DeleteOptions is one message in every
 * group version it is sent in (Kubernetes registers meta/v1's in each group).
 */
export function messageOf(type: BodyType): string | undefined {
  return type.kind === 'DeleteOptions' ? `${META}.DeleteOptions` : MESSAGES[`${type.apiVersion} ${type.kind}`];
}

/** What a create or update of `kind` reads: the kind itself, when it has a protobuf message. */
export function objectBodyTypes(kind: KindInfo): BodyType[] {
  const type = { apiVersion: kind.apiVersion, kind: kind.kind };
  return messageOf(type) ? [type] : [];
}

/** What a DELETE of `kind` reads: DeleteOptions in the kind's group version or meta.k8s.io/v1, as Kubernetes decodes it. */
export function deleteOptionsTypes(kind: KindInfo): BodyType[] {
  if (objectBodyTypes(kind).length === 0) return [];
  return [{ apiVersion: kind.apiVersion, kind: 'DeleteOptions' }, { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' }];
}

export const BINDING_BODY_TYPES: readonly BodyType[] = [{ apiVersion: 'v1', kind: 'Binding' }];
/** Eviction in the group versions Kubernetes serves it in (v1beta1 still, as kubectl falls back to it); its JSON too (eviction.ts). */
export const EVICTION_BODY_TYPES: readonly BodyType[] = [{ apiVersion: 'policy/v1', kind: 'Eviction' }, { apiVersion: 'policy/v1beta1', kind: 'Eviction' }];
