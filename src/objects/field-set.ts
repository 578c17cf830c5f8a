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
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  /** Adds every member of other to this set (in place). */
  addAll(other: FieldSet): void {
    if (other.member) this.member = true;
    for (const [pe, c] of other.children) this.child(pe).addAll(c);
  }

  difference(other: FieldSet | undefined): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other?.member;
    for (const [pe, c] of this.children) {
      const d = c.difference(other?.children.get(pe));
      if (!d.isEmpty()) out.children.set(pe, d);
    }
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
    const keys = [...this.children.keys()].filter((k) => !this.children.get(k)!.isEmpty()).sort(comparePathElements);
    if (this.member && keys.length) out['.'] = {};
    for (const k of keys) out[k] = this.children.get(k)!.toJSON();
    return out;
  }

  /** Reads FieldsV1; an empty object is a leaf member. Throws on anything else. */
  static fromJSON(json: unknown, top = true): FieldSet {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('fieldsV1 must be an object');
    const out = new FieldSet();
    const entries = Object.entries(json as Record<string, unknown>);
    if (!top && entries.length === 0) out.member = true;
    for (const [k, v] of entries) {
      if (k === '.') { out.member = true; continue; }
      if (!/^[fkvi]:/.test(k)) throw new Error(`unknown path element ${JSON.stringify(k)} in fieldsV1`);
      out.children.set(k, FieldSet.fromJSON(v, false));
    }
    return out;
  }
}

/** Fields before keys before values before indexes, each in text order: a stable FieldsV1. */
function comparePathElements(a: string, b: string): number {
  const rank = (s: string) => 'fkvi'.indexOf(s[0]);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
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
