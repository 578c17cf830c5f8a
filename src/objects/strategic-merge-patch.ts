// Strategic merge patch (application/strategic-merge-patch+json), with
// Kubernetes' semantics: objects merge key by key and `null` deletes; a list
// whose field declares `patchStrategy: merge` merges by its merge key
// (containers by name, ports by containerPort, conditions by type...) or, for
// scalars, as a set; any other list is replaced. The directives:
//   $patch: replace | delete        in an object: replace it, or empty it
//   {$patch: delete, <key>: v}      in a list: remove the item with that key
//   {$patch: replace}               in a list: the list is the patch's items
//   $retainKeys: [..]               keep only these keys of the object
//   $deleteFromPrimitiveList/<f>    remove these values from scalar list f
//   $setElementOrder/<f>            the order of list f's items after the merge
// The patch is applied to `original` in place (the caller's private copy).
import { childType, UNTYPED, type FieldType, type ListType } from './field-schema.ts';

/** A patch Kubernetes refuses: 400 for a malformed patch, 422 for one it cannot apply. */
export class PatchError extends Error {
  override name = 'PatchError';
  readonly code: 400 | 422;
  constructor(message: string, code: 400 | 422 = 400) {
    super(message);
    this.code = code;
  }
}

type Obj = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Applies a strategic merge patch (an object) to an object of the given type. */
export function applyStrategicMergePatch(original: Obj, patch: Obj, type: FieldType): Obj {
  return mergeObject(original, patch, type);
}

function mergeObject(original: Obj | undefined, patch: Obj, type: FieldType): Obj {
  if (DIRECTIVE in patch) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return removeDirectives(patch) as Obj;
    }
    if (directive === 'delete') return {};
    throw new PatchError(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const out = original ?? {};
  applyRetainKeys(out, patch);
  applyElementOrders(out, patch, type);
  for (const [rawKey, patchValue] of Object.entries(patch)) {
    let key = rawKey;
    let deleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = directiveField(rawKey, DELETE_FROM_PRIMITIVE_LIST, 'invalid patch format of primitive list');
      deleteList = true;
    }
    if (patchValue === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (current === undefined || kindOf(current) !== kindOf(patchValue)) {
      if (!deleteList) setOrDrop(out, key, discardNulls(patchValue));
      continue;
    }
    const fieldType = childType(type, key);
    if (isObject(current)) {
      const strategies = fieldType.kind === 'list' ? fieldType.patchStrategies : [];
      out[key] = strategies.includes('replace') ? removeDirectives(patchValue) : mergeObject(current, patchValue as Obj, fieldType);
    } else if (Array.isArray(current)) {
      out[key] = mergeListField(current, patchValue as unknown[], fieldType, deleteList);
    } else {
      setOrDrop(out, key, patchValue);
    }
  }
  return out;
}

function mergeListField(current: unknown[], patch: unknown[], type: FieldType, deleteList: boolean): unknown[] {
  const list = type.kind === 'list' ? type : undefined;
  if (deleteList || list?.patchStrategies.includes('merge')) return mergeList(current, patch, list, deleteList);
  return removeDirectives(patch) as unknown[];
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function setOrDrop(out: Obj, key: string, value: unknown): void {
  const [v, keep] = directivesRemoved(value);
  if (keep) out[key] = v;
  else delete out[key];
}

function directiveField(key: string, prefix: string, malformed: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new PatchError(malformed);
  return key.slice(slash + 1);
}

function applyRetainKeys(original: Obj, patch: Obj): void {
  if (!(RETAIN_KEYS in patch)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw new PatchError('invalid patch format of retainKeys');
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw new PatchError('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<field>`: merge that list now and put its items in the stated order. */
function applyElementOrders(original: Obj, patch: Obj, type: FieldType): void {
  for (const [rawKey, order] of Object.entries(patch)) {
    if (!rawKey.startsWith(SET_ELEMENT_ORDER)) continue;
    delete patch[rawKey];
    const key = directiveField(rawKey, SET_ELEMENT_ORDER, 'invalid patch format of setElementOrder list');
    if (!Array.isArray(order)) throw new PatchError('invalid patch format of setElementOrder list');
    const fieldType = childType(type, key);
    const list = fieldType.kind === 'list' ? fieldType : undefined;
    const mergeKey = list?.mergeKey;
    const current = original[key];
    const patchList = patch[key];
    if (current !== undefined && !Array.isArray(current)) throw new PatchError(`invalid value for ${key}: expected a list`);
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList)) throw new PatchError(`invalid value for ${key}: expected a list`);
    if (Array.isArray(patchList)) checkOrderAgainstPatch(patchList, order, mergeKey);
    let merged: unknown[];
    if (Array.isArray(current) && Array.isArray(patchList)) merged = mergeListField(current, patchList, fieldType, false);
    else if (Array.isArray(patchList)) merged = removeDirectives(patchList) as unknown[];
    else if (Array.isArray(current)) merged = current;
    else continue;
    delete patch[key];
    const inOrder = (item: unknown) => order.some((o) => sameItem(o, item, mergeKey));
    original[key] = interleave(sortBy(merged.filter(inOrder), order, mergeKey), sortBy(merged.filter((i) => !inOrder(i)), Array.isArray(current) ? current : [], mergeKey), Array.isArray(current) ? current : [], mergeKey);
  }
}

/** Every item of the patch list (deletions aside) appears in the order list, in the same relative order. */
function checkOrderAgainstPatch(patchList: unknown[], order: unknown[], mergeKey: string | undefined): void {
  const items = patchList.filter((i) => !(isObject(i) && DIRECTIVE in i));
  let at = 0;
  for (const o of order) if (at < items.length && sameItem(items[at], o, mergeKey)) at++;
  if (at < items.length) {
    throw new PatchError(`The order in patch list:\n${JSON.stringify(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${JSON.stringify(order)}\n`);
  }
}

function sameItem(a: unknown, b: unknown, mergeKey: string | undefined): boolean {
  if (!mergeKey) return a === b;
  return isObject(a) && isObject(b) && a[mergeKey] !== undefined && a[mergeKey] === b[mergeKey];
}

function indexIn(list: unknown[], item: unknown, mergeKey: string | undefined): number {
  return list.findIndex((x) => sameItem(x, item, mergeKey));
}

function sortBy(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const ranked = items.map((item, i) => ({ item, i, at: indexIn(order, item, mergeKey) }));
  ranked.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
  return ranked.map((r) => r.item);
}

/**
 * The patch's items in their order, with the items only the server had put
 * back where they stood relative to them in the server's list.
 */
function interleave(patchItems: unknown[], serverOnly: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (j >= patchItems.length) { out.push(serverOnly[i++]); continue; }
    if (i >= serverOnly.length) { out.push(patchItems[j++]); continue; }
    const li = indexIn(serverOrder, serverOnly[i], mergeKey);
    const ri = indexIn(serverOrder, patchItems[j], mergeKey);
    if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
    else out.push(patchItems[j++]);
  }
  return out;
}

function elementKind(lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const k = kindOf(item);
      if (k === 'array') throw new PatchError('lists of lists are not supported', 422);
      if (kind === undefined) kind = k;
      else if (kind !== k) throw new PatchError(`list element types are not identical: ${JSON.stringify(lists)}`);
    }
  }
  return kind;
}

