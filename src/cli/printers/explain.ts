// `kcs explain` as kubectl explain prints it (its plaintext template over
// OpenAPI v3): the kind, the field a path leads to, its description, and
// its fields with their types, or the whole tree with --recursive.
// Pure functions of one group-version's OpenAPI v3 document.

export type Schema = { [key: string]: any };

export class ExplainError extends Error {
  override name = 'ExplainError';
}

export interface OpenApiV3Document { components?: { schemas?: Record<string, Schema> } }

export interface Gvk { group: string; version: string; kind: string }

interface Resolved {
  /** What the path leads to, references followed and lists and maps looked through: where its fields are. */
  schema: Schema;
  /** The schema as the parent declares it (its description, its type as written). */
  declared: Schema;
  /** The last field name of the path, if any. */
  field?: string;
}

const REF_PREFIX = '#/components/schemas/';

/** The schema a reference (or a single-reference allOf, as Kubernetes wraps described references) points to. */
function follow(doc: OpenApiV3Document, schema: Schema): Schema {
  let s = schema;
  for (let hops = 0; hops < 32; hops++) {
    const ref = s.$ref ?? (Array.isArray(s.allOf) && s.allOf.length === 1 && !s.properties ? s.allOf[0].$ref : undefined);
    if (typeof ref !== 'string') return s;
    const target = doc.components?.schemas?.[ref.slice(REF_PREFIX.length)];
    if (!target) throw new ExplainError(`the schema refers to ${ref}, which the document does not define`);
    s = target;
  }
  return s;
}

/** The definition of a kind, found as kubectl finds it: by its x-kubernetes-group-version-kind. */
export function kindSchema(doc: OpenApiV3Document, gvk: Gvk): Schema {
  for (const schema of Object.values(doc.components?.schemas ?? {})) {
    const gvks = schema['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
    if (gvks?.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) return schema;
  }
  throw new ExplainError(`couldn't find resource for "${gvk.group ? `${gvk.group}/` : ''}${gvk.version}, Kind=${gvk.kind}"`);
}

/** Follows `spec.containers` down from a kind's schema; a list leads to its items, as in kubectl. */
export function resolveFields(doc: OpenApiV3Document, root: Schema, fields: string[]): Resolved {
  let declared = root;
  let schema = follow(doc, root);
  let field: string | undefined;
  for (const name of fields) {
    const element = heldType(doc, schema);
    const next = element.properties?.[name];
    if (!next) throw new ExplainError(`field "${name}" does not exist`);
    declared = next;
    schema = follow(doc, next);
    field = name;
  }
  return { schema: heldType(doc, schema), declared, field };
}

/** kubectl's type names: string, []Container, map[string]string, ObjectMeta (a reference to a primitive is named by its type). */
export function typeName(doc: OpenApiV3Document, schema: Schema): string {
  if (schema.items) return `[]${typeName(doc, schema.items)}`;
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') return `map[string]${typeName(doc, schema.additionalProperties)}`;
  const ref = schema.$ref ?? (Array.isArray(schema.allOf) && schema.allOf.length === 1 ? schema.allOf[0].$ref : undefined);
  if (typeof ref === 'string') {
    const target = follow(doc, schema);
    if (target.type && target.type !== 'object') return typeName(doc, target);
    return ref.split('.').pop() ?? 'Object';
  }
  if (schema.type === 'object') return 'Object';
  return schema.type ?? 'Object';
}

/** The type a field holds once lists and maps are looked through: where its type's description and fields are. */
function heldType(doc: OpenApiV3Document, schema: Schema): Schema {
  let s = follow(doc, schema);
  for (let hops = 0; hops < 32; hops++) {
    if (s.type === 'array' && s.items) s = follow(doc, s.items);
    else if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') s = follow(doc, s.additionalProperties);
    else break;
  }
  return s;
}

/** kubectl lists at most four values of an enum beside a field. */
function enumLine(values: unknown[]): string {
  const shown = values.slice(0, 4).map(enumValue).join(', ');
  return values.length > 4 ? `${shown}, ....` : shown;
}

/** An empty value is shown quoted, so that it can be seen. */
function enumValue(value: unknown): string {
  return value === '' ? '""' : String(value);
}

/**
 * Words wrapped to `width` columns under an indent, as kubectl wraps them:
 * paragraphs kept, a paragraph's leading whitespace kept (enum lists), blank
 * lines indented too.
 */
export function wrap(text: string, indent: number, width = 80): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (!paragraph.trim()) { out.push(pad); continue; }
    let line = /^\s*/.exec(paragraph)![0];
    let empty = true;
    for (const word of paragraph.trimStart().split(' ')) {
      if (!empty && pad.length + line.length + 1 + word.length > width) { out.push((pad + line).trimEnd()); line = word; }
      else { line = empty ? line + word : `${line} ${word}`; empty = false; }
    }
    out.push((pad + line).trimEnd());
  }
  return out;
}

function fieldLines(doc: OpenApiV3Document, schema: Schema, recursive: boolean, depth: number, seen: Set<Schema>): string[] {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const out: string[] = [];
  const indent = 2 + depth * 2;
  for (const name of Object.keys(props).sort()) {
    const prop = props[name]!;
    out.push(`${' '.repeat(indent)}${name}\t<${typeName(doc, prop)}>${required.has(name) ? ' -required-' : ''}`);
    const enumValues = (prop.enum ?? follow(doc, prop).enum) as unknown[] | undefined;
    if (enumValues?.length) out.push(`${' '.repeat(indent)}enum: ${enumLine(enumValues)}`);
    if (recursive) {
      const inner = heldType(doc, prop);
      // A type that contains itself is listed once on each branch.
      if (inner.properties && !seen.has(inner)) out.push(...fieldLines(doc, inner, true, depth + 1, new Set([...seen, inner])));
      continue;
    }
    const description = prop.description ?? follow(doc, prop).description;
    if (description) out.push(...wrap(description, indent + 2));
    out.push('');
  }
  return out;
}

/** The text kubectl explain prints for a kind (and a field path in it), line for line as its plaintext template lays it out. */
export function explain(doc: OpenApiV3Document, gvk: Gvk, fields: string[], recursive = false): string {
  const root = kindSchema(doc, gvk);
  const { schema: type, declared, field } = resolveFields(doc, root, fields);
  const lines: string[] = [];
  if (gvk.group) lines.push(`GROUP:      ${gvk.group}`);
  lines.push(`KIND:       ${gvk.kind}`, `VERSION:    ${gvk.version}`, '');
  if (field !== undefined) {
    lines.push(`FIELD: ${field} <${typeName(doc, declared)}>`);
    const enumValues = (declared.enum ?? type.enum) as unknown[] | undefined;
    lines.push(...(enumValues?.length ? ['ENUM:', ...enumValues.map((v) => `    ${enumValue(v)}`)] : ['']), '');
  }
  // A field's own description, then that of the type it holds, as kubectl shows both.
  const descriptions = [...new Set([declared.description, field !== undefined ? type.description : undefined].filter((d): d is string => !!d))];
  lines.push('DESCRIPTION:', ...(descriptions.length ? descriptions.flatMap((d) => wrap(d, 4)) : ['    <empty>']), '    ');
  if (type.properties && Object.keys(type.properties).length) lines.push('FIELDS:', ...fieldLines(doc, type, recursive, 0, new Set([type])));
  return lines.join('\n') + '\n';
}
