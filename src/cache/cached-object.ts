// One object as the cache holds it: the stored JSON text (shared with the
// store, never copied), its revision, and the parsed object, made once on
// first use, frozen, and shared by every in-process reader from then on.
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';

export class CachedObject {
  readonly key: string;
  readonly kind: KindInfo;
  readonly namespace: string | undefined;
  readonly name: string;
  /** The object's resourceVersion: the revision of its last write (of its delete, for a deleted one). */
  readonly revision: number;
  /** The stored value: the object's JSON without metadata.resourceVersion. */
  readonly value: string;
  private parsed?: KubeObject;

  constructor(key: string, kind: KindInfo, value: string, revision: number, parsed?: KubeObject) {
    this.key = key;
    this.kind = kind;
    this.value = value;
    this.revision = revision;
    this.parsed = parsed;
    // Keys are /registry/{plural}/{name} or /registry/{plural}/{namespace}/{name}.
    const rest = key.slice(kind.plural.length + 11);
    const slash = kind.namespaced ? rest.indexOf('/') : -1;
    this.namespace = slash >= 0 ? rest.slice(0, slash) : undefined;
    this.name = slash >= 0 ? rest.slice(slash + 1) : rest;
  }

  /**
   * The object, with its resourceVersion. Frozen: it is shared by every
   * in-process reader (the watchers of an event, lists, informers), so one
   * that changes it in place fails loudly instead of changing it for all.
   */
  object(): KubeObject {
    if (!this.parsed) {
      const obj = JSON.parse(this.value) as KubeObject;
      obj.metadata.resourceVersion = String(this.revision);
      shareFieldSets(obj);
      this.parsed = deepFreeze(obj);
    }
    return this.parsed;
  }

  /**
   * Drops the parsed form of a version that is no longer current: the
   * window of recent events keeps old versions, and their text is all it
   * needs (a watch that resumes through them parses again). Readers that
   * were handed the object keep it.
   */
  forget(): void {
    this.parsed = undefined;
  }

  /** The same object at another revision (a deleted object, at the revision of its delete). */
  at(revision: number): CachedObject {
    const parsed = this.parsed && Object.freeze({ ...this.parsed, metadata: Object.freeze({ ...this.parsed.metadata, resourceVersion: String(revision) }) });
    return new CachedObject(this.key, this.kind, this.value, revision, parsed);
  }

  /**
   * The object as JSON with its resourceVersion, spliced into the stored text
   * where the registry's encoding leaves room for it (metadata right after
   * apiVersion and kind), so serving it costs no parse and no stringify.
   */
  json(): string {
    const head = headOf(this.kind);
    if (this.value.startsWith(head)) {
      const rv = `"resourceVersion":"${this.revision}"`;
      const rest = this.value.slice(head.length);
      return head + (rest.startsWith('}') ? rv : rv + ',') + rest;
    }
    // Written in another field order (by an older kcs): the slow way.
    return JSON.stringify(this.object());
  }
}

// ---- field sets shared between objects ---------------------------------------

/** At most this many distinct field sets are kept for sharing; past it the table starts again. */
const MAX_SHARED_FIELD_SETS = 4096;
const sharedFieldSets = new Map<string, unknown>();

/**
 * Objects made from one template have identical field sets in their
 * managedFields (who owns which fields); only the entries' times differ.
 * Parsed, a pod's field set is some thirty small objects, so at 150,000
 * pods one frozen copy shared by all saves over 100 MiB. Safe because
 * parsed objects are frozen: no reader can change one for the others.
 */
function shareFieldSets(obj: KubeObject): void {
  const entries = obj.metadata.managedFields;
  if (!Array.isArray(entries)) return;
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object' || entry.fieldsV1 === undefined) continue;
    const text = JSON.stringify(entry.fieldsV1);
    let shared = sharedFieldSets.get(text);
    if (shared === undefined) {
      if (sharedFieldSets.size >= MAX_SHARED_FIELD_SETS) sharedFieldSets.clear();
      sharedFieldSets.set(text, (shared = deepFreeze(entry.fieldsV1)));
    }
    entry.fieldsV1 = shared as typeof entry.fieldsV1;
  }
}

const heads = new Map<KindInfo, string>();

/** How every stored object of kind starts: apiVersion, kind, then metadata. */
function headOf(kind: KindInfo): string {
  let head = heads.get(kind);
  if (head === undefined) heads.set(kind, (head = `{"apiVersion":${JSON.stringify(kind.apiVersion)},"kind":${JSON.stringify(kind.kind)},"metadata":{`));
  return head;
}

/**
 * The stored form of an object: apiVersion, kind and metadata first (so
 * json() can splice the resourceVersion in), and no resourceVersion, which
 * is the store's revision of the write, not part of the value.
 */
export function encodeObject(obj: KubeObject): string {
  const { apiVersion, kind, metadata: { resourceVersion: _rv, ...metadata }, ...rest } = obj;
  return JSON.stringify({ apiVersion, kind, metadata, ...rest });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