function mergeList(current: unknown[], patch: unknown[], type: ListType | undefined, deleteList: boolean): unknown[] {
  if (current.length === 0 && patch.length === 0) return current;
  const kind = elementKind([current, patch]);
  if (kind !== 'object') {
    if (deleteList) return current.filter((v) => !patch.includes(v));
    const merged = [...new Set([...current, ...patch])];
    return interleave(sortBy(merged.filter((v) => patch.includes(v)), patch, undefined), merged.filter((v) => !patch.includes(v)), current, undefined);
  }
  const mergeKey = type?.mergeKey;
  if (!mergeKey) throw new PatchError(`cannot merge lists without merge key for ${type ? 'list' : 'an untyped list'}`);
  const elemType = type?.elem ?? UNTYPED;
  let out = current;
  const items: Obj[] = [];
  let replace = false;
  for (const raw of patch as Obj[]) {
    if (!(DIRECTIVE in raw)) { items.push(raw); continue; }
    const directive = raw[DIRECTIVE];
    if (directive === 'delete') {
      if (!(mergeKey in raw)) throw new PatchError(`map: ${JSON.stringify(raw)} does not contain declared merge key: ${mergeKey}`);
      out = out.filter((o) => !(isObject(o) && o[mergeKey] === raw[mergeKey]));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new PatchError('merging lists cannot yet be specified in the patch');
    } else {
      throw new PatchError(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(raw)}`);
    }
  }
  if (replace) return items.map((i) => removeDirectives(i));
  out = [...out];
  for (const item of items) {
    if (!(mergeKey in item)) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const at = out.findIndex((o) => isObject(o) && o[mergeKey] === item[mergeKey]);
    if (at >= 0) out[at] = mergeObject(out[at] as Obj, item, elemType);
    else out.push(removeDirectives(discardNulls(item)));
  }
  const inPatch = (o: unknown) => items.some((i) => sameItem(i, o, mergeKey));
  return interleave(sortBy(out.filter(inPatch), items, mergeKey), out.filter((o) => !inPatch(o)), current, mergeKey);
}

/** Values new to the object: a `null` inside them means nothing to delete, so it is dropped. */
function discardNulls(value: unknown): unknown {
  if (Array.isArray(value)) value.forEach(discardNulls);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete value[k];
      else discardNulls(v);
    }
  }
  return value;
}

function directivesRemoved(value: unknown): [unknown, boolean] {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const [item, keep] = directivesRemoved(v);
      if (keep) out.push(item);
    }
    return [out, true];
  }
  if (isObject(value)) {
    if (DIRECTIVE in value) return [undefined, false];
    for (const [k, v] of Object.entries(value)) {
      // Directives of a value new to the object have nothing to act on.
      if (k === RETAIN_KEYS || k.startsWith(SET_ELEMENT_ORDER) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        delete value[k];
        continue;
      }
      const [item, keep] = directivesRemoved(v);
      if (keep) value[k] = item;
      else delete value[k];
    }
  }
  return [value, true];
}

function removeDirectives(value: unknown): unknown {
  return directivesRemoved(value)[0];
}
