// Sets of field paths, as server-side apply records who owns what: a tree
// whose edges are path elements in Kubernetes' FieldsV1 spelling
//   f:<name>               a field of an object
//   k:{"name":"app"}       the item of a list-map with these key values
//   v:"value"              the item of a set
//   i:<n>                  a list item by position (lists whose items have no key)
// and whose nodes are members of the set (`.` in FieldsV1) or not. The JSON
// of a set is exactly a managedFields entry's fieldsV1.

export class FieldSet {
  /** This node's path itself is in the set (FieldsV1's `"."`). */
  member = false;
  /** Never holds an empty node: every operation below drops the children it empties. */
  readonly children = new Map<string, FieldSet>();

  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (!c) this.children.set(pe, (c = new FieldSet()));
    return c;
  }

  insert(path: readonly string[]): void {
    let node: FieldSet = this;
    for (const pe of path) node = node.child(pe);
    node.member = true;
  }

  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const pe of path) node = node?.children.get(pe);
    return node?.member === true;
  }

  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  /** Adds every member of other to this set (in place). */
  addAll(other: FieldSet): this {
    if (other.member) this.member = true;
    for (const [pe, c] of other.children) this.child(pe).addAll(c);
    return this;
  }

  /** Takes every member of other out of this set (in place); true if anything went. */
  subtract(other: FieldSet): boolean {
    let changed = false;
    if (other.member && this.member) {
      this.member = false;
      changed = true;
    }
    for (const [pe, oc] of other.children) {
      const c = this.children.get(pe);
      if (!c) continue;
      if (c.subtract(oc)) changed = true;
      if (c.isEmpty()) this.children.delete(pe);
    }
    return changed;
  }

  difference(other: FieldSet | undefined): FieldSet {
    const out = this.copy();
    if (other) out.subtract(other);
    return out;
  }

  intersection(other: FieldSet | undefined): FieldSet {
    const out = new FieldSet();
    if (!other) return out;
    out.member = this.member && other.member;
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (!o) continue;
      const d = c.intersection(o);
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [pe, c] of this.children) out.children.set(pe, c.copy());
    return out;
  }

  /** Every member's path, parents before children. */
  *paths(prefix: string[] = []): Generator<string[]> {
    if (this.member) yield prefix;
    for (const pe of [...this.children.keys()].sort(comparePathElements)) yield* this.children.get(pe)!.paths([...prefix, pe]);
  }

  /** FieldsV1: `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}}`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size) out['.'] = {};
    const keys = this.children.size > 1 ? [...this.children.keys()].sort(comparePathElements) : this.children.keys();
    for (const k of keys) out[k] = this.children.get(k)!.toJSON();
    return out;
  }

  /** Reads FieldsV1; an empty object is a leaf member. Throws on anything else. */
  static fromJSON(json: unknown, top = true): FieldSet {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('fieldsV1 must be an object');
    const out = new FieldSet();
    let any = false;
    for (const k in json as Record<string, unknown>) {
      any = true;
      if (k === '.') { out.member = true; continue; }
      const c = k.charCodeAt(0);
      // f: k: v: i:
      if (k.charCodeAt(1) !== 58 || (c !== 102 && c !== 107 && c !== 118 && c !== 105)) throw new Error(`unknown path element ${JSON.stringify(k)} in fieldsV1`);
      const child = FieldSet.fromJSON((json as Record<string, unknown>)[k], false);
      if (!child.isEmpty()) out.children.set(k, child);
    }
    if (!top && !any) out.member = true;
    return out;
  }
}

/** Fields before keys before values before indexes, each in text order: a stable FieldsV1. */
const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };
function comparePathElements(a: string, b: string): number {
  return RANK[a[0]] - RANK[b[0]] || (a < b ? -1 : a > b ? 1 : 0);
}

export const fieldPE = (name: string) => `f:${name}`;

/** A list-map item's key, its fields in name order (as Kubernetes writes them). */
export function keyPE(keys: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k];
  return `k:${JSON.stringify(sorted)}`;
}

export const valuePE = (value: unknown) => `v:${JSON.stringify(value)}`;
export const indexPE = (i: number) => `i:${i}`;

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="app"].image`. */
export function formatPath(path: readonly string[]): string {
  let out = '';
  for (const pe of path) {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f': out += `.${body}`; break;
      case 'k': {
        const keys = JSON.parse(body) as Record<string, unknown>;
        out += `[${Object.entries(keys).map(([k, v]) => `${k}=${printValue(v)}`).join(',')}]`;
        break;
      }
      case 'v': out += `[=${printValue(JSON.parse(body))}]`; break;
      default: out += `[${body}]`;
    }
  }
  return out;
}

function printValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(printValue).join(',')}]`;
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${printValue(x)}`).join('');
  return String(v);
}
