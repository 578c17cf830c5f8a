// A corpus of hostile and malformed requests. Each must be refused with a
// specific 4xx Status, leave the server answering, and store nothing. The
// cases that are a manifest a user could `kubectl apply -f` live in
// test/support/bad-manifests.ts, shared with the kubectl corpus.
import test, { type ExecutionContext } from 'ava';
import { DEFAULT_BODY_LIMIT } from '../../src/api/body.ts';
import { MAX_COMMIT_OPERATIONS } from '../../src/api/commit.ts';
import { USAGE_ANNOTATION, USAGE_FIELD } from '../../src/objects/usage.ts';
import { CALLS_ANNOTATION, CALLS_FIELD } from '../../src/objects/pod-calls.ts';
import { LIFETIME_ANNOTATION, LIFETIME_FIELD } from '../../src/objects/pod-lifetime.ts';
import { BAD_MANIFESTS, billionLaughs, deepArray, deepObject, DEPTH, nodeYaml, YAML } from '../support/bad-manifests.ts';
import {
  createAll, FRESH_REVISION, namespace, NAMESPACES, node, nodePath, NODES, openApi, pod, podPath, PODS, rawRequest, withApp, withAppOptions,
  type Client, type TestApi,
} from './helpers.ts';

/** The objects a case with needsTargets runs against, as the server returned them. */
interface Targets {
  /** Node n1. */
  n1: any;
  /** Pod p1, not bound. */
  p1: any;
  /** Pod p2, bound to n1. */
  p2: any;
}

interface BadCase {
  title: string;
  method?: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET';
  /** Defaults to the node collection. */
  path?: string;
  /**
   * A string is sent as is, an object as JSON; a function is called per
   * send (large bodies, or bodies naming the targets' resourceVersions).
   */
  body?: string | object | ((targets?: Targets) => string | object);
  type?: string;
  /** The Accept header (reads asked for as Tables). */
  accept?: string;
  /** Sent with node:http in 64 KiB chunks, with a Content-Length or chunked. */
  stream?: 'content-length' | 'chunked';
  /** Needs the target objects (node n1, pods p1 and p2) to exist. */
  needsTargets?: boolean;
  code: number;
  reason: string;
  /** Fields the Status must name, in details.causes and in the message. */
  fields?: string[];
  message?: RegExp;
}

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';
/** A server-side apply of node n1 by the manager "ci"; `query` adds or replaces parameters. */
const applyPath = (query = 'fieldManager=ci') => `${nodePath('n1')}?${query}`;

const nodeWith = (mutate: (n: any) => void) => { const n = node('n1'); mutate(n); return n; };
const podWith = (mutate: (p: any) => void) => { const p = pod('p1'); mutate(p); return p; };

const TEN_MB = 10 * 1024 * 1024;
/** A valid node whose annotation makes the body `size` bytes. */
function paddedNode(size: number): string {
  const head = '{"apiVersion":"v1","kind":"Node","metadata":{"name":"big","annotations":{"pad":"';
  const tail = '"}},"spec":{"capacity":{"cpu":"1"}}}';
  return head + 'x'.repeat(size - head.length - tail.length) + tail;
}

// ---- NodePools and usage
const NODEPOOLS = '/apis/kcs.io/v1/nodepools';
const nodePool = (mutate: (p: any) => void) => {
  const p: any = { apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'np1' }, spec: { minNodes: 1, maxNodes: 4, template: { spec: { capacity: { cpu: '2', memory: '4Gi' } } } } };
  mutate(p);
  return p;
};
const USAGE_REPORTS = '/apis/kcs.io/v1/nodeusagereports';
const usageReport = (mutate: (r: any) => void) => {
  const r: any = { apiVersion: 'kcs.io/v1', kind: 'NodeUsageReport', metadata: { name: 'n1' }, windowSeconds: 1, pods: [] };
  mutate(r);
  return r;
};

// ---- NetworkPolicies
const NETPOLS = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';
/** A valid policy (web takes port 80 from pods labelled app=client), changed by mutate. */
const netpol = (mutate: (p: any) => void) => {
  const p: any = {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np1' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 80 }] }] },
  };
  mutate(p);
  return p;
};
const ingress0 = (p: any) => p.spec.ingress[0];

// ---- Services
const SERVICES = '/api/v1/namespaces/default/services';
/** A valid Service (port 80 to the pods labelled app=web), changed by mutate. */
const svc = (mutate: (s: any) => void) => {
  const s: any = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
  mutate(s);
  return s;
};

// ---- batch work: Jobs, PriorityClasses, Workflows
const JOBS = '/apis/batch/v1/namespaces/default/jobs';
/** A valid Job (one container, restartPolicy Never), changed by mutate. */
const jobWith = (mutate: (j: any) => void) => {
  const j: any = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } } } };
  mutate(j);
  return j;
};
const PRIORITY_CLASSES = '/apis/scheduling.k8s.io/v1/priorityclasses';
const priorityClass = (mutate: (c: any) => void) => {
  const c: any = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'batch' }, value: 100 };
  mutate(c);
  return c;
};
const WORKFLOWS = '/apis/kcs.io/v1/namespaces/default/workflows';
/** A valid Workflow of two jobs, b after a, changed by mutate. */
const workflowWith = (mutate: (w: any) => void) => {
  const template = () => ({ spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'step', image: 'busybox' }] } } } });
  const w: any = { apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'w1' }, spec: { jobs: [{ name: 'a', template: template() }, { name: 'b', dependsOn: ['a'], template: template() }] } };
  mutate(w);
  return w;
};

// ---- commits and bindings
const COMMITS = '/apis/kcs.io/v1/commits';
const commit = (...operations: unknown[]) => ({ apiVersion: 'kcs.io/v1', kind: 'Commit', operations });
const event = (name: string) => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' }, reason: 'Scheduled', message: 'm', type: 'Normal',
});
const createEvent = (name = 'e1') => ({ verb: 'create', object: event(name) });
/** A write of n1's status that would succeed on its own (n1 as the targets have it). */
const n1Status = (tg?: Targets) => ({ verb: 'update', subresource: 'status', object: { ...tg!.n1, status: { allocatable: { cpu: '1' } } } });
/** An object as an update must name it: kind, name and resourceVersion. */
const stated = (obj: any, resourceVersion: unknown = '1') => ({ ...obj, metadata: { ...obj.metadata, resourceVersion } });
const bindingPath = (name: string) => `${podPath(name)}/binding`;
const binding = (pod: string, target: unknown = { kind: 'Node', name: 'n1' }) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: pod }, target });
const bindingWith = (mutate: (b: any) => void) => { const b = binding('p1'); mutate(b); return b; };
const evictionPath = (name: string) => `${podPath(name)}/eviction`;
const eviction = (pod: string, deleteOptions?: unknown) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' }, ...(deleteOptions === undefined ? {} : { deleteOptions }) });
const evictionWith = (mutate: (e: any) => void) => { const e = eviction('p1'); mutate(e); return e; };
const logPath = (name: string, query: string) => `${podPath(name)}/log?${query}`;

