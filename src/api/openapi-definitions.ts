// The OpenAPI definitions kcs serves: Kubernetes' own for the core kinds
// (schemas/openapi/kubernetes.json, generated from the kubernetes-models
// package by tools/openapi-definitions.ts), kcs's extension fields added to
// them, and the kcs.io kinds converted from their JSON Schemas in schemas/.
// Definitions use swagger 2.0 references (`#/definitions/<name>`); the v3
// documents rewrite them (openapi.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KINDS, type KindInfo } from '../objects/kinds.ts';
import { COMMIT_KIND } from './commit.ts';

export type Schema = { [key: string]: unknown };

const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const QUANTITY = ref('io.k8s.apimachinery.pkg.api.resource.Quantity');
const quantities = (description: string): Schema => ({ description, type: 'object', additionalProperties: QUANTITY });

/**
 * Fields kcs keeps beside Kubernetes' own (they are in schemas/*.json and
 * src/objects/types.ts): a client validating against these definitions, or
 * `kubectl explain`, sees them like any other field.
 */
const KCS_FIELDS: Record<string, Record<string, Schema>> = {
  'io.k8s.api.core.v1.NodeSpec': {
    capacity: quantities('kcs: the size of the simulated machine (cpu, memory, pods), what it contributes to the cluster. When absent, status.capacity as written by a kubelet or KWOK is taken instead.'),
  },
  'io.k8s.api.core.v1.NodeStatus': {
    allocated: quantities('kcs: the sum of the requests of the pods bound to the node, as its agent reports them.'),
    pods: { description: 'kcs: the UIDs of the pods the node\'s agent reports it runs.', type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
    containerID: { description: 'kcs: the machine (container) running the node: docker://<id> or virtual://<name>.', type: 'string' },
    failureCarriedOut: { description: 'kcs: the last failure asked for with the kcs.io/fail-requested annotation that the node controller carried out (its value).', type: 'string' },
    reservations: {
      description: 'kcs: the scheduler\'s ledger of room taken on this node, written before a pod is bound so that two schedulers cannot fill the same room.',
      type: 'array', 'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'object', required: ['uid', 'milliCpu', 'memory', 'at'],
        properties: {
          uid: { description: 'The UID of the pod the room is kept for.', type: 'string' },
          pod: { description: 'namespace/name of that pod, for people reading it.', type: 'string' },
          milliCpu: { description: 'CPU taken, in millicores.', type: 'integer', format: 'int64' },
          memory: { description: 'Memory taken, in bytes.', type: 'integer', format: 'int64' },
          at: { description: 'When the entry was written, in milliseconds since the epoch.', type: 'integer', format: 'int64' },
        },
      },
    },
  },
  'io.k8s.apimachinery.pkg.version.Info': {
    clusterId: { description: 'kcs: names this cluster\'s machines (a control plane sharing a Docker daemon with another keeps its own).', type: 'string' },
    kcsVersion: { description: 'kcs: the kcs release.', type: 'string' },
    runtime: { description: 'kcs: the runtime the server runs on.', type: 'string' },
  },
  'io.k8s.api.core.v1.PodStatus': {
    scheduling: {
      description: 'kcs: the scheduler\'s last decision about this pod: the policy, the node chosen, and each node\'s verdict (kcs describe pod shows it).',
      type: 'object', required: ['policy', 'nodes'],
      properties: {
        policy: { description: 'The scoring policy that decided.', type: 'string' },
        node: { description: 'The node chosen; absent when none fits.', type: 'string' },
        nodes: {
          description: 'The nodes examined (at most 20: the best that fit and the first that did not).',
          type: 'array', 'x-kubernetes-list-type': 'atomic',
          items: {
            type: 'object', required: ['name', 'fits'],
            properties: {
              name: { description: 'The node.', type: 'string' },
              fits: { description: 'Whether the pod fits on it.', type: 'boolean' },
              reasons: { description: 'Why it does not fit.', type: 'array', items: { type: 'string' } },
              score: { description: 'The policy\'s score for a node that fits.', type: 'number', format: 'double' },
            },
          },
        },
        omitted: { description: 'How many nodes the record leaves out.', type: 'integer', format: 'int32' },
      },
    },
  },
};

