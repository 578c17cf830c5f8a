// Writes schemas/protobuf/kubernetes.json: the protobuf messages of the
// objects kcs reads in Kubernetes' protobuf encoding (src/api/protobuf-kinds.ts
// names them) and every message they reach, as a protobufjs JSON descriptor,
// so the server needs only protobufjs/light and Root.fromJSON. The messages
// come from Kubernetes' own generated.proto files; what the .proto files do
// not say, how each field is written in JSON, comes from the Go types they
// are generated from, and is kept on each field as two options:
//   (go.json)     the field's Go json tag: its JSON name, omitempty, or
//                 ",inline" (the message's fields are the parent's, as
//                 Volume's volumeSource or Probe's handler)
//   (go.pointer)  the Go field is a pointer: sent means set, even when zero
//                 (a non-pointer zero is what Go sends for "unset")
//
//   npm run generate:protobuf -- --api <kubernetes/api repo> --apimachinery <kubernetes/apimachinery repo>
//
// Each repository may be a clone or a bare mirror: the files are read with
// `git show <REF>:<path>`, at the release of Kubernetes kcs models (KUBE_COMPAT).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import { SPECIAL } from '../src/api/protobuf-json.ts';
import { ROOT_MESSAGES } from '../src/api/protobuf-kinds.ts';
import { KUBE_COMPAT } from '../src/version.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUTPUT = join(ROOT, 'schemas/protobuf/kubernetes.json');

/** The k8s.io/api and k8s.io/apimachinery tag of the newest 1.32 release. */
export const REF = 'v0.32.13';
if (!REF.startsWith(`v0.${KUBE_COMPAT.minor}.`)) throw new Error(`REF ${REF} is not a ${KUBE_COMPAT.major}.${KUBE_COMPAT.minor} release: update it with KUBE_COMPAT`);

type Repo = 'api' | 'apimachinery';

/** Each proto package: its repository, its directory there (generated.proto), and the Go files declaring its types. */
const PACKAGES: Array<{ pkg: string; repo: Repo; dir: string; go: string[] }> = [
  { pkg: 'k8s.io.apimachinery.pkg.runtime.schema', repo: 'apimachinery', dir: 'pkg/runtime/schema', go: [] },
  { pkg: 'k8s.io.apimachinery.pkg.runtime', repo: 'apimachinery', dir: 'pkg/runtime', go: [] },
  { pkg: 'k8s.io.apimachinery.pkg.api.resource', repo: 'apimachinery', dir: 'pkg/api/resource', go: [] },
  { pkg: 'k8s.io.apimachinery.pkg.util.intstr', repo: 'apimachinery', dir: 'pkg/util/intstr', go: [] },
  { pkg: 'k8s.io.apimachinery.pkg.apis.meta.v1', repo: 'apimachinery', dir: 'pkg/apis/meta/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.core.v1', repo: 'api', dir: 'core/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.policy.v1', repo: 'api', dir: 'policy/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.policy.v1beta1', repo: 'api', dir: 'policy/v1beta1', go: ['types.go'] },
  { pkg: 'k8s.io.api.coordination.v1', repo: 'api', dir: 'coordination/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.discovery.v1', repo: 'api', dir: 'discovery/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.batch.v1', repo: 'api', dir: 'batch/v1', go: ['types.go'] },
  { pkg: 'k8s.io.api.scheduling.v1', repo: 'api', dir: 'scheduling/v1', go: ['types.go'] },
];

/**
 * Messages whose JSON is not their fields (a MarshalJSON of their own in
 * Go): src/api/protobuf-json.ts writes each of these by hand, so any other
 * message reached must have Go fields to describe it.
 */
const SPECIAL_MESSAGES = Object.keys(SPECIAL);

/** The envelope every protobuf body comes in (read by src/api/protobuf-body.ts itself, not turned into JSON). */
export const ENVELOPE = 'k8s.io.apimachinery.pkg.runtime.Unknown';
const ENVELOPE_MESSAGES = [ENVELOPE, 'k8s.io.apimachinery.pkg.runtime.TypeMeta'];

interface GoField { json: string; pointer: boolean }

