// Writes schemas/openapi/kubernetes.json: the official Kubernetes OpenAPI
// definitions (swagger 2.0 form, `#/definitions/...` references) of the
// kinds kcs serves and everything they reference, rebuilt from the
// `kubernetes-models` package, which is generated from Kubernetes' own
// OpenAPI document: its type declarations carry each field's name, type,
// whether it is required and its description; its validators (compiled from
// the same document) tell integers from numbers and their formats. What the
// package does not carry, the list and patch extensions
// (x-kubernetes-list-type, -patch-merge-key, ...), comes from the table
// below, as Kubernetes' types.go markers state them.
//
//   npm run generate:openapi        (re-run after upgrading kubernetes-models)
//
// test/api/openapi-definitions.test.ts fails when the file is out of date.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODELS = join(ROOT, 'node_modules/kubernetes-models');
const APIMACHINERY = join(ROOT, 'node_modules/@kubernetes-models/apimachinery');
export const OUTPUT = join(ROOT, 'schemas/openapi/kubernetes.json');

/** The definitions served, by the file that declares each; their references are followed. */
const ROOTS = [
  'kubernetes-models/v1/Pod', 'kubernetes-models/v1/PodList',
  'kubernetes-models/v1/Node', 'kubernetes-models/v1/NodeList',
  'kubernetes-models/v1/Event', 'kubernetes-models/v1/EventList',
  'kubernetes-models/v1/Namespace', 'kubernetes-models/v1/NamespaceList',
  'kubernetes-models/v1/Binding', 'kubernetes-models/policy/v1/Eviction',
  'kubernetes-models/coordination.k8s.io/v1/Lease', 'kubernetes-models/coordination.k8s.io/v1/LeaseList',
  'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyList',
  'kubernetes-models/v1/Service', 'kubernetes-models/v1/ServiceList', 'kubernetes-models/v1/Endpoints', 'kubernetes-models/v1/EndpointsList',
  'kubernetes-models/discovery.k8s.io/v1/EndpointSlice', 'kubernetes-models/discovery.k8s.io/v1/EndpointSliceList',
  'kubernetes-models/batch/v1/Job', 'kubernetes-models/batch/v1/JobList',
  'kubernetes-models/scheduling.k8s.io/v1/PriorityClass', 'kubernetes-models/scheduling.k8s.io/v1/PriorityClassList',
  'apimachinery/apis/meta/v1/Status', 'apimachinery/apis/meta/v1/WatchEvent', 'apimachinery/apis/meta/v1/DeleteOptions',
  'apimachinery/apis/meta/v1/APIResourceList', 'apimachinery/apis/meta/v1/APIGroupList', 'apimachinery/apis/meta/v1/APIVersions',
  'apimachinery/apis/meta/v1/Patch', 'apimachinery/version/Info',
];

type Schema = Record<string, unknown>;

/** Definitions that are primitives on the wire (type aliases in the package). */
const PRIMITIVES: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    type: 'string',
    description: 'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the "" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= "+" | "-" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | "" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn\'t choose the capitalization.)\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber> ```\n\nNo matter which of the three exponent forms is used, no quantity may represent a number greater than 2^63-1 in magnitude, nor may it have more than 3 decimal places. Numbers larger or more precise will be capped or rounded up. (E.g.: 0.1m will rounded up to 1m.) This may be extended in the future if we require larger or smaller quantities.',
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    type: 'string', format: 'int-or-string',
    description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': {
    type: 'string', format: 'date-time',
    description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': {
    type: 'string', format: 'date-time',
    description: 'MicroTime is version of Time with microsecond level precision.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': {
    type: 'object',
    description: "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map 'v:<value>', where <value> is the exact json formatted value of a list item 'i:<index>', where <index> is integer index of a list item 'k:<keys>', where <keys> is a map of  a list item's key fields to their unique values If a key maps to an empty Fields value, the field that key represents is part of the set.\n\nThe exact format is defined in sigs.k8s.io/structured-merge-diff",
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    type: 'object',
    description: 'RawExtension is used to hold extensions in external versions.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': {
    type: 'object',
    description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
  },
};

// Kubernetes' standard wording for the type fields, which the package leaves undocumented.
const API_VERSION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

