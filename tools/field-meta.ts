// Derives schemas/kubernetes-fields.json, the merge metadata of the core
// kinds kcs serves, from the Go API types Kubernetes publishes (the
// k8s.io/api and k8s.io/apimachinery sources), where the official OpenAPI
// extensions come from: struct tags `patchStrategy` / `patchMergeKey`
// (strategic merge patch) and the markers `+listType`, `+listMapKey`,
// `+structType`, `+mapType`, `+default` (server-side apply).
//
//   node tools/field-meta.ts <k8s.io/api dir> <k8s.io/apimachinery dir> [commit-of-api]
//
// Only the types reachable from the served kinds are written. Quantities,
// times, UIDs and int-or-strings are leaves, as the OpenAPI definitions
// make them.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type TypeRef =
  | 'scalar' | 'untyped'
  | { struct: string }
  | { list: TypeRef; listType?: string; keys?: string[]; patchStrategy?: string; mergeKey?: string }
  | { map: TypeRef; atomic?: boolean };

interface FieldOut { type: TypeRef; default?: unknown }
interface StructOut { fields: Record<string, FieldOut>; atomic?: boolean }

interface GoField { name: string; goType: string; json: string | undefined; tags: Record<string, string>; markers: Record<string, string[]>; embedded: boolean }
interface GoType { pkg: string; name: string; markers: Record<string, string[]>; struct?: GoField[]; underlying?: string }

const [apiDir, machineryDir, apiCommit = ''] = process.argv.slice(2);
if (!apiDir || !machineryDir) {
  console.error('usage: node tools/field-meta.ts <k8s.io/api dir> <k8s.io/apimachinery dir> [api commit]');
  process.exit(2);
}

const PACKAGES: Record<string, string> = {
  'core/v1': join(apiDir, 'core/v1'),
  'coordination/v1': join(apiDir, 'coordination/v1'),
  'discovery/v1': join(apiDir, 'discovery/v1'),
  'networking/v1': join(apiDir, 'networking/v1'),
  'batch/v1': join(apiDir, 'batch/v1'),
  'scheduling/v1': join(apiDir, 'scheduling/v1'),
  // The Job's scheduling (alpha) refers to its types.
  'scheduling/v1alpha3': join(apiDir, 'scheduling/v1alpha3'),
  'meta/v1': join(machineryDir, 'pkg/apis/meta/v1'),
};
/** Go import aliases used in those packages, to our package names. */
const ALIASES: Record<string, string> = { metav1: 'meta/v1', v1: 'core/v1', corev1: 'core/v1', apiv1: 'core/v1', schedulingv1alpha3: 'scheduling/v1alpha3' };
/** Types the API encodes as one JSON value. */
const LEAVES = new Set(['resource.Quantity', 'intstr.IntOrString', 'types.UID', 'meta/v1.Time', 'meta/v1.MicroTime', 'meta/v1.Duration', 'meta/v1.Fields', 'types.NodeName']);
const UNTYPED = new Set(['runtime.RawExtension', 'meta/v1.FieldsV1', 'runtime.Object']);
const GO_SCALARS = new Set(['string', 'bool', 'int', 'int32', 'int64', 'uint32', 'uint64', 'float32', 'float64', 'byte']);

const ROOTS: Record<string, string> = {
  'v1/Pod': 'core/v1.Pod',
  'v1/Node': 'core/v1.Node',
  'v1/Event': 'core/v1.Event',
  'v1/Namespace': 'core/v1.Namespace',
  'coordination.k8s.io/v1/Lease': 'coordination/v1.Lease',
  'v1/Service': 'core/v1.Service',
  'v1/Endpoints': 'core/v1.Endpoints',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery/v1.EndpointSlice',
  'networking.k8s.io/v1/NetworkPolicy': 'networking/v1.NetworkPolicy',
  'batch/v1/Job': 'batch/v1.Job',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling/v1.PriorityClass',
};

function markersOf(comments: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of comments) {
    const m = /^\s*\/\/\s*\+([A-Za-z][\w.:-]*)(?:=(.*))?$/.exec(c);
    if (m) (out[m[1]] ??= []).push((m[2] ?? '').trim());
  }
  return out;
}