const CASES: BadCase[] = [
  // Creates of a Node, Pod or Namespace manifest (also run through kubectl).
  ...BAD_MANIFESTS,

  // API-only from here: patches, subresources, commits, media types and
  // sizes, and bodies kubectl would not send as they stand (it splits
  // documents and lists into objects, routes each object by its kind, and
  // drops metadata.namespace of a cluster-scoped object).

  // ---- unparseable bodies
  { title: 'JSON with a trailing second value', body: '{"apiVersion":"v1","kind":"Node"} {}', code: 400, reason: 'BadRequest', message: /invalid JSON/ },
  { title: 'a YAML body with two documents', body: nodeYaml('"1"', 'n1') + '---\n' + nodeYaml('"1"', 'n2'), type: YAML, code: 400, reason: 'BadRequest', message: /one document/ },
  { title: 'a JSON array body', body: '[]', code: 400, reason: 'BadRequest' },
  { title: 'a JSON null body', body: 'null', code: 400, reason: 'BadRequest' },
  { title: 'a JSON string body', body: '"Node"', code: 400, reason: 'BadRequest' },

  // ---- media types and sizes
  { title: 'a text/plain body', body: nodeYaml('"1"'), type: 'text/plain', code: 415, reason: 'UnsupportedMediaType' },

  // ---- protobuf bodies (a string's characters below 0x80 are its bytes: "k8s\0", then runtime.Unknown's fields)
  { title: 'a protobuf body that is only the "k8s\\0" prefix', body: 'k8s\0', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /nothing follows the "k8s\\0" prefix/ },
  { title: 'a protobuf body without the "k8s\\0" prefix', body: nodeWith(() => {}), type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /does not appear to be a protobuf message/ },
  { title: 'a truncated protobuf body', body: 'k8s\0\x0a\x0f\x0a\x02v1', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /not a valid protobuf envelope.*index out of range/ },
  // Each U+00FF goes out as c3 bf, two bytes with the varint continuation bit: the raw field's length reads as 4,159,758,275.
  { title: 'a protobuf body whose length is 4 GB', body: 'k8s\0\x12\u00ff\u00ff\x0f', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /index out of range: \d+ \+ 4159758275 > \d+/ },
  { title: 'a protobuf body with an invalid wire type', body: 'k8s\0\x2f', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /invalid wire type 7/ },
  { title: 'a protobuf body of 100,000 nested groups', body: 'k8s\0' + '+'.repeat(100_000), type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /maximum nesting depth exceeded/ },
  { title: 'a protobuf Pod posted to nodes', body: 'k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /holds v1 Pod; this endpoint reads v1 Node$/ },
  { title: 'a protobuf Deployment (a kind kcs does not serve)', body: 'k8s\0\x0a\x15\x0a\x07apps/v1\x12\x0aDeployment', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /apps\/v1 Deployment, which kcs does not read in protobuf/ },
  { title: 'a protobuf body with a content encoding', body: 'k8s\0\x0a\x0a\x0a\x02v1\x12\x04Node\x1a\x04gzip', type: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /content encoding "gzip" is not supported/ },
  { title: 'a protobuf Eviction of kind Pod', path: evictionPath('p1'), body: 'k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod', type: 'application/vnd.kubernetes.protobuf', needsTargets: true, code: 400, reason: 'BadRequest', message: /this endpoint reads policy\/v1 Eviction or policy\/v1beta1 Eviction/ },
  { title: 'a truncated protobuf DeleteOptions', method: 'DELETE', path: nodePath('n1'), body: 'k8s\0\x0a\x13\x0a\x02v1', type: 'application/vnd.kubernetes.protobuf', needsTargets: true, code: 400, reason: 'BadRequest', message: /index out of range/ },
  { title: 'a protobuf body for a kcs.io kind', path: '/apis/kcs.io/v1/schedulerconfigurations', body: 'k8s\0\x0a\x0a\x0a\x02v1\x12\x04Node', type: 'application/vnd.kubernetes.protobuf', code: 415, reason: 'UnsupportedMediaType' },
  { title: 'a chunked protobuf body one byte above the limit', body: () => 'k8s\0' + 'x'.repeat(DEFAULT_BODY_LIMIT - 3), type: 'application/vnd.kubernetes.protobuf', stream: 'chunked', code: 413, reason: 'RequestEntityTooLarge' },

  { title: 'a JSON patch sent as application/json', method: 'PATCH', path: nodePath('n1'), body: [{ op: 'add', path: '/spec/unschedulable', value: true }], type: 'application/json', needsTargets: true, code: 415, reason: 'UnsupportedMediaType' },
  { title: 'a body one byte above the limit', body: () => paddedNode(DEFAULT_BODY_LIMIT + 1), stream: 'content-length', code: 413, reason: 'RequestEntityTooLarge' },
  { title: 'a 10 MB body with Content-Length', body: () => paddedNode(TEN_MB), stream: 'content-length', code: 413, reason: 'RequestEntityTooLarge' },
  { title: 'a 10 MB chunked body', body: () => paddedNode(TEN_MB), stream: 'chunked', code: 413, reason: 'RequestEntityTooLarge' },
  { title: 'a 10 MB chunked merge patch', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: () => `{"metadata":{"annotations":{"pad":"${'x'.repeat(TEN_MB)}"}}}`, stream: 'chunked', needsTargets: true, code: 413, reason: 'RequestEntityTooLarge' },

  // ---- prototype pollution
  { title: 'a JSON patch path through /__proto__/', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: [{ op: 'add', path: '/metadata/__proto__/polluted', value: 'yes' }], needsTargets: true, code: 400, reason: 'BadRequest', message: /__proto__/ },
  { title: 'a JSON patch path through /constructor/prototype/', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: [{ op: 'add', path: '/spec/constructor/prototype/polluted', value: 'yes' }], needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a JSON patch copying from /__proto__', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: [{ op: 'copy', from: '/__proto__', path: '/metadata/annotations' }], needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a merge patch containing __proto__', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: '{"metadata":{"__proto__":{"polluted":"yes"}}}', needsTargets: true, code: 400, reason: 'BadRequest', message: /__proto__/ },
  { title: 'a JSON patch whose value contains __proto__', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: '[{"op":"add","path":"/metadata/annotations","value":{"__proto__":{"polluted":"yes"}}}]', needsTargets: true, code: 400, reason: 'BadRequest' },

  // ---- hostile nesting
  { title: `a JSON array nested ${DEPTH} deep`, body: deepArray, code: 400, reason: 'BadRequest', message: /deeper/ },
  { title: `a JSON object nested ${DEPTH} deep`, body: deepObject, code: 400, reason: 'BadRequest', message: /deeper/ },
  { title: `a merge patch nested ${DEPTH} deep`, method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: deepObject, needsTargets: true, code: 400, reason: 'BadRequest', message: /deeper/ },
  { title: `a JSON patch value nested ${DEPTH} deep`, method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: () => `[{"op":"add","path":"/metadata/annotations","value":${deepObject()}}]`, needsTargets: true, code: 400, reason: 'BadRequest', message: /deeper/ },

  // ---- wrong shape
  { title: 'a Pod posted to nodes', body: pod('n1'), code: 400, reason: 'BadRequest', message: /Pod/ },
  { title: 'a JSON patch that is not an array', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: { op: 'add' }, needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a JSON patch operation without a path', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: [{ op: 'add', value: 1 }], needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a merge patch that is an array', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: [1], needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a merge patch that changes the kind', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: { kind: 'Pod' }, needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a merge patch that renames the object', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: { metadata: { name: 'n2' } }, needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a JSON patch that removes metadata', method: 'PATCH', path: nodePath('n1'), type: JSON_PATCH, body: [{ op: 'remove', path: '/metadata' }], needsTargets: true, code: 400, reason: 'BadRequest' },

  // ---- quantities
  { title: 'a merge patch setting cpu "abc"', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, body: { spec: { capacity: { cpu: 'abc' } } }, needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.capacity.cpu'] },
  { title: 'a PUT setting a negative cpu', method: 'PUT', path: nodePath('n1'), body: nodeWith((n) => { n.spec.capacity.cpu = '-2'; }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.capacity.cpu'] },
  { title: 'a status patch with a NaN-like quantity', method: 'PATCH', path: `${nodePath('n1')}/status`, type: MERGE_PATCH, body: { status: { capacity: { cpu: 'NaN' } } }, needsTargets: true, code: 422, reason: 'Invalid', fields: ['status.capacity.cpu'] },

  // ---- simulated usage (kcs.io/usage): refused whole, with the field and the reason
  { title: 'a pod whose usage profile lacks an argument', path: PODS, body: podWith((p) => { p.metadata.annotations = { [USAGE_ANNOTATION]: 'cpu: sine min=10m max=90m' }; }), code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /cpu: sine needs period \(a duration such as 60s\)/ },
  { title: 'a pod whose usage profile is of an unknown kind', path: PODS, body: podWith((p) => { p.metadata.annotations = { [USAGE_ANNOTATION]: '{cpu: wave min=1m}' }; }), code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /unknown profile "wave"/ },
  { title: 'a pod whose usage annotation names a container it does not have', path: PODS, body: podWith((p) => { p.metadata.annotations = { [USAGE_ANNOTATION]: '{cpu: 50m, db: {cpu: 5m}}' }; }), code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /db: the pod has no container of that name \(its containers: app\)/ },
  { title: 'a pod using a share of a request it does not make', path: PODS, body: podWith((p) => { p.spec.containers[0].resources = {}; p.metadata.annotations = { [USAGE_ANNOTATION]: 'memory: 80%' }; }), code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /80% is a share of the memory request, and the container requests no memory/ },
  { title: 'a YAML pod whose usage annotation is not YAML', path: PODS, type: YAML, body: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p9\n  annotations:\n    kcs.io/usage: "cpu: ["\nspec:\n  containers: [{name: app}]\n', code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /is not valid YAML/ },
  { title: 'a merge patch giving a pod a usage profile whose min is above its max', method: 'PATCH', path: podPath('p1'), type: MERGE_PATCH, body: { metadata: { annotations: { [USAGE_ANNOTATION]: 'cpu: walk min=90m max=10m step=1m every=1s' } } }, needsTargets: true, code: 422, reason: 'Invalid', fields: [USAGE_FIELD], message: /walk: min=90m is above max=10m/ },

  // ---- a pod's calls to Services (kcs.io/calls)
  { title: 'a pod calling a Service at a rate above the limit', path: PODS, body: podWith((p) => { p.metadata.annotations = { [CALLS_ANNOTATION]: 'web 500/s' }; }), code: 422, reason: 'Invalid', fields: [CALLS_FIELD], message: /rate 500\/s: must be above 0 and at most 100\/s/ },
  { title: 'a merge patch giving a pod a call to a name that is not a Service name', method: 'PATCH', path: podPath('p1'), type: MERGE_PATCH, body: { metadata: { annotations: { [CALLS_ANNOTATION]: 'Web_Server' } } }, needsTargets: true, code: 422, reason: 'Invalid', fields: [CALLS_FIELD], message: /"Web_Server" is not a Service name/ },

  // ---- pods that finish (kcs.io/lifetime, restartPolicy)
  { title: 'a pod whose lifetime is not a duration', path: PODS, body: podWith((p) => { p.metadata.annotations = { [LIFETIME_ANNOTATION]: 'a while exit=1' }; }), code: 422, reason: 'Invalid', fields: [LIFETIME_FIELD], message: /"a" is not a duration/ },
  { title: 'a pod whose lifetime fails with a probability above 1', path: PODS, body: podWith((p) => { p.metadata.annotations = { [LIFETIME_ANNOTATION]: '10s fail=1.5' }; }), code: 422, reason: 'Invalid', fields: [LIFETIME_FIELD], message: /fail=1\.5: a probability is a number from 0 to 1/ },
  { title: 'a pod with a restartPolicy Kubernetes does not have', path: PODS, body: podWith((p) => { p.spec.restartPolicy = 'Sometimes'; }), code: 422, reason: 'Invalid', fields: ['spec.restartPolicy'] },

  // ---- NodePools (kcs.io/v1) and usage reports / metrics.k8s.io
  { title: 'a NodePool without a max', path: NODEPOOLS, body: nodePool((p) => { delete p.spec.maxNodes; }), code: 422, reason: 'Invalid', fields: ['spec.maxNodes'] },
  { title: 'a NodePool whose min is above its max', path: NODEPOOLS, body: nodePool((p) => { p.spec.minNodes = 5; }), code: 422, reason: 'Invalid', fields: ['spec.minNodes'], message: /less than or equal to spec.maxNodes \(4\)/ },
  { title: 'a NodePool whose template has no cpu', path: NODEPOOLS, body: nodePool((p) => { p.spec.template.spec.capacity = { memory: '1Gi' }; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.capacity.cpu'] },
  { title: 'a NodePool with a scale-down threshold above 100%', path: NODEPOOLS, body: nodePool((p) => { p.spec.scaleDown = { utilizationThreshold: 150 }; }), code: 422, reason: 'Invalid', fields: ['spec.scaleDown.utilizationThreshold'] },
  { title: 'a NodePool template with a bad quantity', path: NODEPOOLS, body: nodePool((p) => { p.spec.template.spec.capacity.cpu = 'lots'; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.capacity.cpu'] },
  { title: 'a usage report with a negative window', path: USAGE_REPORTS, body: usageReport((r) => { r.windowSeconds = -1; }), code: 422, reason: 'Invalid', fields: ['windowSeconds'] },
  { title: 'a usage report whose container has no figures', path: USAGE_REPORTS, body: usageReport((r) => { r.pods = [{ namespace: 'default', name: 'p1', containers: [{ name: 'app' }] }]; }), code: 422, reason: 'Invalid', fields: ['pods[0].containers[0]'] },
  { title: 'a usage report that is not an object', path: USAGE_REPORTS, body: '"usage"', code: 400, reason: 'BadRequest' },
  { title: 'a usage report whose pod\'s calls have a negative count', path: USAGE_REPORTS, body: usageReport((r) => { r.pods = [{ namespace: 'default', name: 'p1', containers: [], calls: [{ call: 'web', perSecond: 1, sent: -1, answered: 0, errors: {}, byPod: {} }] }]; }), code: 422, reason: 'Invalid', fields: ['pods[0].calls[0]'], message: /perSecond, sent and answered must be numbers >= 0/ },
  { title: 'pod metrics of a namespace with a bad name', method: 'GET', path: '/apis/metrics.k8s.io/v1beta1/namespaces/Bad_NS/pods', code: 400, reason: 'BadRequest', message: /invalid namespace/ },
  { title: 'node metrics with a bad label selector', method: 'GET', path: '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3D%3D%3Db', code: 400, reason: 'BadRequest' },

  // ---- NetworkPolicyReview: what a node's agent asks before a pod serves a caller
  { title: 'a network policy review without a caller address', path: '/apis/kcs.io/v1/networkpolicyreviews', body: { apiVersion: 'kcs.io/v1', kind: 'NetworkPolicyReview', spec: { namespace: 'default', pod: 'p1', port: 80 } }, code: 422, reason: 'Invalid', fields: ['spec.fromIP'] },
  { title: 'a network policy review from an address outside loopback', path: '/apis/kcs.io/v1/networkpolicyreviews', body: { apiVersion: 'kcs.io/v1', kind: 'NetworkPolicyReview', spec: { fromIP: '10.0.0.1', namespace: 'default', pod: 'p1', port: 80 } }, code: 422, reason: 'Invalid', fields: ['spec.fromIP'], message: /127\.0\.0\.0\/8/ },
  { title: 'a network policy review of port 0', path: '/apis/kcs.io/v1/networkpolicyreviews', body: { apiVersion: 'kcs.io/v1', kind: 'NetworkPolicyReview', spec: { fromIP: '127.0.0.1', namespace: 'default', pod: 'p1', port: 0 } }, code: 422, reason: 'Invalid', fields: ['spec.port'] },

  // ---- commits (POST /apis/kcs.io/v1/commits): the batch
  { title: 'a commit body that is a list', path: COMMITS, body: [createEvent()], code: 400, reason: 'BadRequest', message: /must be a Commit object/ },
  { title: 'a commit body that is a string', path: COMMITS, body: '"Commit"', code: 400, reason: 'BadRequest', message: /must be a Commit object/ },
  { title: 'a commit body that is null', path: COMMITS, body: 'null', code: 400, reason: 'BadRequest', message: /must be a Commit object/ },
  { title: 'a commit of kind Pod', path: COMMITS, body: { ...commit(createEvent()), kind: 'Pod' }, code: 400, reason: 'BadRequest', message: /kind in the body \(Pod\).*commits/ },
  { title: 'a commit without a kind', path: COMMITS, body: { apiVersion: 'kcs.io/v1', operations: [createEvent()] }, code: 400, reason: 'BadRequest', message: /kind in the body \(undefined\)/ },
  { title: 'a commit of apiVersion v1', path: COMMITS, body: { ...commit(createEvent()), apiVersion: 'v1' }, code: 400, reason: 'BadRequest', message: /API version in the data \(v1\).*kcs\.io\/v1/ },
  { title: 'a commit without operations', path: COMMITS, body: { apiVersion: 'kcs.io/v1', kind: 'Commit' }, code: 422, reason: 'Invalid', fields: ['operations'], message: /Required value/ },
  { title: 'a commit with no operations', path: COMMITS, body: commit(), code: 422, reason: 'Invalid', fields: ['operations'], message: /at least one write/ },
  { title: 'a commit whose operations are an object', path: COMMITS, body: { ...commit(), operations: createEvent() }, code: 422, reason: 'Invalid', fields: ['operations'], message: /a list of writes/ },
  { title: 'a commit whose operations are a string', path: COMMITS, body: { ...commit(), operations: 'create' }, code: 422, reason: 'Invalid', fields: ['operations'] },
  {
    title: `a commit of ${MAX_COMMIT_OPERATIONS + 1} operations`, path: COMMITS,
    body: () => commit(...Array.from({ length: MAX_COMMIT_OPERATIONS + 1 }, (_, i) => createEvent(`e${i}`))),
    code: 422, reason: 'Invalid', fields: ['operations'], message: new RegExp(`Too many: ${MAX_COMMIT_OPERATIONS + 1}: must have at most ${MAX_COMMIT_OPERATIONS} items`),
  },

  // ---- commits: one bad operation (after a good one, so the index is checked)
  { title: 'a commit operation that is a string', path: COMMITS, body: commit(createEvent(), 'create'), code: 422, reason: 'Invalid', fields: ['operations[1]'], message: /must be an object/ },
  { title: 'a commit operation that is null', path: COMMITS, body: commit(null), code: 422, reason: 'Invalid', fields: ['operations[0]'] },
  { title: 'a commit operation with verb delete', path: COMMITS, body: commit(createEvent(), { verb: 'delete', object: node('n1') }), code: 422, reason: 'Invalid', fields: ['operations[1].verb'], message: /Unsupported value: "delete"/ },
  { title: 'a commit operation with verb patch', path: COMMITS, body: commit({ verb: 'patch', object: node('n1') }), code: 422, reason: 'Invalid', fields: ['operations[0].verb'], message: /Unsupported value: "patch"/ },
  { title: 'a commit operation without a verb', path: COMMITS, body: commit({ object: event('e1') }), code: 422, reason: 'Invalid', fields: ['operations[0].verb'] },
  { title: 'a commit operation with subresource scale', path: COMMITS, body: commit(createEvent(), { verb: 'update', subresource: 'scale', object: stated(pod('p1')) }), code: 422, reason: 'Invalid', fields: ['operations[1].subresource'], message: /Unsupported value: "scale"/ },
  { title: 'a commit create with a subresource', path: COMMITS, body: commit({ verb: 'create', subresource: 'status', object: node('n9') }), code: 422, reason: 'Invalid', fields: ['operations[0].subresource'], message: /with verb "update"/ },
  { title: 'a commit binding of a Node', path: COMMITS, body: commit(createEvent(), { verb: 'update', subresource: 'binding', object: stated(node('n1')) }), code: 422, reason: 'Invalid', fields: ['operations[1].subresource'], message: /only pods have a binding/ },
  { title: 'a commit unbinding of a Node', path: COMMITS, body: commit({ verb: 'update', subresource: 'unbinding', object: stated(node('n1')) }), code: 422, reason: 'Invalid', fields: ['operations[0].subresource'], message: /only pods have a unbinding/ },
  { title: 'a commit status write of an Event (no status subresource)', path: COMMITS, body: commit({ verb: 'update', subresource: 'status', object: stated(event('e1')) }), code: 422, reason: 'Invalid', fields: ['operations[0].subresource'], message: /events have no status subresource/ },
  { title: 'a commit of an unknown kind', path: COMMITS, body: commit(createEvent(), { verb: 'create', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} } }), code: 422, reason: 'Invalid', fields: ['operations[1].object.kind'], message: /"apps\/v1\/Deployment": not a kind this server serves/ },
  { title: 'a commit of a known kind at the wrong apiVersion', path: COMMITS, body: commit({ verb: 'create', object: { ...pod('p9'), apiVersion: 'v2' } }), code: 422, reason: 'Invalid', fields: ['operations[0].object.kind'], message: /"v2\/Pod"/ },
  { title: 'a commit object without a kind', path: COMMITS, body: commit({ verb: 'create', object: { metadata: { name: 'x' } } }), code: 422, reason: 'Invalid', fields: ['operations[0].object.kind'] },
  { title: 'a commit operation without an object', path: COMMITS, body: commit(createEvent(), { verb: 'create' }), code: 422, reason: 'Invalid', fields: ['operations[1].object'], message: /the object to write/ },
  { title: 'a commit operation whose object is a list', path: COMMITS, body: commit({ verb: 'update', object: [node('n1')] }), code: 422, reason: 'Invalid', fields: ['operations[0].object'] },
  { title: 'a commit update without metadata.name', path: COMMITS, body: commit(createEvent(), { verb: 'update', subresource: 'status', object: { apiVersion: 'v1', kind: 'Node', metadata: { resourceVersion: '1' }, status: {} } }), code: 422, reason: 'Invalid', fields: ['operations[1].object.metadata.name'], message: /an update names its object/ },
  { title: 'a commit update without metadata', path: COMMITS, body: commit({ verb: 'update', object: { apiVersion: 'v1', kind: 'Node', spec: { capacity: { cpu: '1' } } } }), code: 422, reason: 'Invalid', fields: ['operations[0].object.metadata.name'] },
  { title: 'a commit update without a resourceVersion', path: COMMITS, body: (tg) => commit(createEvent(), { verb: 'update', subresource: 'status', object: node('n1', { metadata: { uid: tg!.n1.metadata.uid } }) }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['operations[1].object.metadata.resourceVersion'], message: /states the resourceVersion it replaces/ },
  { title: 'a commit update with an empty resourceVersion', path: COMMITS, body: (tg) => commit({ ...n1Status(tg), object: stated(n1Status(tg).object, '') }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['operations[0].object.metadata.resourceVersion'] },
  // Malformed, not stale: a 409 would send the client to read again and retry.
  { title: 'a commit update with a numeric resourceVersion', path: COMMITS, body: (tg) => commit(createEvent(), { ...n1Status(tg), object: stated(n1Status(tg).object, Number(tg!.n1.metadata.resourceVersion)) }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['operations[1].object.metadata.resourceVersion'], message: /must be of type string/ },
  { title: 'a commit binding that names no node', path: COMMITS, body: (tg) => commit(createEvent(), { verb: 'update', subresource: 'binding', object: { ...tg!.p1, status: { conditions: [{ type: 'PodScheduled', status: 'True' }] } } }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.nodeName'], message: /the node to bind to/ },
  { title: 'a commit binding to an empty node name', path: COMMITS, body: (tg) => commit({ verb: 'update', subresource: 'binding', object: { ...tg!.p1, spec: { ...tg!.p1.spec, nodeName: '' } } }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.nodeName'] },
  { title: 'a commit binding to a node name that is not a name', path: COMMITS, body: (tg) => commit({ verb: 'update', subresource: 'binding', object: { ...tg!.p1, spec: { ...tg!.p1.spec, nodeName: 7 } } }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.nodeName'] },
  { title: 'a commit create of an invalid object', path: COMMITS, body: (tg) => commit(n1Status(tg), createEvent(), { verb: 'create', object: podWith((p) => { p.metadata.name = 'p9'; p.spec.containers = []; }) }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.containers'], message: /Pod "p9" is invalid/ },
  { title: 'a commit create of an object that exists', path: COMMITS, body: (tg) => commit(n1Status(tg), createEvent(), { verb: 'create', object: pod('p1') }), needsTargets: true, code: 409, reason: 'AlreadyExists', message: /pods "p1" already exists/ },
  { title: 'a commit full update of an invalid object', path: COMMITS, body: (tg) => commit(createEvent(), { verb: 'update', object: { ...tg!.n1, spec: { capacity: { cpu: '-1' } } } }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.capacity.cpu'] },
  { title: 'a commit with one stale resourceVersion', path: COMMITS, body: (tg) => commit(createEvent(), n1Status(tg), { verb: 'update', subresource: 'status', object: stated({ ...tg!.p1, status: { phase: 'Running' } }, String(Number(tg!.p1.metadata.resourceVersion) - 1)) }), needsTargets: true, code: 409, reason: 'Conflict', message: /pods "p1": the object has been modified/ },
  { title: 'a commit binding of a pod already bound', path: COMMITS, body: (tg) => commit(createEvent(), { verb: 'update', subresource: 'binding', object: { ...tg!.p2, spec: { ...tg!.p2.spec, nodeName: 'n1' } } }), needsTargets: true, code: 409, reason: 'Conflict', message: /pod p2 is already assigned to node n1/ },
  { title: 'a commit unbinding of a pod not bound', path: COMMITS, body: (tg) => commit(createEvent(), { verb: 'update', subresource: 'unbinding', object: tg!.p1 }), needsTargets: true, code: 409, reason: 'Conflict', message: /pod p1 is not assigned to a node/ },
  { title: 'a commit update of a missing object', path: COMMITS, body: (tg) => commit(n1Status(tg), { verb: 'update', subresource: 'status', object: stated(pod('ghost')) }), needsTargets: true, code: 404, reason: 'NotFound', message: /pods "ghost" not found/ },

  // ---- POST pods/{name}/binding
  { title: 'a Binding body that is a list', path: bindingPath('p1'), body: [binding('p1')], code: 400, reason: 'BadRequest', message: /must be a Binding object/ },
  { title: 'a Binding of kind Pod', path: bindingPath('p1'), body: bindingWith((b) => { b.kind = 'Pod'; }), code: 400, reason: 'BadRequest', message: /kind in the body \(Pod\).*pods\/binding/ },
  { title: 'a Binding without a kind', path: bindingPath('p1'), body: bindingWith((b) => delete b.kind), code: 400, reason: 'BadRequest', message: /kind in the body \(undefined\)/ },
  { title: 'a Binding of apiVersion v2', path: bindingPath('p1'), body: bindingWith((b) => { b.apiVersion = 'v2'; }), code: 400, reason: 'BadRequest', message: /API version in the data \(v2\)/ },
  { title: 'a Binding without a target', path: bindingPath('p1'), body: bindingWith((b) => delete b.target), code: 422, reason: 'Invalid', fields: ['target'], message: /the node to bind to/ },
  { title: 'a Binding whose target is a string', path: bindingPath('p1'), body: binding('p1', 'n1'), code: 422, reason: 'Invalid', fields: ['target'] },
  { title: 'a Binding whose target is null', path: bindingPath('p1'), body: binding('p1', null), code: 422, reason: 'Invalid', fields: ['target'] },
  { title: 'a Binding whose target is a Pod', path: bindingPath('p1'), body: binding('p1', { kind: 'Pod', name: 'p2' }), code: 422, reason: 'Invalid', fields: ['target.kind'], message: /Unsupported value: "Pod"/ },
  { title: 'a Binding whose target has no name', path: bindingPath('p1'), body: binding('p1', { kind: 'Node' }), code: 422, reason: 'Invalid', fields: ['target.name'], message: /the name of the node/ },
  { title: 'a Binding whose target name is empty', path: bindingPath('p1'), body: binding('p1', { kind: 'Node', name: '' }), code: 422, reason: 'Invalid', fields: ['target.name'] },
  { title: 'a Binding whose target name is a number', path: bindingPath('p1'), body: binding('p1', { kind: 'Node', name: 1 }), code: 422, reason: 'Invalid', fields: ['target.name'] },
  { title: 'a Binding named for another pod', path: bindingPath('p1'), body: binding('p2'), code: 400, reason: 'BadRequest', message: /name of the Binding \(p2\) does not match the pod in the URL \(p1\)/ },
  { title: 'a Binding in another namespace', path: bindingPath('p1'), body: bindingWith((b) => { b.metadata.namespace = 'other'; }), code: 400, reason: 'BadRequest', message: /namespace of the Binding \(other\) does not match the namespace in the URL \(default\)/ },
  { title: 'a Binding with a numeric annotation', path: bindingPath('p1'), body: bindingWith((b) => { b.metadata.annotations = { score: 1 }; }), code: 422, reason: 'Invalid', fields: ['metadata.annotations'] },
  { title: 'a Binding with annotations as a list', path: bindingPath('p1'), body: bindingWith((b) => { b.metadata.annotations = ['a']; }), code: 422, reason: 'Invalid', fields: ['metadata.annotations'] },
  { title: 'a Binding under an invalid namespace', path: '/api/v1/namespaces/Bad_NS/pods/p1/binding', body: binding('p1'), code: 400, reason: 'BadRequest', message: /invalid namespace "Bad_NS"/ },
  { title: 'a Binding as a text/plain body', path: bindingPath('p1'), body: JSON.stringify(binding('p1')), type: 'text/plain', code: 415, reason: 'UnsupportedMediaType' },
  { title: 'a PUT of a Binding', method: 'PUT', path: bindingPath('p1'), body: binding('p1'), needsTargets: true, code: 405, reason: 'MethodNotAllowed' },
  { title: 'a Binding of a pod already bound', path: bindingPath('p2'), body: binding('p2'), needsTargets: true, code: 409, reason: 'Conflict', message: /pod p2 is already assigned to node n1/ },
  { title: 'a Binding to a node that does not exist', path: bindingPath('p1'), body: binding('p1', { kind: 'Node', name: 'ghost' }), needsTargets: true, code: 404, reason: 'NotFound', message: /nodes "ghost" not found/ },
  { title: 'a Binding of a pod that does not exist', path: bindingPath('ghost'), body: binding('ghost'), needsTargets: true, code: 404, reason: 'NotFound', message: /pods "ghost" not found/ },

  // ---- namespaces
  { title: 'a metadata.namespace in a Namespace (cluster-scoped)', path: NAMESPACES, body: namespace('team', { metadata: { namespace: 'default' } }), code: 400, reason: 'BadRequest', message: /Namespace is cluster-scoped/ },
  { title: 'a Namespace posted to pods', path: PODS, body: namespace('team'), code: 400, reason: 'BadRequest', message: /Namespace/ },
  { title: 'a commit creating an event in a namespace that does not exist', path: COMMITS, body: commit(createEvent(), { verb: 'create', object: { ...event('e2'), metadata: { name: 'e2', namespace: 'ghost' } } }), code: 404, reason: 'NotFound', message: /namespaces "ghost" not found/ },
  { title: 'a delete of the default namespace', method: 'DELETE', path: `${NAMESPACES}/default`, body: '', code: 403, reason: 'Forbidden', message: /this namespace may not be deleted/ },
  { title: 'a delete of a namespace that does not exist', method: 'DELETE', path: `${NAMESPACES}/ghost`, body: '', code: 404, reason: 'NotFound', message: /namespaces "ghost" not found/ },
  { title: 'a finalize of kind Pod', method: 'PUT', path: `${NAMESPACES}/default/finalize`, body: pod('default'), code: 400, reason: 'BadRequest', message: /kind in the body \(Pod\)/ },
  { title: 'a finalize naming another namespace', method: 'PUT', path: `${NAMESPACES}/default/finalize`, body: namespace('kube-system', { spec: { finalizers: [] } }), code: 400, reason: 'BadRequest', message: /does not match the name on the URL/ },
  { title: 'a finalize with finalizers as a string', method: 'PUT', path: `${NAMESPACES}/default/finalize`, body: namespace('default', { spec: { finalizers: 'none' } }), code: 422, reason: 'Invalid', fields: ['spec.finalizers'] },
  { title: 'a finalize of a namespace that does not exist', method: 'PUT', path: `${NAMESPACES}/ghost/finalize`, body: namespace('ghost', { spec: { finalizers: [] } }), code: 404, reason: 'NotFound' },

  // ---- deletecollection
  { title: 'a deletecollection with a malformed label selector', method: 'DELETE', path: `${PODS}?labelSelector=app%20in%20(web`, body: '', needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a deletecollection with an unsupported field selector', method: 'DELETE', path: `${PODS}?fieldSelector=spec.image%3Dnginx`, body: '', needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a deletecollection with dryRun=Some', method: 'DELETE', path: `${PODS}?dryRun=Some`, body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /dryRun must be "All"/ },
  { title: 'a deletecollection with a DeleteOptions body that is a list', method: 'DELETE', path: PODS, body: '[]', needsTargets: true, code: 400, reason: 'BadRequest', message: /DeleteOptions/ },
  { title: 'a deletecollection with DeleteOptions asking dryRun Some', method: 'DELETE', path: NODES, body: { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['Some'] }, needsTargets: true, code: 422, reason: 'Invalid', fields: ['dryRun'] },
  { title: 'a deletecollection under an invalid namespace', method: 'DELETE', path: '/api/v1/namespaces/Bad_NS/pods', body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /invalid namespace "Bad_NS"/ },
  { title: 'a deletecollection of namespaces (not served, as in Kubernetes)', method: 'DELETE', path: NAMESPACES, body: '', code: 405, reason: 'MethodNotAllowed' },
  { title: 'a deletecollection of pods in all namespaces (not served)', method: 'DELETE', path: '/api/v1/pods', body: '', needsTargets: true, code: 405, reason: 'MethodNotAllowed' },

  // ---- strategic merge patch
  { title: 'a strategic merge patch that is an array', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: [{ name: 'app' }], needsTargets: true, code: 400, reason: 'BadRequest', message: /must be a JSON object/ },
  { title: 'a strategic merge patch with an unknown $patch directive', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { spec: { $patch: 'explode' } }, needsTargets: true, code: 400, reason: 'BadRequest', message: /unknown patch type: explode/ },
  { title: 'a strategic merge patch with a container lacking its merge key', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { spec: { containers: [{ image: 'x' }] } }, needsTargets: true, code: 400, reason: 'BadRequest', message: /does not contain declared merge key: name/ },
  { title: 'a strategic merge patch with $patch: merge in a list', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { spec: { containers: [{ $patch: 'merge' }] } }, needsTargets: true, code: 400, reason: 'BadRequest', message: /merging lists cannot yet be specified/ },
  { title: 'a strategic merge patch with a malformed $setElementOrder', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { spec: { '$setElementOrder/containers': 'app' } }, needsTargets: true, code: 400, reason: 'BadRequest', message: /setElementOrder/ },
  { title: 'a strategic merge patch with lists of lists', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { metadata: { '$deleteFromPrimitiveList/finalizers': [['a']] }, spec: { containers: [[1]] } }, needsTargets: true, code: 422, reason: 'Invalid', message: /lists of lists/ },
  { title: 'a strategic merge patch that changes the kind', method: 'PATCH', path: nodePath('n1'), type: STRATEGIC, body: { kind: 'Pod' }, needsTargets: true, code: 400, reason: 'BadRequest' },
  { title: 'a strategic merge patch of the scheduler configuration (a kcs.io kind)', method: 'PATCH', path: '/apis/kcs.io/v1/schedulerconfigurations/default', type: STRATEGIC, body: { spec: {} }, code: 415, reason: 'UnsupportedMediaType' },
  { title: 'a strategic merge patch containing __proto__', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: '{"metadata":{"__proto__":{"polluted":"yes"}}}', needsTargets: true, code: 400, reason: 'BadRequest', message: /__proto__/ },
  { title: 'a strategic merge patch that makes the pod invalid', method: 'PATCH', path: podPath('p1'), type: STRATEGIC, body: { spec: { containers: [{ name: 'app', resources: { requests: { cpu: 'lots' } } }] } }, needsTargets: true, code: 422, reason: 'Invalid' },

  // ---- server-side apply
  { title: 'an apply without a fieldManager', method: 'PATCH', path: nodePath('n1'), type: APPLY, body: nodeYaml('"1"'), code: 422, reason: 'Invalid', fields: ['fieldManager'], message: /is required for apply patch/ },
  { title: 'force=true on a merge patch', method: 'PATCH', path: applyPath('force=true'), type: MERGE_PATCH, body: { metadata: { labels: { a: '1' } } }, needsTargets: true, code: 422, reason: 'Invalid', fields: ['force'] },
  { title: 'an apply with force=maybe', method: 'PATCH', path: applyPath('fieldManager=ci&force=maybe'), type: APPLY, body: nodeYaml('"1"'), code: 400, reason: 'BadRequest', message: /force/ },
  { title: 'an apply with a fieldManager of 129 characters', method: 'PATCH', path: applyPath(`fieldManager=${'m'.repeat(129)}`), type: APPLY, body: nodeYaml('"1"'), code: 422, reason: 'Invalid', fields: ['fieldManager'] },
  { title: 'an apply of another apiVersion', method: 'PATCH', path: applyPath(), type: APPLY, body: nodeYaml('"1"').replace('apiVersion: v1', 'apiVersion: v2'), code: 400, reason: 'BadRequest', message: /Incorrect version specified in apply patch/ },
  { title: 'an apply of another kind', method: 'PATCH', path: applyPath(), type: APPLY, body: nodeYaml('"1"').replace('kind: Node', 'kind: Pod'), code: 400, reason: 'BadRequest', message: /Pod/ },
  { title: 'an apply naming another object', method: 'PATCH', path: applyPath(), type: APPLY, body: nodeYaml('"1"', 'n2'), code: 400, reason: 'BadRequest', message: /does not match the name on the URL/ },
  { title: 'an apply carrying managedFields', method: 'PATCH', path: applyPath(), type: APPLY, body: nodeYaml('"1"').replace('  name: n1\n', '  name: n1\n  managedFields: [{manager: x, operation: Apply}]\n'), code: 400, reason: 'BadRequest', message: /managedFields must be nil/ },
  { title: 'an apply that is a list', method: 'PATCH', path: applyPath(), type: APPLY, body: '[1, 2]', code: 400, reason: 'BadRequest' },
  { title: 'an apply of malformed YAML', method: 'PATCH', path: applyPath(), type: APPLY, body: 'kind: Node\nmetadata: {name: n1\n', code: 400, reason: 'BadRequest' },
  { title: 'an apply that is a YAML alias bomb', method: 'PATCH', path: applyPath(), type: APPLY, body: billionLaughs(), code: 400, reason: 'BadRequest', message: /alias/i },
  { title: 'an apply of an invalid node', method: 'PATCH', path: '/api/v1/nodes/fresh?fieldManager=ci', type: APPLY, body: nodeYaml('lots', 'fresh'), code: 422, reason: 'Invalid', fields: ['spec.capacity.cpu'] },
  { title: 'an apply that changes a field another manager owns', method: 'PATCH', path: `${podPath('p1')}?fieldManager=ci`, type: APPLY, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'app', image: 'other' }] } }, needsTargets: true, code: 409, reason: 'Conflict', message: /Apply failed with 1 conflict: conflict with "node" using v1: \.spec\.containers\[name="app"\]\.image/ },

  // ---- reads asked for in a shape the server does not have (Accept, includeObject)
  { title: 'a list as a kind of meta.k8s.io that does not exist', method: 'GET', path: PODS, accept: 'application/json;as=Foo;v=v1;g=meta.k8s.io', code: 406, reason: 'NotAcceptable', message: /only the following media types are accepted: application\/json/ },
  { title: 'a list as a Table of meta.k8s.io/v2', method: 'GET', path: PODS, accept: 'application/json;as=Table;v=v2;g=meta.k8s.io', code: 406, reason: 'NotAcceptable' },
  { title: 'a get as YAML only', method: 'GET', path: nodePath('n1'), accept: 'application/yaml', needsTargets: true, code: 406, reason: 'NotAcceptable' },
  { title: 'a watch as a Table of another group', method: 'GET', path: `${NODES}?watch=1`, accept: 'application/json;as=Table;v=v1;g=example.com', code: 406, reason: 'NotAcceptable' },
  { title: 'a list as the metadata of one object', method: 'GET', path: NODES, accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io', code: 406, reason: 'NotAcceptable', message: /requested object is a list/ },
  { title: 'a get as a list of metadata', method: 'GET', path: nodePath('n1'), accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', needsTargets: true, code: 406, reason: 'NotAcceptable', message: /requested object is not a list/ },
  { title: 'discovery as a Table', method: 'GET', path: '/api/v1', accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', code: 406, reason: 'NotAcceptable' },
  { title: 'a Table with includeObject=Everything', method: 'GET', path: `${PODS}?includeObject=Everything`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', code: 400, reason: 'BadRequest', message: /includeObject: Unsupported value: "Everything"/ },
  { title: 'a watch of Tables with includeObject=all', method: 'GET', path: `${PODS}?watch=1&includeObject=all`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', code: 400, reason: 'BadRequest', message: /includeObject/ },

  // ---- POST pods/{name}/eviction (nothing is deleted)
  { title: 'an Eviction body that is a list', path: evictionPath('p1'), body: [eviction('p1')], needsTargets: true, code: 400, reason: 'BadRequest', message: /must be an Eviction object/ },
  { title: 'an Eviction of kind Pod', path: evictionPath('p1'), body: evictionWith((e) => { e.kind = 'Pod'; }), needsTargets: true, code: 400, reason: 'BadRequest', message: /kind in the body \(Pod\).*pods\/eviction/ },
  { title: 'an Eviction of apiVersion v1', path: evictionPath('p1'), body: evictionWith((e) => { e.apiVersion = 'v1'; }), needsTargets: true, code: 400, reason: 'BadRequest', message: /API version in the data \(v1\)/ },
  { title: 'an Eviction named for another pod', path: evictionPath('p1'), body: eviction('p2'), needsTargets: true, code: 400, reason: 'BadRequest', message: /^name in URL does not match name in Eviction object$/ },
  { title: 'an Eviction in another namespace', path: evictionPath('p1'), body: evictionWith((e) => { e.metadata.namespace = 'other'; }), needsTargets: true, code: 400, reason: 'BadRequest', message: /namespace of the provided object does not match/ },
  { title: 'an Eviction whose deleteOptions is a string', path: evictionPath('p1'), body: eviction('p1', 'now'), needsTargets: true, code: 422, reason: 'Invalid', fields: ['deleteOptions'] },
  { title: 'an Eviction with dryRun "Some"', path: evictionPath('p1'), body: eviction('p1', { dryRun: ['Some'] }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['deleteOptions.dryRun'], message: /supported values: "All"/ },
  { title: 'an Eviction with a numeric uid precondition', path: evictionPath('p1'), body: eviction('p1', { preconditions: { uid: 7 } }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['deleteOptions.preconditions.uid'] },
  { title: 'an Eviction with a grace period in words', path: evictionPath('p1'), body: eviction('p1', { gracePeriodSeconds: 'soon' }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['deleteOptions.gracePeriodSeconds'] },
  { title: 'an Eviction with dryRun=Yes in the query', path: `${evictionPath('p1')}?dryRun=Yes`, body: eviction('p1'), needsTargets: true, code: 400, reason: 'BadRequest', message: /dryRun must be "All"/ },
  { title: 'an Eviction whose uid precondition is another pod\'s', path: evictionPath('p1'), body: (tg) => eviction('p1', { preconditions: { uid: tg!.p2.metadata.uid } }), needsTargets: true, code: 409, reason: 'Conflict' },
  { title: 'an Eviction as a text/plain body', path: evictionPath('p1'), body: JSON.stringify(eviction('p1')), type: 'text/plain', needsTargets: true, code: 415, reason: 'UnsupportedMediaType' },
  { title: 'an Eviction of a pod that does not exist', path: evictionPath('ghost'), body: eviction('ghost'), needsTargets: true, code: 404, reason: 'NotFound', message: /pods "ghost" not found/ },
  { title: 'an Eviction under an invalid namespace', path: '/api/v1/namespaces/Bad_NS/pods/p1/eviction', body: eviction('p1'), code: 400, reason: 'BadRequest', message: /invalid namespace "Bad_NS"/ },
  { title: 'a PUT of an Eviction', method: 'PUT', path: evictionPath('p1'), body: eviction('p1'), needsTargets: true, code: 405, reason: 'MethodNotAllowed' },

  // ---- GET pods/{name}/log
  { title: 'a log with tailLines=-1', method: 'GET', path: logPath('p1', 'tailLines=-1'), body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['tailLines'], message: /must be greater than or equal to 0/ },
  { title: 'a log with tailLines=ten', method: 'GET', path: logPath('p1', 'tailLines=ten'), body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /^tailLines: Invalid value: "ten": must be a whole number$/ },
  { title: 'a log with limitBytes=0', method: 'GET', path: logPath('p1', 'limitBytes=0'), body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['limitBytes'] },
  { title: 'a log with sinceSeconds=0', method: 'GET', path: logPath('p1', 'sinceSeconds=0'), body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['sinceSeconds'] },
  { title: 'a log with sinceSeconds and sinceTime', method: 'GET', path: logPath('p1', 'sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z'), body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['sinceSeconds'], message: /at most one of `sinceTime` or `sinceSeconds`/ },
  { title: 'a log with sinceTime=yesterday', method: 'GET', path: logPath('p1', 'sinceTime=yesterday'), body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /^sinceTime: Invalid value: "yesterday"/ },
  { title: 'a log with follow=maybe', method: 'GET', path: logPath('p1', 'follow=maybe'), body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /^follow: Invalid value: "maybe"/ },
  { title: 'a log of a container the pod does not have', method: 'GET', path: logPath('p1', 'container=db'), body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /^container db is not valid for pod p1$/ },
  { title: 'a previous log of a container that never ended', method: 'GET', path: logPath('p1', 'previous=true'), body: '', needsTargets: true, code: 400, reason: 'BadRequest', message: /previous terminated container "app" in pod "p1" not found/ },
  { title: 'a log of a pod that does not exist', method: 'GET', path: logPath('ghost', 'follow=true'), body: '', needsTargets: true, code: 404, reason: 'NotFound', message: /pods "ghost" not found/ },
  { title: 'a POST to a pod\'s log', path: `${podPath('p1')}/log`, body: {}, needsTargets: true, code: 405, reason: 'MethodNotAllowed' },

  // ---- NetworkPolicies (networking.k8s.io/v1): what the schema cannot say, and kcs's loopback-only ipBlocks
  { title: 'a NetworkPolicy whose endPort comes with a named port', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 'http', endPort: 90 }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].endPort'], message: /may not be specified when `port` is non-numeric/ },
  { title: 'a NetworkPolicy whose endPort is below its port', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 90, endPort: 80 }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].endPort'], message: /must be greater than or equal to `port`/ },
  { title: 'a NetworkPolicy whose endPort has no port', path: NETPOLS, body: netpol((p) => { p.spec.egress = [{ ports: [{ endPort: 90 }] }]; }), code: 422, reason: 'Invalid', fields: ['spec.egress[0].ports[0].endPort'], message: /may not be specified when `port` is not specified/ },
  { title: 'a NetworkPolicy port above 65535', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 70000 }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].port'] },
  { title: 'a NetworkPolicy port of protocol ICMP', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 80, protocol: 'ICMP' }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].protocol'], message: /supported values: "TCP", "UDP", "SCTP"/ },
  { title: 'a NetworkPolicy named port longer than 15 characters', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 'a-very-long-port-name' }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].port'], message: /must be no more than 15 characters/ },
  { title: 'a NetworkPolicy named port without a letter', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: '8080' }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].port'], message: /must contain at least one letter/ },
  { title: 'a NetworkPolicy named port in upper case', path: NETPOLS, body: netpol((p) => { ingress0(p).ports = [{ port: 'HTTP' }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].ports[0].port'], message: /alpha-numeric characters \(a-z, 0-9\), and hyphens/ },
  { title: 'a NetworkPolicy peer with an ipBlock and a podSelector', path: NETPOLS, body: netpol((p) => { ingress0(p).from[0].ipBlock = { cidr: '127.64.0.0/24' }; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0]'], message: /may not specify both ipBlock and another peer/ },
  { title: 'a NetworkPolicy peer that names nothing', path: NETPOLS, body: netpol((p) => { ingress0(p).from = [{}]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0]'], message: /must specify a peer/ },
  { title: 'a NetworkPolicy ipBlock outside loopback', path: NETPOLS, body: netpol((p) => { p.spec.egress = [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }]; }), code: 422, reason: 'Invalid', fields: ['spec.egress[0].to[0].ipBlock.cidr'], message: /must lie within 127\.0\.0\.0\/8: kcs networking is loopback only/ },
  { title: 'a NetworkPolicy ipBlock of everything (0.0.0.0/0)', path: NETPOLS, body: netpol((p) => { ingress0(p).from = [{ ipBlock: { cidr: '0.0.0.0/0' } }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0].ipBlock.cidr'], message: /loopback only/ },
  { title: 'a NetworkPolicy ipBlock that is not a CIDR', path: NETPOLS, body: netpol((p) => { ingress0(p).from = [{ ipBlock: { cidr: '127.0.0.1' } }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0].ipBlock.cidr'], message: /must be an IPv4 CIDR/ },
  { title: 'a NetworkPolicy ipBlock except outside its cidr', path: NETPOLS, body: netpol((p) => { ingress0(p).from = [{ ipBlock: { cidr: '127.64.0.0/16', except: ['127.65.0.0/24'] } }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0].ipBlock.except[0]'], message: /must be a strict subset of `cidr`/ },
  { title: 'a NetworkPolicy ipBlock except equal to its cidr', path: NETPOLS, body: netpol((p) => { ingress0(p).from = [{ ipBlock: { cidr: '127.64.0.0/16', except: ['127.64.0.0/16'] } }]; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0].ipBlock.except[0]'], message: /strict subset/ },
  { title: 'a NetworkPolicy selector requirement In without values', path: NETPOLS, body: netpol((p) => { p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'In' }] }; }), code: 422, reason: 'Invalid', fields: ['spec.podSelector.matchExpressions[0].values'], message: /must be specified when `operator` is 'In' or 'NotIn'/ },
  { title: 'a NetworkPolicy selector requirement Exists with values', path: NETPOLS, body: netpol((p) => { ingress0(p).from[0].namespaceSelector = { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['a'] }] }; }), code: 422, reason: 'Invalid', fields: ['spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values'], message: /may not be specified when `operator` is 'Exists' or 'DoesNotExist'/ },
  { title: 'a NetworkPolicy selector operator Equals', path: NETPOLS, body: netpol((p) => { p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }; }), code: 422, reason: 'Invalid', fields: ['spec.podSelector.matchExpressions[0].operator'] },
  { title: 'a NetworkPolicy with policyType Both', path: NETPOLS, body: netpol((p) => { p.spec.policyTypes = ['Both']; }), code: 422, reason: 'Invalid', fields: ['spec.policyTypes[0]'], message: /supported values: "Ingress", "Egress"/ },
  { title: 'a NetworkPolicy whose spec is a list', path: NETPOLS, body: netpol((p) => { p.spec = [p.spec]; }), code: 422, reason: 'Invalid', fields: ['spec'] },

  // ---- Services (core/v1): type ClusterIP only, ports, and cluster IPs from 127.32.0.0/16
  { title: 'a Service of type NodePort', path: SERVICES, body: svc((x) => { x.spec.type = 'NodePort'; }), code: 422, reason: 'Invalid', fields: ['spec.type'], message: /supported values: "ClusterIP" \(kcs simulates ClusterIP Services only\)/ },
  { title: 'a Service of type LoadBalancer', path: SERVICES, body: svc((x) => { x.spec.type = 'LoadBalancer'; }), code: 422, reason: 'Invalid', fields: ['spec.type'] },
  { title: 'a Service with ClientIP session affinity', path: SERVICES, body: svc((x) => { x.spec.sessionAffinity = 'ClientIP'; }), code: 422, reason: 'Invalid', fields: ['spec.sessionAffinity'], message: /does not simulate session affinity/ },
  { title: 'a Service without ports', path: SERVICES, body: svc((x) => { delete x.spec.ports; }), code: 422, reason: 'Invalid', fields: ['spec.ports'] },
  { title: 'a Service port 0', path: SERVICES, body: svc((x) => { x.spec.ports[0].port = 0; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].port'] },
  { title: 'a Service port above 65535', path: SERVICES, body: svc((x) => { x.spec.ports[0].port = 65536; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].port'] },
  { title: 'a Service port of protocol ICMP', path: SERVICES, body: svc((x) => { x.spec.ports[0].protocol = 'ICMP'; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].protocol'], message: /supported values: "TCP", "UDP", "SCTP"/ },
  { title: 'a Service targetPort 0', path: SERVICES, body: svc((x) => { x.spec.ports[0].targetPort = 0; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].targetPort'], message: /between 1 and 65535/ },
  { title: 'a Service named targetPort in upper case', path: SERVICES, body: svc((x) => { x.spec.ports[0].targetPort = 'HTTP'; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].targetPort'], message: /alpha-numeric characters \(a-z, 0-9\), and hyphens/ },
  { title: 'a Service named targetPort longer than 15 characters', path: SERVICES, body: svc((x) => { x.spec.ports[0].targetPort = 'a-very-long-port-name'; }), code: 422, reason: 'Invalid', fields: ['spec.ports[0].targetPort'], message: /no more than 15 characters/ },
  { title: 'a Service with two ports, one unnamed', path: SERVICES, body: svc((x) => { x.spec.ports.push({ port: 443 }); }), code: 422, reason: 'Invalid', fields: ['spec.ports[1].name'], message: /Required value/ },
  { title: 'a Service with two ports of one name', path: SERVICES, body: svc((x) => { x.spec.ports.push({ name: 'http', port: 443 }); }), code: 422, reason: 'Invalid', fields: ['spec.ports[1].name'], message: /Duplicate value: "http"/ },
  { title: 'a Service with one port twice', path: SERVICES, body: svc((x) => { x.spec.ports.push({ name: 'again', port: 80 }); }), code: 422, reason: 'Invalid', fields: ['spec.ports[1]'], message: /Duplicate value/ },
  { title: 'a Service whose name starts with a digit', path: SERVICES, body: svc((x) => { x.metadata.name = '1web'; }), code: 422, reason: 'Invalid', fields: ['metadata.name'], message: /DNS-1035 label/ },
  { title: 'a Service whose clusterIP is not an address', path: SERVICES, body: svc((x) => { x.spec.clusterIP = 'web'; }), code: 422, reason: 'Invalid', fields: ['spec.clusterIP'], message: /must be a valid IP address/ },
  { title: 'a Service whose clusterIP is outside 127.32.0.0/16', path: SERVICES, body: svc((x) => { x.spec.clusterIP = '10.96.0.1'; }), code: 422, reason: 'Invalid', fields: ['spec.clusterIP'], message: /not in the valid range\. The range of valid IPs is 127\.32\.0\.0\/16/ },
  { title: 'a Service with two clusterIPs', path: SERVICES, body: svc((x) => { x.spec.clusterIPs = ['127.32.0.5', '127.32.0.6']; }), code: 422, reason: 'Invalid', fields: ['spec.clusterIPs'], message: /single-stack IPv4/ },
  { title: 'a Service whose clusterIPs disagree with its clusterIP', path: SERVICES, body: svc((x) => { x.spec.clusterIP = '127.32.0.5'; x.spec.clusterIPs = ['127.32.0.6']; }), code: 422, reason: 'Invalid', fields: ['spec.clusterIPs[0]'], message: /must match clusterIP/ },
  { title: 'a Service whose selector value is not a label value', path: SERVICES, body: svc((x) => { x.spec.selector = { app: 'not a label' }; }), code: 422, reason: 'Invalid', fields: ['spec.selector.app'] },
  { title: 'an EndpointSlice of addressType IPX', path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', body: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x' }, addressType: 'IPX', endpoints: [] }, code: 422, reason: 'Invalid', fields: ['addressType'] },
  { title: 'an EndpointSlice endpoint without addresses', path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', body: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x' }, addressType: 'IPv4', endpoints: [{ addresses: [] }] }, code: 422, reason: 'Invalid', fields: ['endpoints[0].addresses'] },

  // ---- Jobs (batch/v1): a pod template checked as a Pod, restarting OnFailure or Never
  { title: 'a Job whose pods restart Always', path: JOBS, body: jobWith((j) => { j.spec.template.spec.restartPolicy = 'Always'; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.restartPolicy'], message: /Required value: valid values: "OnFailure", "Never"/ },
  { title: 'a Job whose pods state no restartPolicy', path: JOBS, body: jobWith((j) => { delete j.spec.template.spec.restartPolicy; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.restartPolicy'] },
  { title: 'a Job without a pod template', path: JOBS, body: jobWith((j) => { delete j.spec.template; }), code: 422, reason: 'Invalid', fields: ['spec.template'] },
  { title: 'a Job whose pod template has no containers', path: JOBS, body: jobWith((j) => { j.spec.template.spec.containers = []; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.containers'] },
  { title: 'a Job whose container name is not a DNS label', path: JOBS, body: jobWith((j) => { j.spec.template.spec.containers[0].name = 'Work_1'; }), code: 422, reason: 'Invalid', fields: ['spec.template.spec.containers[0].name'] },
  { title: 'a Job with a negative parallelism', path: JOBS, body: jobWith((j) => { j.spec.parallelism = -1; }), code: 422, reason: 'Invalid', fields: ['spec.parallelism'], message: /must be greater than or equal to 0/ },
  { title: 'a Job whose backoffLimit is a string', path: JOBS, body: jobWith((j) => { j.spec.backoffLimit = 'six'; }), code: 422, reason: 'Invalid', fields: ['spec.backoffLimit'] },
  { title: 'a Job of completionMode Sometimes', path: JOBS, body: jobWith((j) => { j.spec.completionMode = 'Sometimes'; }), code: 422, reason: 'Invalid', fields: ['spec.completionMode'], message: /supported values: "NonIndexed", "Indexed"/ },
  { title: 'an Indexed Job without completions', path: JOBS, body: jobWith((j) => { j.spec.completionMode = 'Indexed'; }), code: 422, reason: 'Invalid', fields: ['spec.completions'], message: /when completion mode is Indexed/ },
  { title: 'a Job whose manual selector misses its pods', path: JOBS, body: jobWith((j) => { j.spec.manualSelector = true; j.spec.selector = { matchLabels: { app: 'a' } }; j.spec.template.metadata = { labels: { app: 'b' } }; }), code: 422, reason: 'Invalid', fields: ['spec.template.metadata.labels'], message: /`selector` does not match template `labels`/ },
  { title: 'a Job with manualSelector and no selector', path: JOBS, body: jobWith((j) => { j.spec.manualSelector = true; }), code: 422, reason: 'Invalid', fields: ['spec.selector'] },
  { title: 'a Job giving a selector of its own without manualSelector', path: JOBS, body: jobWith((j) => { j.spec.selector = { matchLabels: { app: 'a' } }; j.spec.template.metadata = { labels: { app: 'a' } }; }), code: 422, reason: 'Invalid', fields: ['spec.selector'], message: /`selector` not auto-generated/ },
  { title: 'a Job whose spec is a list', path: JOBS, body: jobWith((j) => { j.spec = [j.spec]; }), code: 422, reason: 'Invalid', fields: ['spec'] },

  // ---- PriorityClasses (scheduling.k8s.io/v1) and the priority a pod gets from one
  { title: 'a PriorityClass above the user ceiling', path: PRIORITY_CLASSES, body: priorityClass((c) => { c.value = 1_000_000_001; }), code: 422, reason: 'Invalid', fields: ['value'], message: /maximum allowed value of a user defined priority is 1000000000/ },
  { title: 'a PriorityClass with a system- name', path: PRIORITY_CLASSES, body: priorityClass((c) => { c.metadata.name = 'system-mine'; }), code: 422, reason: 'Invalid', fields: ['metadata.name'], message: /reserved for system use only/ },
  { title: 'a PriorityClass without a value', path: PRIORITY_CLASSES, body: priorityClass((c) => { delete c.value; }), code: 422, reason: 'Invalid', fields: ['value'] },
  { title: 'a PriorityClass whose value is a string', path: PRIORITY_CLASSES, body: priorityClass((c) => { c.value = 'high'; }), code: 422, reason: 'Invalid', fields: ['value'] },
  { title: 'a PriorityClass value beyond int32', path: PRIORITY_CLASSES, body: priorityClass((c) => { c.value = -3_000_000_000; }), code: 422, reason: 'Invalid', fields: ['value'] },
  { title: 'a PriorityClass of preemptionPolicy Sometimes', path: PRIORITY_CLASSES, body: priorityClass((c) => { c.preemptionPolicy = 'Sometimes'; }), code: 422, reason: 'Invalid', fields: ['preemptionPolicy'], message: /supported values: "PreemptLowerPriority", "Never"/ },
  { title: 'a delete of the system-node-critical PriorityClass', method: 'DELETE', path: `${PRIORITY_CLASSES}/system-node-critical`, body: '', code: 403, reason: 'Forbidden', message: /this is a system priority class and cannot be deleted/ },
  { title: 'a pod naming a PriorityClass that does not exist', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.spec.priorityClassName = 'nosuch'; }), code: 403, reason: 'Forbidden', message: /^pods "p9" is forbidden: no PriorityClass with name nosuch was found$/ },
  { title: 'a pod stating a priority no class gives it', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.spec.priority = 100; }), code: 403, reason: 'Forbidden', message: /must not be provided in pod spec; priority admission controller computed 0/ },
  { title: 'a pod whose priorityClassName is not a name', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.spec.priorityClassName = 'Not A Name'; }), code: 422, reason: 'Invalid', fields: ['spec.priorityClassName'] },
  { title: 'a pod of preemptionPolicy Sometimes', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.spec.preemptionPolicy = 'Sometimes'; }), code: 422, reason: 'Invalid', fields: ['spec.preemptionPolicy'] },
  { title: 'a merge patch changing a pod\'s priorityClassName', method: 'PATCH', path: podPath('p1'), type: MERGE_PATCH, body: { spec: { priorityClassName: 'system-node-critical' } }, needsTargets: true, code: 422, reason: 'Invalid', fields: ['spec.priorityClassName'], message: /field is immutable/ },

  // ---- Workflows (kcs.io/v1): jobs in dependency order
  { title: 'a Workflow whose jobs depend on each other', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[0].dependsOn = ['b']; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[1].dependsOn'], message: /dependency cycle: b -> a -> b/ },
  { title: 'a Workflow job depending on a job not in the list', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[1].dependsOn = ['ghost']; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[1].dependsOn[0]'], message: /Not found: "ghost"/ },
  { title: 'a Workflow job depending on itself', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[1].dependsOn = ['b']; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[1].dependsOn[0]'], message: /may not depend on itself/ },
  { title: 'a Workflow with two jobs of one name', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[1].name = 'a'; delete w.spec.jobs[1].dependsOn; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[1].name'], message: /Duplicate value: "a"/ },
  { title: 'a Workflow job name that is not a DNS label', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[0].name = 'Step_A'; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[0].name'] },
  { title: 'a Workflow without jobs', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs = []; }), code: 422, reason: 'Invalid', fields: ['spec.jobs'] },
  { title: 'a Workflow job whose pods restart Always', path: WORKFLOWS, body: workflowWith((w) => { w.spec.jobs[1].template.spec.template.spec.restartPolicy = 'Always'; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[1].template.spec.template.spec.restartPolicy'] },
  { title: 'a Workflow job without a template', path: WORKFLOWS, body: workflowWith((w) => { delete w.spec.jobs[0].template; }), code: 422, reason: 'Invalid', fields: ['spec.jobs[0].template'] },
];

// ---- running a case ------------------------------------------------------------------------

interface Answer { status: number; body: any; text: string }

function bodyText(c: BadCase, targets?: Targets): string {
  const body = typeof c.body === 'function' ? c.body(targets) : c.body ?? '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

async function send(api: Client, c: BadCase, targets?: Targets): Promise<Answer> {
  const method = c.method ?? 'POST';
  const path = c.path ?? NODES;
  const type = c.type ?? (c.method === 'PATCH' ? MERGE_PATCH : 'application/json');
  if (c.needsTargets && !targets) throw new Error(`${c.title}: needs the targets`);
  if (method === 'GET') return api.request(method, path, c.accept ? { headers: { accept: c.accept } } : {});
  const text = bodyText(c, targets);
  if (c.stream) {
    const data = Buffer.from(text);
    const chunks = function* () { for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536); };
    return rawRequest(api.url, { method, path, token: api.token, type, chunks: chunks(), contentLength: c.stream === 'content-length' ? data.length : false });
  }
  return api.request(method, path, { body: text, type });
}

interface Snapshot { revision: number; nodes: unknown; pods: unknown; events: unknown }

async function snapshot(api: TestApi): Promise<Snapshot> {
  return {
    revision: await api.store.currentRevision(),
    nodes: (await api.get(NODES)).body.items,
    pods: (await api.get('/api/v1/pods')).body.items,
    events: (await api.get('/api/v1/events')).body.items,
  };
}

async function createTargets(t: ExecutionContext, api: Client): Promise<Targets> {
  const [n1, p1, p2] = await createAll(t, api, [[NODES, node('n1')], [PODS, pod('p1')], [PODS, pod('p2', { spec: { nodeName: 'n1' } })]]);
  return { n1, p1, p2 };
}

function checkAnswer(t: ExecutionContext, c: BadCase, r: Answer): void {
  const label = `${c.title}: ${r.text.slice(0, 300)}`;
  t.is(r.status, c.code, label);
  t.like(r.body, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: c.reason, code: c.code }, label);
  if (c.message) t.regex(r.body?.message ?? '', c.message, label);
  for (const field of c.fields ?? []) {
    const causes: Array<{ field?: string }> = r.body?.details?.causes ?? [];
    t.true(causes.some((x) => x.field === field), `${c.title}: details.causes names ${field}: ${JSON.stringify(causes)}`);
    t.true((r.body?.message ?? '').includes(field), `${c.title}: message names ${field}`);
  }
}

function checkNoPollution(t: ExecutionContext): void {
  t.is(({} as any).polluted, undefined, 'Object.prototype is not polluted');
  t.false(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'));
  t.is((Object.prototype as any).constructor, Object);
}

async function sendAndCheck(t: ExecutionContext, api: Client, c: BadCase, targets?: Targets): Promise<void> {
  checkAnswer(t, c, await send(api, c, targets));
}

// One at a time: each case starts a server of its own, and 330 of them started together
// (one process) finished none within ava's minute; in turn they take about half of it.
for (const c of CASES) {
  test.serial(`refuses ${c.title} with ${c.code} ${c.reason}, stores nothing and stays up`, withApp, async (t, api) => {
    t.timeout(15_000);
    const targets = c.needsTargets ? await createTargets(t, api) : undefined;
    const before = await snapshot(api);
    await sendAndCheck(t, api, c, targets);
    t.is((await api.get('/healthz', { token: null })).status, 200);
    t.deepEqual(await snapshot(api), before);
    checkNoPollution(t);
  });
}

test('a body exactly at the configured limit is read; one byte more is 413', withAppOptions({ bodyLimit: 4096 }), async (t, api) => {
  await sendAndCheck(t, api, { title: 'one byte over', body: paddedNode(4097), stream: 'content-length', code: 413, reason: 'RequestEntityTooLarge' });
  t.is(await api.store.currentRevision(), FRESH_REVISION);
  const at = await api.post(NODES, paddedNode(4096));
  t.is(at.status, 201, at.text);
  t.is(at.body.metadata.name, 'big');
});

// Serial too, so it runs alone (about 2 s): beside the other cases it was starved past any budget.
test.serial('all bad requests at once leave the server alive and the store untouched', async (t) => {
  t.timeout(30_000);
  const api = await openApi(t);
  const fireAll = (cases: BadCase[], targets?: Targets) => Promise.all(cases.map((c) => sendAndCheck(t, api, c, targets)));

  await fireAll(CASES.filter((c) => !c.needsTargets));
  t.is((await api.get('/healthz', { token: null })).status, 200);
  t.deepEqual(await snapshot(api), { revision: FRESH_REVISION, nodes: [], pods: [], events: [] }, 'the store is empty');

  const targets = await createTargets(t, api);
  const before = await snapshot(api);
  await fireAll([...CASES.filter((c) => c.needsTargets), ...CASES.filter((c) => !c.needsTargets)], targets);
  t.is((await api.get('/healthz', { token: null })).status, 200);
  t.deepEqual(await snapshot(api), before, 'the targets are unchanged and nothing else was stored');
  t.deepEqual(api.logs, [], 'no request caused an internal error');
  checkNoPollution(t);
});

// ---- owners and deletion: ownerReferences, finalizers, propagationPolicy (every kind shares metadata's schema)

const ownerRef = (extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', name: 'p0', uid: 'u-0', ...extra });
const ownedPod = (...refs: unknown[]) => podWith((p) => { p.metadata.name = 'p9'; p.metadata.ownerReferences = refs; });
const deleteOptions = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'DeleteOptions', ...extra });

const OWNER_CASES: BadCase[] = [
  { title: 'an ownerReference without a uid', path: PODS, body: ownedPod({ apiVersion: 'v1', kind: 'Pod', name: 'p0' }), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences[0].uid'], message: /Required value/ },
  { title: 'an ownerReference without apiVersion and kind', path: PODS, body: ownedPod({ name: 'p0', uid: 'u-0' }), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences[0].apiVersion', 'metadata.ownerReferences[0].kind'] },
  { title: 'an ownerReference with an empty name', path: PODS, body: ownedPod(ownerRef({ name: '' })), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences.name'], message: /name must not be empty/ },
  { title: 'an ownerReference whose apiVersion has no version', path: PODS, body: ownedPod(ownerRef({ apiVersion: 'apps/' })), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences.apiVersion'], message: /version must not be empty/ },
  { title: 'an ownerReference whose controller is a string', path: PODS, body: ownedPod(ownerRef({ controller: 'yes' })), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences[0].controller'] },
  {
    title: 'two ownerReferences with controller=true', path: PODS, body: ownedPod(ownerRef({ controller: true }), ownerRef({ name: 'p8', uid: 'u-8', controller: true })),
    code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences'], message: /Only one reference can have Controller set to true\. Found "true" in references for Pod\/p0 and Pod\/p8/,
  },
  { title: 'an Event as an owner', path: PODS, body: ownedPod(ownerRef({ kind: 'Event', name: 'e1' })), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences'], message: /\/v1, Kind=Event is disallowed from being an owner/ },
  { title: 'ownerReferences that are an object', body: nodeWith((n) => { n.metadata.ownerReferences = ownerRef(); }), code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences'] },
  {
    title: 'a merge patch giving a node two controllers', method: 'PATCH', path: nodePath('n1'), type: MERGE_PATCH, needsTargets: true,
    body: { metadata: { ownerReferences: [ownerRef({ controller: true }), ownerRef({ name: 'p8', uid: 'u-8', controller: true })] } }, code: 422, reason: 'Invalid', fields: ['metadata.ownerReferences'],
  },
  { title: 'a finalizer that is not a qualified name', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.metadata.finalizers = ['not a name']; }), code: 422, reason: 'Invalid', fields: ['metadata.finalizers[0]'] },
  { title: 'both the orphan and foregroundDeletion finalizers', path: PODS, body: podWith((p) => { p.metadata.name = 'p9'; p.metadata.finalizers = ['orphan', 'foregroundDeletion']; }), code: 422, reason: 'Invalid', fields: ['metadata.finalizers'], message: /cannot be both set/ },
  { title: 'a delete with propagationPolicy=Sideways in the query', method: 'DELETE', path: `${podPath('p1')}?propagationPolicy=Sideways`, body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['propagationPolicy'], message: /Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"/ },
  { title: 'a DeleteOptions with propagationPolicy "orphan" (lower case)', method: 'DELETE', path: nodePath('n1'), body: deleteOptions({ propagationPolicy: 'orphan' }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['propagationPolicy'] },
  { title: 'a DeleteOptions whose propagationPolicy is a number', method: 'DELETE', path: podPath('p1'), body: deleteOptions({ propagationPolicy: 1 }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['propagationPolicy'] },
  { title: 'a DeleteOptions with both orphanDependents and propagationPolicy', method: 'DELETE', path: podPath('p1'), body: deleteOptions({ orphanDependents: true, propagationPolicy: 'Orphan' }), needsTargets: true, code: 422, reason: 'Invalid', fields: ['propagationPolicy'], message: /cannot be both set/ },
  { title: 'a delete with orphanDependents=maybe in the query', method: 'DELETE', path: `${podPath('p1')}?orphanDependents=maybe`, body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['orphanDependents'] },
  { title: 'a deletecollection with propagationPolicy=None', method: 'DELETE', path: `${PODS}?propagationPolicy=None`, body: '', needsTargets: true, code: 422, reason: 'Invalid', fields: ['propagationPolicy'] },
];

for (const c of OWNER_CASES) {
  test.serial(`refuses ${c.title} with ${c.code} ${c.reason} and stores nothing`, withApp, async (t, api) => {
    const targets = c.needsTargets ? await createTargets(t, api) : undefined;
    const before = await snapshot(api);
    await sendAndCheck(t, api, c, targets);
    t.deepEqual(await snapshot(api), before);
  });
}