const merge = (key: string, strategy = 'merge') => ({ 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': strategy });
const mapList = (...keys: string[]) => ({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
const atomic = { 'x-kubernetes-list-type': 'atomic' };
const set = { 'x-kubernetes-list-type': 'set' };
const containerLists = {
  ports: { ...mapList('containerPort', 'protocol'), ...merge('containerPort') },
  env: { ...mapList('name'), ...merge('name') },
  envFrom: atomic,
  volumeMounts: { ...mapList('mountPath'), ...merge('mountPath') },
  volumeDevices: { ...mapList('devicePath'), ...merge('devicePath') },
  command: atomic, args: atomic, resizePolicy: atomic, restartPolicyRules: atomic,
};

/** The list, map and patch markers of Kubernetes' types, by definition and property. */
const EXTENSIONS: Record<string, Record<string, Schema>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { ...set, 'x-kubernetes-patch-strategy': 'merge' },
    managedFields: atomic,
    ownerReferences: { ...mapList('uid'), ...merge('uid') },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails': { causes: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': { matchExpressions: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': { values: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResource': { categories: atomic, shortNames: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList': { resources: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup': { serverAddressByClientCIDRs: atomic, versions: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList': { groups: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions': { serverAddressByClientCIDRs: atomic, versions: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': { dryRun: atomic },
  'io.k8s.api.core.v1.PodSpec': {
    containers: { ...mapList('name'), ...merge('name') },
    initContainers: { ...mapList('name'), ...merge('name') },
    ephemeralContainers: { ...mapList('name'), ...merge('name') },
    volumes: { ...mapList('name'), ...merge('name', 'merge,retainKeys') },
    imagePullSecrets: { ...mapList('name'), ...merge('name') },
    hostAliases: { ...mapList('ip'), ...merge('ip') },
    tolerations: atomic,
    readinessGates: atomic,
    schedulingGates: { ...mapList('name'), ...merge('name') },
    resourceClaims: { ...mapList('name'), ...merge('name', 'merge,retainKeys') },
    topologySpreadConstraints: { ...mapList('topologyKey', 'whenUnsatisfiable'), ...merge('topologyKey') },
    nodeSelector: { 'x-kubernetes-map-type': 'atomic' },
  },
  'io.k8s.api.core.v1.Container': containerLists,
  'io.k8s.api.core.v1.EphemeralContainer': containerLists,
  'io.k8s.api.core.v1.PodStatus': {
    conditions: { ...mapList('type'), ...merge('type') },
    podIPs: { ...mapList('ip'), ...merge('ip') },
    hostIPs: { ...atomic, ...merge('ip') },
    containerStatuses: atomic, initContainerStatuses: atomic, ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { ...mapList('name'), ...merge('name', 'merge,retainKeys') },
    nodeAllocatableResourceClaimStatuses: { ...mapList('resourceClaimName'), ...merge('resourceClaimName') },
  },
  'io.k8s.api.core.v1.CephFSVolumeSource': { monitors: atomic },
  'io.k8s.api.core.v1.RBDVolumeSource': { monitors: atomic },
  'io.k8s.api.core.v1.ISCSIVolumeSource': { portals: atomic },
  'io.k8s.api.core.v1.FCVolumeSource': { targetWWNs: atomic, wwids: atomic },
  'io.k8s.api.core.v1.ConfigMapProjection': { items: atomic },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.SecretProjection': { items: atomic },
  'io.k8s.api.core.v1.SecretVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.DownwardAPIProjection': { items: atomic },
  'io.k8s.api.core.v1.DownwardAPIVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.ProjectedVolumeSource': { sources: atomic },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': { accessModes: atomic },
  'io.k8s.api.core.v1.ExecAction': { command: atomic },
  'io.k8s.api.core.v1.HTTPGetAction': { httpHeaders: atomic },
  'io.k8s.api.core.v1.HostAlias': { hostnames: atomic },
  'io.k8s.api.core.v1.LinuxContainerUser': { supplementalGroups: atomic },
  'io.k8s.api.core.v1.ContainerImage': { names: atomic },
  'io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes': { values: set },
  'io.k8s.api.core.v1.ResourceStatus': { resources: mapList('resourceID') },
  'io.k8s.api.core.v1.PodExtendedResourceClaimStatus': { requestMappings: atomic },
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus': { containers: set },
  'io.k8s.api.core.v1.ContainerStatus': { allocatedResourcesStatus: { ...mapList('name'), ...merge('name') }, volumeMounts: { ...mapList('mountPath'), ...merge('mountPath') } },
  'io.k8s.api.core.v1.PodDNSConfig': { nameservers: atomic, searches: atomic, options: atomic },
  'io.k8s.api.core.v1.PodSecurityContext': { supplementalGroups: atomic, sysctls: atomic },
  'io.k8s.api.core.v1.Capabilities': { add: atomic, drop: atomic },
  'io.k8s.api.core.v1.ResourceRequirements': { claims: mapList('name') },
  'io.k8s.api.core.v1.NodeSelector': { nodeSelectorTerms: atomic },
  'io.k8s.api.core.v1.NodeSelectorTerm': { matchExpressions: atomic, matchFields: atomic },
  'io.k8s.api.core.v1.NodeSelectorRequirement': { values: atomic },
  'io.k8s.api.core.v1.NodeAffinity': { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.PodAffinity': { preferredDuringSchedulingIgnoredDuringExecution: atomic, requiredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.PodAntiAffinity': { preferredDuringSchedulingIgnoredDuringExecution: atomic, requiredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.PodAffinityTerm': { namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic },
  'io.k8s.api.core.v1.TopologySpreadConstraint': { matchLabelKeys: atomic },
  'io.k8s.api.core.v1.NodeSpec': { podCIDRs: { ...set, 'x-kubernetes-patch-strategy': 'merge' }, taints: atomic },
  'io.k8s.api.core.v1.NodeStatus': {
    conditions: { ...mapList('type'), ...merge('type') },
    addresses: { ...mapList('type'), ...merge('type') },
    images: atomic, volumesAttached: atomic, volumesInUse: atomic, runtimeHandlers: atomic, declaredFeatures: atomic,
  },
  'io.k8s.api.core.v1.NamespaceSpec': { finalizers: atomic },
  'io.k8s.api.core.v1.NamespaceStatus': { conditions: { ...mapList('type'), ...merge('type') } },
  'io.k8s.api.networking.v1.NetworkPolicySpec': { ingress: atomic, egress: atomic, policyTypes: atomic },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': { from: atomic, ports: atomic },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': { to: atomic, ports: atomic },
  'io.k8s.api.networking.v1.IPBlock': { except: atomic },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: { ...mapList('port', 'protocol'), ...merge('port') },
    selector: { 'x-kubernetes-map-type': 'atomic' },
    clusterIPs: atomic, externalIPs: atomic, loadBalancerSourceRanges: atomic, ipFamilies: atomic,
  },
  'io.k8s.api.core.v1.ServiceStatus': { conditions: { ...mapList('type'), ...merge('type') } },
  'io.k8s.api.core.v1.LoadBalancerStatus': { ingress: atomic },
  'io.k8s.api.core.v1.LoadBalancerIngress': { ports: atomic },
  'io.k8s.api.core.v1.Endpoints': { subsets: atomic },
  'io.k8s.api.core.v1.EndpointSubset': { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  'io.k8s.api.discovery.v1.EndpointSlice': { endpoints: atomic, ports: atomic },
  'io.k8s.api.discovery.v1.Endpoint': { addresses: set },
  'io.k8s.api.discovery.v1.EndpointHints': { forZones: atomic, forNodes: atomic },
  'io.k8s.api.batch.v1.JobStatus': { conditions: { ...atomic, ...merge('type') } },
  'io.k8s.api.batch.v1.PodFailurePolicy': { rules: atomic },
  'io.k8s.api.batch.v1.PodFailurePolicyRule': { onPodConditions: atomic },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': { values: set },
  'io.k8s.api.batch.v1.SuccessPolicy': { rules: atomic },
  'io.k8s.api.batch.v1.UncountedTerminatedPods': { succeeded: set, failed: set },
};

/** Structs Kubernetes marks +structType=atomic: replaced whole by a patch. */
const ATOMIC_STRUCTS = new Set([
  'io.k8s.api.core.v1.LocalObjectReference', 'io.k8s.api.core.v1.ObjectReference', 'io.k8s.api.core.v1.TypedLocalObjectReference',
  'io.k8s.api.core.v1.NodeSelector', 'io.k8s.api.core.v1.NodeSelectorTerm', 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  'io.k8s.api.core.v1.ConfigMapKeySelector', 'io.k8s.api.core.v1.SecretKeySelector', 'io.k8s.api.core.v1.ObjectFieldSelector',
  'io.k8s.api.core.v1.ResourceFieldSelector', 'io.k8s.api.core.v1.FileKeySelector', 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
]);

/** Meta kinds the package declares without their type fields fixed; Kubernetes names their kind all the same. */
const META_KINDS = new Set(['Status', 'APIGroupList', 'APIVersions', 'APIResourceList']);

/** Where a declaration file lives: 'kubernetes-models/v1/Pod' or 'apimachinery/apis/meta/v1/Status'. */
function fileOf(id: string): string {
  return id.startsWith('apimachinery/') ? join(APIMACHINERY, id.slice('apimachinery/'.length)) + '.d.ts' : join(MODELS, id.slice('kubernetes-models/'.length)) + '.d.ts';
}

/** Kubernetes' definition name for a declaration: its Go package path, reversed domain first. */
function definitionName(id: string): string {
  const parts = id.split('/');
  const type = parts.pop()!;
  if (parts[0] === 'apimachinery') return ['io.k8s.apimachinery.pkg', ...parts.slice(1), type].join('.');
  const [, group, version] = parts;
  const pkg = group === 'v1' ? 'core.v1' : `${group.replace(/\.k8s\.io$/, '')}.${version}`;
  return `io.k8s.api.${pkg}.${type}`;
}

/** The module id an import specifier in file `from` names. */
function importedId(from: string, specifier: string): string {
  if (specifier.startsWith('@kubernetes-models/apimachinery/')) return 'apimachinery/' + specifier.slice('@kubernetes-models/apimachinery/'.length).replace(/\.js$/, '');
  const base = from.startsWith('apimachinery/') ? APIMACHINERY : MODELS;
  const prefix = from.startsWith('apimachinery/') ? 'apimachinery/' : 'kubernetes-models/';
  const abs = resolve(dirname(fileOf(from)), specifier.replace(/\.js$/, ''));
  return prefix + abs.slice(base.length + 1);
}

/** The package's validator for a definition: `_schemas/IoK8sApiCoreV1PodSpec.js`. */
async function validatorOf(id: string, name: string): Promise<(data: unknown) => boolean> {
  const file = name.split('.').map((s) => s[0].toUpperCase() + s.slice(1)).join('');
  const dir = id.startsWith('apimachinery/') ? APIMACHINERY : MODELS;
  const mod = await import(pathToFileURL(join(dir, '_schemas', file + '.js')).href);
  return mod.validate;
}

interface ValidationError { instancePath: string; keyword: string; params: Record<string, unknown> }

/** Asks the package's validator what a numeric field is: integer (int32 or int64) or number. */
function numberSchema(validate: (d: unknown) => boolean, wrap: (v: unknown) => unknown, path: string): Schema {
  const errorsFor = (value: unknown) => {
    validate(wrap(value));
    return ((validate as unknown as { errors?: ValidationError[] }).errors ?? []).filter((e) => e.instancePath === path);
  };
  if (!errorsFor(0.5).some((e) => e.keyword === 'type' && e.params.type === 'integer')) return { type: 'number', format: 'double' };
  const int32 = errorsFor(2 ** 40).some((e) => e.keyword === 'format' && e.params.format === 'int32');
  return { type: 'integer', format: int32 ? 'int32' : 'int64' };
}

function jsDoc(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  const comment = docs?.[docs.length - 1]?.comment;
  if (comment === undefined) return undefined;
  return typeof comment === 'string' ? comment : comment.map((c) => c.text).join('');
}

export async function generate(): Promise<Record<string, Schema>> {
  const definitions: Record<string, Schema> = {};
  const queue = [...ROOTS];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const name = definitionName(id);
    if (PRIMITIVES[name]) { definitions[name] = PRIMITIVES[name]; continue; }
    const file = ts.createSourceFile(fileOf(id), readFileSync(fileOf(id), 'utf8'), ts.ScriptTarget.ES2022, true);
    const imports = new Map<string, string>();
    let iface: ts.InterfaceDeclaration | undefined;
    for (const stmt of file.statements) {
      if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier) && stmt.importClause?.namedBindings && ts.isNamedImports(stmt.importClause.namedBindings)) {
        const spec = stmt.moduleSpecifier.text;
        if (spec === '@kubernetes-models/base') continue;
        for (const el of stmt.importClause.namedBindings.elements) imports.set(el.name.text, importedId(id, spec));
      }
      if (ts.isInterfaceDeclaration(stmt) && stmt.name.text === 'I' + id.split('/').pop()) iface = stmt;
    }
    if (!iface) throw new Error(`${id}: no interface declared`);
    const validate = await validatorOf(id, name);
    const isTopLevel = iface.heritageClauses?.some((h) => h.types.some((t) => t.expression.getText() === 'TypeMeta')) ?? false;

    const typeSchema = (node: ts.TypeNode, wrap: (v: unknown) => unknown, path: string): Schema => {
      switch (node.kind) {
        case ts.SyntaxKind.StringKeyword: return { type: 'string' };
        case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
        case ts.SyntaxKind.NumberKeyword: return numberSchema(validate, wrap, path);
        case ts.SyntaxKind.AnyKeyword: case ts.SyntaxKind.UnknownKeyword: return { type: 'object' };
        case ts.SyntaxKind.LiteralType: return { type: 'string' };
      }
      if (ts.isUnionTypeNode(node)) {
        const values = node.types.map((t) => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined));
        if (values.every((v) => v !== undefined)) return { type: 'string', enum: values };
      }
      if (ts.isTypeReferenceNode(node)) {
        const ref = node.typeName.getText();
        if (ref === 'Array' && node.typeArguments?.length === 1) {
          return { type: 'array', items: typeSchema(node.typeArguments[0], (v) => wrap([v]), `${path}/0`) };
        }
        const target = imports.get(ref);
        if (!target) throw new Error(`${id}: unknown type ${ref}`);
        queue.push(target);
        return { $ref: `#/definitions/${definitionName(target)}` };
      }
      if (ts.isTypeLiteralNode(node)) {
        const index = node.members.find(ts.isIndexSignatureDeclaration);
        if (index) return { type: 'object', additionalProperties: typeSchema(index.type, (v) => wrap({ key: v }), `${path}/key`) };
        return { type: 'object' };
      }
      throw new Error(`${id}: cannot describe type ${node.getText()}`);
    };

    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const member of iface.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const prop = ts.isStringLiteral(member.name) ? member.name.text : member.name.getText();
      const schema = typeSchema(member.type, (v) => ({ [prop]: v }), `/${prop}`);
      const description = prop === 'apiVersion' && isTopLevel ? API_VERSION : prop === 'kind' && isTopLevel ? KIND : jsDoc(member);
      // Kubernetes puts a reference's description beside it, as swagger 2.0 allows.
      properties[prop] = { ...(description ? { description } : {}), ...schema, ...EXTENSIONS[name]?.[prop] };
      // The package requires apiVersion and kind of every top-level kind; Kubernetes does not.
      if (!member.questionToken && !(isTopLevel && (prop === 'apiVersion' || prop === 'kind'))) required.push(prop);
    }
    const description = jsDoc(iface);
    const definition: Schema = { ...(description ? { description } : {}), type: 'object', properties };
    if (required.length) definition.required = required;
    if (ATOMIC_STRUCTS.has(name)) definition['x-kubernetes-map-type'] = 'atomic';
    if (isTopLevel) {
      const apiVersion = (iface.members.find((m) => ts.isPropertySignature(m) && m.name.getText() === '"apiVersion"') as ts.PropertySignature).type!.getText().slice(1, -1);
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      definition['x-kubernetes-group-version-kind'] = [{ group, kind: id.split('/').pop(), version }];
    }
    if (id.startsWith('apimachinery/apis/meta/v1/') && META_KINDS.has(id.split('/').pop()!)) {
      definition['x-kubernetes-group-version-kind'] = [{ group: '', kind: id.split('/').pop(), version: 'v1' }];
    }
    definitions[name] = definition;
  }
  return Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b)));
}

export function render(definitions: Record<string, Schema>): string {
  const { version } = JSON.parse(readFileSync(join(MODELS, 'package.json'), 'utf8')) as { version: string };
  const source = `Kubernetes API definitions (Apache License 2.0, The Kubernetes Authors), as the kubernetes-models package ${version} (MIT) carries them; written by tools/openapi-definitions.ts`;
  return JSON.stringify({ 'x-source': source, definitions }, null, 1) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const text = render(await generate());
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, text);
  console.log(`wrote ${OUTPUT.slice(ROOT.length)}: ${Object.keys(JSON.parse(text).definitions).length} definitions, ${text.length} bytes`);
}