function parseTags(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of raw.matchAll(/(\w+):"([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

function parsePackage(pkg: string, dir: string, into: Map<string, GoType>): void {
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.go') || file.endsWith('_test.go') || file.startsWith('zz_generated') || file.endsWith('generated.pb.go')) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    let comments: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith('//')) { comments.push(line); continue; }
      const struct = /^type (\w+) struct \{\s*$/.exec(line);
      const named = /^type (\w+) (?!struct\b)(.+?)\s*(\/\/.*)?$/.exec(line);
      if (struct) {
        const fields: GoField[] = [];
        let fieldComments: string[] = [];
        for (i++; i < lines.length && lines[i] !== '}'; i++) {
          const f = lines[i].trim();
          if (f.startsWith('//')) { fieldComments.push(f); continue; }
          if (f === '') { fieldComments = []; continue; }
          const m = /^(?:(\w+)\s+)?([*\[\]\w.]+(?:\[[\w.]+\][*\w.\[\]]+)?)\s*`([^`]*)`/.exec(f);
          if (m) {
            const tags = parseTags(m[3]);
            const jsonName = tags.json?.split(',')[0];
            const embedded = m[1] === undefined;
            fields.push({ name: m[1] ?? m[2], goType: m[2], json: jsonName, tags, markers: markersOf(fieldComments), embedded });
          }
          fieldComments = [];
        }
        into.set(`${pkg}.${struct[1]}`, { pkg, name: struct[1], markers: markersOf(comments), struct: fields });
      } else if (named && !named[2].startsWith('=')) {
        into.set(`${pkg}.${named[1]}`, { pkg, name: named[1], markers: markersOf(comments), underlying: named[2] });
      }
      comments = [];
    }
  }
}

const goTypes = new Map<string, GoType>();
for (const [pkg, dir] of Object.entries(PACKAGES)) parsePackage(pkg, dir, goTypes);

const structs: Record<string, StructOut> = {};

function qualify(pkg: string, name: string): string {
  const dot = name.indexOf('.');
  if (dot < 0) return `${pkg}.${name}`;
  const alias = name.slice(0, dot);
  return `${ALIASES[alias] ?? alias}.${name.slice(dot + 1)}`;
}

/** A Go type expression as a type reference; member markers shape the list or map it names. */
function resolve(pkg: string, expr: string, member: { tags?: Record<string, string>; markers?: Record<string, string[]> } = {}): TypeRef {
  expr = expr.replace(/^\*/, '');
  if (expr === '[]byte') return 'scalar';
  if (expr.startsWith('[]')) {
    const elem = resolve(pkg, expr.slice(2));
    return listRef(elem, member.markers ?? {}, member.tags ?? {});
  }
  const map = /^map\[([^\]]+)\](.+)$/.exec(expr);
  if (map) {
    const atomic = member.markers?.mapType?.[0] === 'atomic';
    return { map: resolve(pkg, map[2]), ...(atomic ? { atomic } : {}) };
  }
  if (GO_SCALARS.has(expr)) return 'scalar';
  const q = qualify(pkg, expr);
  if (LEAVES.has(q)) return 'scalar';
  if (UNTYPED.has(q)) return 'untyped';
  const t = goTypes.get(q);
  if (!t) {
    if (/^[a-z]/.test(expr.split('.')[0]) && expr.includes('.')) throw new Error(`unknown external type ${expr} (in ${pkg})`);
    throw new Error(`unknown type ${q}`);
  }
  if (t.struct) {
    emitStruct(q, t);
    return { struct: q };
  }
  // A named list or map carries its markers on its declaration; the member's win.
  const merged = { tags: member.tags, markers: { ...t.markers, ...member.markers } };
  return resolve(t.pkg, t.underlying!, merged);
}

function listRef(elem: TypeRef, markers: Record<string, string[]>, tags: Record<string, string>): TypeRef {
  const ref: { list: TypeRef; listType?: string; keys?: string[]; patchStrategy?: string; mergeKey?: string } = { list: elem };
  const strategy = tags.patchStrategy ?? markers.patchStrategy?.[0];
  const mergeKey = tags.patchMergeKey ?? markers.patchMergeKey?.[0];
  if (strategy) ref.patchStrategy = strategy;
  if (mergeKey) ref.mergeKey = mergeKey;
  const listType = markers.listType?.[0];
  if (listType) ref.listType = listType;
  if (markers.listMapKey?.length) ref.keys = markers.listMapKey;
  return ref;
}

function emitStruct(q: string, t: GoType): void {
  if (structs[q]) return;
  const out: StructOut = { fields: {} };
  structs[q] = out; // before the fields: types refer to themselves (JSONSchemaProps-like recursion)
  if (t.markers.structType?.[0] === 'atomic') out.atomic = true;
  for (const f of t.struct!) {
    if (f.json === '-') continue;
    if (f.json === '' || (f.embedded && f.json === undefined)) {
      // Inline (`json:",inline"`): the embedded struct's fields are this struct's.
      const inner = qualify(t.pkg, f.goType.replace(/^\*/, ''));
      const it = goTypes.get(inner);
      if (!it?.struct) throw new Error(`cannot inline ${f.goType} in ${q}`);
      emitStruct(inner, it);
      Object.assign(out.fields, structs[inner].fields);
      continue;
    }
    if (f.json === undefined) continue;
    const field: FieldOut = { type: resolve(t.pkg, f.goType, { tags: f.tags, markers: f.markers }) };
    const def = f.markers.default?.[0];
    // Only literal defaults matter here (a list-map key a client may omit, such as a port's protocol).
    if (def !== undefined && !def.startsWith('ref(')) field.default = JSON.parse(def);
    out.fields[f.json] = field;
  }
}

for (const root of Object.values(ROOTS)) emitStruct(root, goTypes.get(root)!);
// Embedded structs (TypeMeta, VolumeSource...) were only inlined: keep the table to named members.
const used = new Set<string>(Object.values(ROOTS));
const visit = (ref: TypeRef) => {
  if (typeof ref === 'string') return;
  if ('struct' in ref) {
    if (used.has(ref.struct)) return;
    used.add(ref.struct);
    for (const f of Object.values(structs[ref.struct].fields)) visit(f.type);
  } else if ('list' in ref) visit(ref.list);
  else visit(ref.map);
};
for (const root of Object.values(ROOTS)) for (const f of Object.values(structs[root].fields)) visit(f.type);
const types = Object.fromEntries(Object.keys(structs).filter((k) => used.has(k)).sort().map((k) => [k, structs[k]]));

const out = {
  $comment: 'Generated by tools/field-meta.ts from the Kubernetes Go API types (k8s.io/api, k8s.io/apimachinery): merge keys and strategies for strategic merge patch, list and map types for server-side apply. Do not edit by hand.',
  source: apiCommit ? `k8s.io/api@${apiCommit}` : 'k8s.io/api',
  roots: ROOTS,
  types,
};
writeFileSync(new URL('../schemas/kubernetes-fields.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`${Object.keys(types).length} types written`);
