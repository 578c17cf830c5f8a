// The structural operations server-side apply is made of, over plain JSON
// values and the field schema (field-schema.ts), after Kubernetes'
// structured-merge-diff:
//   fieldSetOf   which fields an applied configuration states
//   compare      which fields one version of an object added, changed, removed
//   mergeApplied an applied configuration merged into the live object
//   removeFields fields taken out of an object (what an applier stopped stating)
// Objects merge key by key unless atomic; lists merge by their list type
// (`map` by key fields, `set` by value) or are replaced whole (`atomic`).
import { childType, UNTYPED, type FieldType, type ListType } from './field-schema.ts';
import { fieldPE, FieldSet, indexPE, keyPE, valuePE } from './field-set.ts';
import { PatchError } from './strategic-merge-patch.ts';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

type Shape = { kind: 'leaf' } | { kind: 'object'; struct: boolean; type: FieldType } | { kind: 'list'; type: ListType };
const LEAF: Shape = { kind: 'leaf' };

/** How a value of this type merges; a value of another JSON type than the schema's is a leaf. */
function shapeOf(type: FieldType, sample: unknown): Shape {
  switch (type.kind) {
    case 'struct': return !type.atomic && isObject(sample) ? { kind: 'object', struct: true, type } : LEAF;
    case 'map': return !type.atomic && isObject(sample) ? { kind: 'object', struct: false, type } : LEAF;
    case 'list': return type.listType !== 'atomic' && Array.isArray(sample) ? { kind: 'list', type } : LEAF;
    case 'untyped': return isObject(sample) ? { kind: 'object', struct: false, type: UNTYPED } : LEAF;
    default: return LEAF;
  }
}