/** Kubernetes' name for a kind's definition: its Go package, reversed domain first (io.k8s.api.core.v1.Pod, io.kcs.v1.Commit). */
export function definitionName(group: string, version: string, kind: string): string {
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (group.endsWith('.k8s.io')) return `io.k8s.api.${group.slice(0, -'.k8s.io'.length)}.${version}.${kind}`;
  // Kubernetes' own groups without a domain (batch, apps, policy).
  if (!group.includes('.')) return `io.k8s.api.${group}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

export function kindDefinition(kind: KindInfo, list = false): string {
  return definitionName(kind.group, kind.version, list ? kind.listKind : kind.kind);
}

const KCS_SCHEMA_FILES: Record<string, string> = { SchedulerConfiguration: 'schedulerconfiguration.json', NodePool: 'nodepool.json', Workflow: 'workflow.json', [COMMIT_KIND.kind]: 'commit.json' };

/** The shared pieces of schemas/meta.json, as the Kubernetes definitions they stand for. */
const META_REFS: Record<string, Schema> = {
  'meta.json#/definitions/objectMeta': ref(`${META}.ObjectMeta`),
  'meta.json#/definitions/quantity': QUANTITY,
  'meta.json#/definitions/resourceList': { type: 'object', additionalProperties: QUANTITY },
  'meta.json#/definitions/stringMap': { type: 'object', additionalProperties: { type: 'string' } },
  // The shape of every status condition (Node, Pod, Job): type and status, why, and when.
  'meta.json#/definitions/condition': {
    type: 'object', required: ['type', 'status'],
    properties: {
      type: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' },
      lastHeartbeatTime: ref(`${META}.Time`), lastProbeTime: ref(`${META}.Time`), lastTransitionTime: ref(`${META}.Time`),
    },
  },
  // A Workflow's job templates hold Job specs.
  'job.json#/properties/spec': ref('io.k8s.api.batch.v1.JobSpec'),
};

/** A JSON Schema of schemas/ as an OpenAPI schema: const as a one-value enum, meta.json references as Kubernetes', no keywords OpenAPI lacks. */
function fromJsonSchema(node: Schema): Schema {
  if (typeof node.$ref === 'string') {
    const target = META_REFS[node.$ref];
    if (!target) throw new Error(`no OpenAPI form for ${node.$ref}`);
    return target;
  }
  const out: Schema = {};
  if (node.title !== undefined && node.description === undefined) out.description = node.title;
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$id': case 'title': case 'propertyNames': case 'definitions': continue;
      // kcs's own formats (dns1123-label, ...) are checked on write; OpenAPI clients know none of them.
      case 'format': continue;
      case 'const': out.type = typeof value; out.enum = [value]; continue;
      case 'enum': out.type ??= typeof (value as unknown[])[0]; out.enum = value; continue;
      case 'type': out.type = Array.isArray(value) ? value.find((t) => t !== 'null') : value; continue;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, fromJsonSchema(v)]));
        continue;
      case 'items':
        out.items = fromJsonSchema(value as Schema);
        continue;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'object' ? fromJsonSchema(value as Schema) : value;
        continue;
      default: out[key] = value;
    }
  }
  return out;
}

function kcsKindDefinitions(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [kindName, file] of Object.entries(KCS_SCHEMA_FILES)) {
    const raw = JSON.parse(readFileSync(SCHEMA_DIR + file, 'utf8')) as Schema;
    const info = KINDS.find((k) => k.kind === kindName);
    const [group, version] = (info?.apiVersion ?? COMMIT_KIND.apiVersion).split('/');
    const definition = fromJsonSchema(raw);
    // As Kubernetes' definitions: the type fields are not required of a body.
    definition.required = (definition.required as string[]).filter((f) => f !== 'apiVersion' && f !== 'kind');
    definition['x-kubernetes-group-version-kind'] = [{ group, kind: kindName, version }];
    out[definitionName(group, version, kindName)] = definition;
    if (info) {
      out[kindDefinition(info, true)] = {
        description: `${info.listKind} is a list of ${info.kind} objects.`,
        type: 'object', required: ['items'],
        properties: {
          apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
          items: { description: `The ${info.plural}.`, type: 'array', items: ref(kindDefinition(info)) },
          kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
          metadata: { description: 'Standard list metadata.', ...ref(`${META}.ListMeta`) },
        },
        'x-kubernetes-group-version-kind': [{ group, kind: info.listKind, version }],
      };
    }
  }
  return out;
}

let cached: Record<string, Schema> | undefined;

/** Every definition kcs serves, by name (built once). */
export function definitions(): Record<string, Schema> {
  if (cached) return cached;
  const official = (JSON.parse(readFileSync(SCHEMA_DIR + 'openapi/kubernetes.json', 'utf8')) as { definitions: Record<string, Schema> }).definitions;
  for (const [name, fields] of Object.entries(KCS_FIELDS)) {
    const definition = official[name];
    if (!definition) throw new Error(`no definition ${name} to add kcs fields to`);
    definition.properties = { ...(definition.properties as Record<string, Schema>), ...fields };
  }
  return (cached = { ...official, ...kcsKindDefinitions() });
}

/** The names a definition references, directly or through others, itself included. */
export function closure(roots: string[], defs = definitions()): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    if (!defs[name]) throw new Error(`no definition ${name}`);
    seen.add(name);
    walk(defs[name]);
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') visit(value.slice('#/definitions/'.length));
      else walk(value);
    }
  };
  roots.forEach(visit);
  return seen;
}
