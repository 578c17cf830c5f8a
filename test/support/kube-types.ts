// Whether a response decodes in a typed Kubernetes client: checked with the
// validators the kubernetes-models package generates from Kubernetes' own
// OpenAPI definitions (every required field present, every field of its
// type), and against the definitions kcs publishes at /openapi (no field a
// client has no definition for: kcs's extension fields are published there).
// kcs.io kinds are checked against their JSON Schemas in schemas/.
//
//   const problems = await typeProblems(obj);            // by its apiVersion and kind
//   const problems = await typeProblems(body, 'io.k8s.apimachinery.pkg.version.Info');
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { definitionName, definitions, type Schema } from '../../src/api/openapi-definitions.ts';

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; keyword: string; params: unknown; message?: string }> | null };

const META_KINDS = new Set(['Status', 'APIResourceList', 'APIGroupList', 'APIVersions', 'WatchEvent', 'DeleteOptions']);

/** The definition a returned object claims to be, by its apiVersion and kind. */
export function definitionOf(obj: { apiVersion?: string; kind?: string }): string {
  if (!obj.kind) throw new Error(`no kind: ${JSON.stringify(obj).slice(0, 200)}`);
  if (META_KINDS.has(obj.kind) && (obj.apiVersion === 'v1' || obj.apiVersion === undefined)) return `io.k8s.apimachinery.pkg.apis.meta.v1.${obj.kind}`;
  const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion ?? ''];
  return definitionName(group!, version!, obj.kind);
}

const loaded = new Map<string, Validator>();

async function officialValidator(definition: string): Promise<Validator> {
  let v = loaded.get(definition);
  if (v) return v;
  const file = definition.split('.').map((s) => s[0]!.toUpperCase() + s.slice(1)).join('');
  const pkg = definition.startsWith('io.k8s.apimachinery.') ? '@kubernetes-models/apimachinery' : 'kubernetes-models';
  v = (await import(`${pkg}/_schemas/${file}`)).validate as Validator;
  loaded.set(definition, v);
  return v;
}

let ajv: Ajv | undefined;
const KCS_SCHEMAS: Record<string, string> = { 'io.kcs.v1.SchedulerConfiguration': 'schedulerconfiguration.json', 'io.kcs.v1.NodePool': 'nodepool.json', 'io.kcs.v1.Workflow': 'workflow.json', 'io.kcs.v1.Commit': 'commit.json' };

function kcsValidator(definition: string): Validator {
  let v = loaded.get(definition);
  if (v) return v;
  const itemDefinition = definition.endsWith('List') ? definition.slice(0, -'List'.length) : definition;
  const file = KCS_SCHEMAS[itemDefinition];
  if (!file) throw new Error(`no schema for ${definition}`);
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: false });
    // The names and quantities these formats check are admission's business; here only the shape counts.
    for (const f of ['dns1123-label', 'dns1123-subdomain', 'qualified-name', 'label-value', 'quantity']) ajv.addFormat(f, true);
    // The shared definitions, and job.json, whose Job spec a Workflow's jobs hold.
    for (const shared of ['meta.json', 'job.json']) ajv.addSchema(JSON.parse(readFileSync(new URL(`../../schemas/${shared}`, import.meta.url), 'utf8')));
  }
  if (!ajv.getSchema(file)) ajv.addSchema(JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')));
  v = (itemDefinition === definition
    ? ajv.getSchema(file)
    // A list of a kcs.io kind: its items as the kind, its metadata as Kubernetes' ListMeta.
    : ajv.compile({
      type: 'object', required: ['apiVersion', 'kind', 'metadata', 'items'],
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' }, remainingItemCount: { type: 'integer' } } }, items: { type: 'array', items: { $ref: file } } },
    })) as Validator;
  loaded.set(definition, v);
  return v;
}

/** Fields of `value` that the published definition does not describe, as JSON paths. */
export function unpublishedFields(value: unknown, definition: string): string[] {
  const defs = definitions();
  const out: string[] = [];
  const resolve = (schema: Schema): Schema => {
    let s = schema;
    while (typeof s.$ref === 'string') s = defs[s.$ref.slice('#/definitions/'.length)]!;
    return s;
  };
  const walk = (v: unknown, schema: Schema, path: string): void => {
    const s = resolve(schema);
    if (Array.isArray(v)) {
      if (s.items) v.forEach((item, i) => walk(item, s.items as Schema, `${path}[${i}]`));
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const props = s.properties as Record<string, Schema> | undefined;
    for (const [key, child] of Object.entries(v)) {
      const p = props?.[key];
      if (p) walk(child, p, path ? `${path}.${key}` : key);
      else if (typeof s.additionalProperties === 'object') walk(child, s.additionalProperties as Schema, `${path}.${key}`);
      else if (props && s.additionalProperties !== true) out.push(path ? `${path}.${key}` : key);
    }
  };
  walk(value, { $ref: `#/definitions/${definition}` }, '');
  return out;
}

/**
 * What a typed client would trip on in `value` as `definition` (by default,
 * the one its apiVersion and kind name): validator errors, then fields not
 * published. Empty when it decodes.
 */
export async function typeProblems(value: unknown, definition = definitionOf(value as { apiVersion?: string; kind?: string })): Promise<string[]> {
  const validate = definition.startsWith('io.kcs.') ? kcsValidator(definition) : await officialValidator(definition);
  const problems: string[] = [];
  if (!validate(value)) {
    for (const e of validate.errors ?? []) problems.push(`${definition}${e.instancePath}: ${e.keyword} ${JSON.stringify(e.params)}`);
  }
  if (definitions()[definition]) for (const f of unpublishedFields(value, definition)) problems.push(`${definition}: ${f}: not in the published definition`);
  return problems;
}
