// How each field of a served kind merges, read from schemas/kubernetes-fields.json
// (generated from the Kubernetes Go API types by tools/field-meta.ts):
// for strategic merge patch, a list's patch strategy and merge key; for
// server-side apply, whether a list is atomic, a set or a map keyed by some of
// its items' fields, and whether a struct or map is atomic.
//
// Fields the table does not know (kcs's own: a Node's spec.capacity, its
// status.pods, status.allocated; and every field of the kcs.io kinds) are
// "untyped", as structured-merge-diff's deduced type treats them: an object
// merges key by key, a list is replaced whole, anything else is a value.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KindInfo } from './kinds.ts';

type TypeRef =
  | 'scalar' | 'untyped'
  | { struct: string }
  | { list: TypeRef; listType?: string; keys?: string[]; patchStrategy?: string; mergeKey?: string }
  | { map: TypeRef; atomic?: boolean };

interface StructDef { fields: Record<string, { type: TypeRef; default?: unknown }>; atomic?: boolean }
interface Table { roots: Record<string, string>; types: Record<string, StructDef> }

export type FieldType = ScalarType | UntypedType | StructType | ListType | MapType;
export interface ScalarType { kind: 'scalar' }
export interface UntypedType { kind: 'untyped' }
export interface StructType {
  kind: 'struct';
  name: string;
  /** A struct replaced whole by apply (`+structType=atomic`). */
  atomic: boolean;
  field(name: string): FieldType | undefined;
}
export interface ListType {
  kind: 'list';
  elem: FieldType;
  /** Server-side apply: how items are told apart (x-kubernetes-list-type, else from the patch strategy). */
  listType: 'atomic' | 'set' | 'map';
  /** The map keys of a `map` list, with the defaults of those a client may omit. */
  keys: string[];
  keyDefaults: Record<string, unknown>;
  /** Strategic merge patch: `merge`, `retainKeys`, `replace` (x-kubernetes-patch-strategy). */
  patchStrategies: string[];
  mergeKey?: string;
}
export interface MapType { kind: 'map'; elem: FieldType; atomic: boolean }

export const SCALAR: ScalarType = { kind: 'scalar' };
export const UNTYPED: UntypedType = { kind: 'untyped' };

const TABLE_FILE = fileURLToPath(new URL('../../schemas/kubernetes-fields.json', import.meta.url));
let table: Table | undefined;
const resolved = new Map<string, StructType>();

function loadTable(): Table {
  return (table ??= JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as Table);
}

function structType(name: string): StructType {
  let t = resolved.get(name);
  if (t) return t;
  const def = loadTable().types[name];
  if (!def) throw new Error(`no merge metadata for ${name}`);
  const fields = new Map<string, FieldType>();
  t = {
    kind: 'struct', name, atomic: def.atomic === true,
    field(field) {
      let f = fields.get(field);
      if (f === undefined && def.fields[field]) fields.set(field, (f = typeOf(def.fields[field].type)));
      return f;
    },
  };
  resolved.set(name, t);
  return t;
}

function typeOf(ref: TypeRef): FieldType {
  if (ref === 'scalar') return SCALAR;
  if (ref === 'untyped') return UNTYPED;
  if ('struct' in ref) return structType(ref.struct);
  if ('map' in ref) return { kind: 'map', elem: typeOf(ref.map), atomic: ref.atomic === true };
  const strategies = ref.patchStrategy ? ref.patchStrategy.split(',') : [];
  let listType: ListType['listType'] = 'atomic';
  let keys: string[] = [];
  if (ref.listType === 'set' || ref.listType === 'map') {
    listType = ref.listType;
    keys = ref.keys ?? [];
  } else if (ref.listType === undefined && strategies.includes('merge')) {
    // As the OpenAPI-to-schema conversion reads a list without a list type.
    listType = ref.mergeKey ? 'map' : 'set';
    keys = ref.mergeKey ? [ref.mergeKey] : [];
  }
  const keyDefaults: Record<string, unknown> = {};
  if (typeof ref.list === 'object' && 'struct' in ref.list) {
    const def = loadTable().types[ref.list.struct];
    for (const k of keys) if (def?.fields[k]?.default !== undefined) keyDefaults[k] = def.fields[k].default;
  }
  return { kind: 'list', elem: typeOf(ref.list), listType, keys, keyDefaults, patchStrategies: strategies, mergeKey: ref.mergeKey };
}

/**
 * The schema of a kind's objects, or undefined for kinds Kubernetes has no
 * built-in type for (kcs.io kinds are custom resources to a Kubernetes client).
 */
export function schemaOf(kind: Pick<KindInfo, 'apiVersion' | 'kind'>): StructType | undefined {
  const root = loadTable().roots[`${kind.apiVersion}/${kind.kind}`];
  return root ? structType(root) : undefined;
}

/** The type of a struct's field or a map's/list's element; untyped where the table says nothing. */
export function childType(parent: FieldType, key: string): FieldType {
  if (parent.kind === 'struct') return parent.field(key) ?? UNTYPED;
  if (parent.kind === 'map') return parent.elem;
  return UNTYPED;
}