/** A Go struct's protobuf fields by number: `Name *T \`json:"..." protobuf:"bytes,3,opt,name=..."\``. */
export function goStructs(source: string): Map<string, Map<number, GoField>> {
  const structs = new Map<string, Map<number, GoField>>();
  for (const [, name, body] of source.matchAll(/^type (\w+) struct \{\n([\s\S]*?)^\}/gm)) {
    const fields = new Map<number, GoField>();
    for (const line of body!.split('\n')) {
      const [decl, tag] = line.split('`');
      if (tag === undefined || decl!.trim().startsWith('//')) continue;
      const tags = Object.fromEntries([...tag.matchAll(/(\w+):"([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (tags.protobuf === undefined) continue;
      const id = Number(tags.protobuf.split(',')[1]);
      const words = decl!.trim().split(/\s+/);
      // An embedded struct is its type alone; a named field is its name and type.
      const type = words.length === 1 ? words[0]! : words[1]!;
      if (tags.json === undefined || !Number.isInteger(id)) throw new Error(`${name}: cannot read the field ${decl!.trim()}`);
      fields.set(id, { json: tags.json, pointer: type.startsWith('*') });
    }
    structs.set(name!, fields);
  }
  return structs;
}

export type Reader = (repo: Repo, path: string) => string;

/** Reads files from the two repositories at REF. */
export function gitReader(dirs: Record<Repo, string>): Reader {
  return (repo, path) => execFileSync('git', ['-C', dirs[repo], 'show', `${REF}:${path}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

type Json = Record<string, any>;

export function generate(read: Reader): Json {
  const root = new protobuf.Root();
  for (const p of PACKAGES) {
    // keepCase: the names as Kubernetes wrote them (FieldsV1's Raw stays Raw).
    const parsed = protobuf.parse(read(p.repo, `${p.dir}/generated.proto`), root, { keepCase: true });
    if (parsed.package !== p.pkg) throw new Error(`${p.dir}/generated.proto is package ${parsed.package}, not ${p.pkg}`);
  }
  root.resolveAll();

  // Every message reachable from the roots and the envelope.
  const reached = new Map<string, protobuf.Type>();
  const queue = [ENVELOPE, ...ROOT_MESSAGES];
  while (queue.length) {
    const name = queue.shift()!;
    if (reached.has(name)) continue;
    const type = root.lookupType(name);
    reached.set(name, type);
    if (SPECIAL_MESSAGES.includes(name)) continue;
    for (const field of type.fieldsArray) {
      if (field.resolvedType instanceof protobuf.Type) queue.push(field.resolvedType.fullName.slice(1));
      else if (field.resolvedType) throw new Error(`${name}.${field.name}: enums are not expected in Kubernetes' messages`);
    }
  }

  const goTypes = new Map<string, Map<string, Map<number, GoField>>>();
  for (const p of PACKAGES) {
    const structs = new Map<string, Map<number, GoField>>();
    for (const file of p.go) for (const [k, v] of goStructs(read(p.repo, `${p.dir}/${file}`))) structs.set(k, v);
    goTypes.set(p.pkg, structs);
  }

  const out: Json = {};
  for (const name of [...reached.keys()].sort()) {
    const type = reached.get(name)!;
    const pkg = name.slice(0, name.lastIndexOf('.'));
    const described = !SPECIAL_MESSAGES.includes(name) && !ENVELOPE_MESSAGES.includes(name);
    const go = described ? goTypes.get(pkg)?.get(type.name) : undefined;
    if (described && !go) throw new Error(`${name}: no Go struct ${type.name} in ${pkg}`);
    const fields: Json = {};
    for (const field of type.fieldsArray) {
      if (field instanceof protobuf.MapField && field.keyType !== 'string') throw new Error(`${name}.${field.name}: a map whose keys are not strings has no JSON object form`);
      const json: Json = field instanceof protobuf.MapField ? { keyType: field.keyType, type: field.type, id: field.id } : { ...(field.repeated ? { rule: 'repeated' } : {}), type: field.type, id: field.id };
      if (go) {
        const g = go.get(field.id);
        if (!g) throw new Error(`${name}.${field.name} (${field.id}): no Go field`);
        json.options = { '(go.json)': g.json, ...(g.pointer ? { '(go.pointer)': true } : {}) };
      }
      fields[field.name] = json;
    }
    // Nested the way protobufjs nests packages: k8s → io → api → ...
    let ns = out;
    for (const part of pkg.split('.')) ns = ((ns.nested ??= {})[part] ??= {});
    (ns.nested ??= {})[type.name] = { fields };
  }
  return out;
}

export function render(descriptor: Json): string {
  const source = `Kubernetes protobuf messages (Apache License 2.0, The Kubernetes Authors) from k8s.io/api and k8s.io/apimachinery ${REF} generated.proto, with JSON names from their Go types; written by tools/protobuf-descriptor.ts`;
  return JSON.stringify({ 'x-source': source, ...descriptor }, null, 1) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { api: { type: 'string' }, apimachinery: { type: 'string' } } });
  if (!values.api || !values.apimachinery) {
    console.error('usage: npm run generate:protobuf -- --api <dir> --apimachinery <dir>\n'
      + `  clones (or mirrors) of https://github.com/kubernetes/api and https://github.com/kubernetes/apimachinery with the tag ${REF}`);
    process.exit(2);
  }
  const text = render(generate(gitReader({ api: values.api, apimachinery: values.apimachinery })));
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, text);
  let messages = 0;
  JSON.stringify(JSON.parse(text), (key, value) => { if (value && typeof value === 'object' && 'fields' in value) messages++; return value; });
  console.log(`wrote ${OUTPUT.slice(ROOT.length)}: ${messages} messages, ${text.length} bytes`);
}