/** The path element of a list item: its key fields (defaults filled in), its value for a set. */
function itemPE(list: ListType, item: unknown, index: number, strict: boolean): string {
  if (list.listType === 'set') return valuePE(item);
  const keys: Record<string, unknown> = {};
  for (const k of list.keys) {
    const v = isObject(item) ? item[k] ?? list.keyDefaults[k] : undefined;
    if (v === undefined || (v !== null && typeof v === 'object')) {
      if (strict) throw new PatchError(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`, 422);
      return indexPE(index);
    }
    keys[k] = v;
  }
  return keyPE(keys);
}

function indexItems(list: ListType, items: unknown[] | undefined, strict: boolean): Map<string, unknown> {
  const out = new Map<string, unknown>();
  items?.forEach((item, i) => {
    const pe = itemPE(list, item, i, strict);
    if (strict && out.has(pe)) throw new PatchError(`duplicate entries for key ${pe.slice(2)}`, 422);
    if (!out.has(pe)) out.set(pe, item);
  });
  return out;
}

/** The fields an applied configuration states (its leaves, list items, and empty or unknown-key objects). */
export function fieldSetOf(value: unknown, type: FieldType): FieldSet {
  const set = new FieldSet();
  collect(value, type, set);
  return set;
}

function collect(value: unknown, type: FieldType, node: FieldSet): void {
  const shape = shapeOf(type, value);
  if (shape.kind === 'leaf') {
    node.member = true;
    return;
  }
  if (shape.kind === 'list') {
    for (const [pe, item] of indexItems(shape.type, value as unknown[], true)) {
      const c = node.child(pe);
      collect(item, shape.type.elem, c);
      c.member = true;
    }
    return;
  }
  for (const [k, v] of Object.entries(value as Obj)) {
    const c = node.child(fieldPE(k));
    const declared = shape.struct && shape.type.kind === 'struct' && shape.type.field(k) !== undefined;
    collect(v, childType(shape.type, k), c);
    if (v === null || (isObject(v) && Object.keys(v).length === 0) || !declared) c.member = true;
  }
}

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

/**
 * What changed from `before` to `after`, field by field. Paths in `skip`
 * (at the top: metadata.managedFields) are not compared.
 */
export function compare(before: unknown, after: unknown, type: FieldType, skip?: (path: readonly string[]) => boolean, prefix: readonly string[] = []): Comparison {
  const cmp: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walkCompare(before, after, type, [...prefix], cmp, skip);
  return cmp;
}

function isEmptyValue(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  for (const _ in v as Obj) return false;
  return true;
}

/** `path` is one array, pushed and popped along the walk: a copy per node was most of the cost. */
function walkCompare(l: unknown, r: unknown, type: FieldType, path: string[], cmp: Comparison, skip?: (path: readonly string[]) => boolean): void {
  if (l === undefined && r === undefined) return;
  if (skip?.(path)) return;
  let shape: Shape;
  if (l === undefined) shape = shapeOf(type, r);
  else if (r === undefined) shape = shapeOf(type, l);
  else {
    shape = shapeOf(type, l);
    if (shape.kind !== 'leaf' && shapeOf(type, r).kind !== shape.kind) shape = LEAF;
  }
  if (shape.kind === 'leaf' || ((l === undefined || isEmptyValue(l)) && (r === undefined || isEmptyValue(r)))) {
    if (l === undefined) cmp.added.insert(path);
    else if (r === undefined) cmp.removed.insert(path);
    else if (!jsonEqual(l, r)) cmp.modified.insert(path);
    return;
  }
  const step = (lv: unknown, rv: unknown, t: FieldType, pe: string) => {
    path.push(pe);
    walkCompare(lv, rv, t, path, cmp, skip);
    path.pop();
  };
  if (shape.kind === 'object') {
    const lo = isObject(l) ? l : {};
    const ro = isObject(r) ? r : {};
    for (const k in lo) step(lo[k], ro[k], childType(shape.type, k), fieldPE(k));
    for (const k in ro) if (!(k in lo)) step(undefined, ro[k], childType(shape.type, k), fieldPE(k));
  } else {
    const li = indexItems(shape.type, Array.isArray(l) ? l : undefined, false);
    const ri = indexItems(shape.type, Array.isArray(r) ? r : undefined, false);
    for (const [pe, item] of li) step(item, ri.get(pe), shape.type.elem, pe);
    for (const [pe, item] of ri) if (!li.has(pe)) step(undefined, item, shape.type.elem, pe);
  }
  if (l === undefined) cmp.added.insert(path);
  else if (r === undefined) cmp.removed.insert(path);
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => k in b && jsonEqual((a as Obj)[k], (b as Obj)[k]));
}

/**
 * The applied configuration merged into the live value: what it states
 * wins, objects merge key by key, list-maps and sets item by item (shared
 * items in the configuration's order, the others where they stood).
 */
export function mergeApplied(live: unknown, config: unknown, type: FieldType): unknown {
  if (config === undefined) return live;
  if (live === undefined || live === null) return config === null ? undefined : config;
  const shape = shapeOf(type, config);
  if (shape.kind === 'leaf' || shapeOf(type, live).kind !== shape.kind) return config;
  if (shape.kind === 'object') {
    const out: Obj = { ...(live as Obj) };
    for (const [k, v] of Object.entries(config as Obj)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, childType(shape.type, k));
    }
    return out;
  }
  const lhs = live as unknown[];
  const rhsIndex = indexItems(shape.type, config as unknown[], true);
  const lhsPEs = lhs.map((item, i) => itemPE(shape.type, item, i, false));
  const lhsIndex = new Map<string, unknown>();
  lhsPEs.forEach((pe, i) => { if (!lhsIndex.has(pe)) lhsIndex.set(pe, lhs[i]); });
  const out: unknown[] = [];
  const done = new Set<string>();
  const rhsPEs = [...rhsIndex.keys()];
  let li = 0;
  let ri = 0;
  while (li < lhs.length || ri < rhsPEs.length) {
    if (li < lhs.length) {
      const pe = lhsPEs[li];
      if (!rhsIndex.has(pe)) { out.push(lhs[li++]); continue; }
      if (done.has(pe)) { li++; continue; }
    }
    if (ri < rhsPEs.length) {
      const pe = rhsPEs[ri++];
      out.push(mergeApplied(lhsIndex.get(pe), rhsIndex.get(pe), shape.type.elem));
      done.add(pe);
      continue;
    }
    li++;
  }
  return out;
}

/** The value with the members of `set` taken out (a member's whole subtree goes with it). */
export function removeFields(value: unknown, set: FieldSet, type: FieldType): unknown {
  if (set.children.size === 0) return value;
  const shape = shapeOf(type, value);
  if (shape.kind === 'object') {
    const out: Obj = { ...(value as Obj) };
    for (const [k, v] of Object.entries(out)) {
      const node = set.children.get(fieldPE(k));
      if (!node) continue;
      if (node.member) delete out[k];
      else out[k] = removeFields(v, node, childType(shape.type, k));
    }
    return out;
  }
  if (shape.kind === 'list') {
    const out: unknown[] = [];
    (value as unknown[]).forEach((item, i) => {
      const node = set.children.get(itemPE(shape.type, item, i, false));
      if (!node) out.push(item);
      else if (!node.member) out.push(removeFields(item, node, shape.type.elem));
    });
    return out;
  }
  return value;
}

/** The set with every named field of a struct on its paths made a member (structured-merge-diff's EnsureNamedFieldsAreMembers). */
export function withNamedFieldsAsMembers(set: FieldSet, type: FieldType): FieldSet {
  const out = new FieldSet();
  out.member = set.member;
  for (const [pe, c] of set.children) {
    let ct: FieldType = UNTYPED;
    let named = false;
    if (pe.startsWith('f:')) {
      const name = pe.slice(2);
      if (type.kind === 'struct') {
        named = type.field(name) !== undefined;
        ct = type.field(name) ?? UNTYPED;
      } else ct = childType(type, name);
    } else if (type.kind === 'list') ct = type.elem;
    const n = withNamedFieldsAsMembers(c, ct);
    if (named) n.member = true;
    out.children.set(pe, n);
  }
  return out;
}
