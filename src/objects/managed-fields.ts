// metadata.managedFields, kept as Kubernetes keeps them: one entry per field
// manager and operation (Apply, or Update for every other write), with the
// API version, the subresource, the time of its last change, and the fields
// it owns (FieldsV1).
//
// - An update takes the fields it changed, added or removed away from every
//   other manager, and gives the ones it changed or added to its own.
// - An apply merges the configuration into the object; the applier owns
//   exactly the fields it stated; a field it applied before and no longer
//   states is removed unless another manager owns it; a field another manager
//   owns that the apply would change is a conflict (409), unless forced, which
//   takes the field over.
// - An object with no managedFields that is updated stays untracked; the
//   first apply to it gives what exists to "before-first-apply".
// - At most 10 Update managers are kept: the oldest are folded into
//   "ancient-changes".
import { FieldSet, formatPath } from './field-set.ts';
import { childType, type FieldType } from './field-schema.ts';
import { compare, fieldSetOf, jsonEqual, mergeApplied, removeFields, withNamedFieldsAsMembers } from './structured-merge.ts';
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

export interface Conflict { manager: string; path: string }

/** An apply that would change fields other managers own. */
export class ApplyConflictError extends Error {
  override name = 'ApplyConflictError';
  readonly conflicts: Conflict[];
  constructor(conflicts: Conflict[]) {
    super(conflictMessage(conflicts));
    this.conflicts = conflicts;
  }
}

export const MAX_UPDATE_MANAGERS = 10;

/**
 * The appliers that also apply client-side, with the last-applied
 * annotation: kubectl's (as Kubernetes knows it) and kcs's own CLI. Moving
 * from one way to the other does not conflict on what the annotation says.
 */
const CLI_MANAGERS = new Set(['kubectl', 'kcs']);
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Server-owned fields no manager is said to own. */
const STRIPPED = ['apiVersion', 'kind', 'metadata', 'metadata.name', 'metadata.namespace', 'metadata.creationTimestamp', 'metadata.selfLink',
  'metadata.uid', 'metadata.clusterName', 'metadata.generation', 'metadata.managedFields', 'metadata.resourceVersion']
  .map((p) => p.split('.').map((f) => `f:${f}`));

const STRIPPED_SET = new FieldSet();
for (const path of STRIPPED) STRIPPED_SET.insert(path);

/** Server-owned metadata is nobody's: not compared (resourceVersion alone would make every write look like a change). */
const SKIPPED_METADATA = new Set(STRIPPED.filter((p) => p.length === 2).map((p) => p[1]));
const skipManagedFields = (path: readonly string[]) => path.length === 2 && path[0] === 'f:metadata' && SKIPPED_METADATA.has(path[1]);
const skipManagedFieldsAndStatus = (path: readonly string[]) => (path.length === 1 && path[0] === 'f:status') || skipManagedFields(path);
const nowOf = (now: string | (() => string)) => (typeof now === 'string' ? now : now());

function identity(o: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return `${o.operation}\0${o.operation === 'Apply' ? '' : o.apiVersion}\0${o.subresource ?? ''}\0${o.manager}`;
}

/** Kubernetes' description of a manager in a conflict: `"kcs" using v1`, `"kubelet" with subresource "status" using v1`, `"ci"`. */
function describe(o: Owner): string {
  let s = JSON.stringify(o.manager);
  if (o.subresource) s += ` with subresource ${JSON.stringify(o.subresource)}`;
  if (o.operation === 'Update') s += ` using ${o.apiVersion}`;
  return s;
}

function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${conflicts[0].manager}: ${conflicts[0].path}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${m}:`);
    for (const p of byManager.get(m)!) lines.push(`- ${p}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** The entries as owners; undefined when they cannot be read (Kubernetes then starts from the live object's). */
function decode(entries: unknown): Map<string, Owner> | undefined {
  if (entries === undefined || entries === null) return new Map();
  if (!Array.isArray(entries)) return undefined;
  const out = new Map<string, Owner>();
  try {
    for (const e of entries as ManagedFieldsEntry[]) {
      if (e === null || typeof e !== 'object') return undefined;
      if (e.operation !== 'Apply' && e.operation !== 'Update') return undefined;
      if (!e.apiVersion || e.fieldsType !== 'FieldsV1') return undefined;
      const owner: Owner = { manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource || undefined, time: e.time, set: FieldSet.fromJSON(e.fieldsV1 ?? {}) };
      out.set(identity(owner), owner);
    }
  } catch {
    return undefined;
  }
  return out;
}

function encode(owners: Map<string, Owner>): ManagedFieldsEntry[] | undefined {
  const list = [...owners.values()].filter((o) => !o.set.isEmpty());
  if (list.length === 0) return undefined;
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  list.sort((p, q) => (p.operation !== q.operation ? (p.operation < q.operation ? -1 : 1)
    : seconds(p.time) - seconds(q.time) || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? '')));
  return list.map((o) => ({
    manager: o.manager, operation: o.operation, apiVersion: o.apiVersion, ...(o.time ? { time: o.time } : {}),
    fieldsType: 'FieldsV1' as const, fieldsV1: o.set.toJSON(), ...(o.subresource ? { subresource: o.subresource } : {}),
  }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Takes the server-owned fields out of a set, in place. */
function strip(set: FieldSet): FieldSet {
  set.subtract(STRIPPED_SET);
  return set;
}

/** `[]` or `[{}]` in a request: the client clears managedFields. */
function isReset(entries: unknown): boolean {
  return Array.isArray(entries) && (entries.length === 0 || (entries.length === 1 && jsonEqual(entries[0], {})));
}

export interface UpdateContext {
  type: FieldType;
  manager: string;
  apiVersion: string;
  subresource?: string;
  /** The time an entry that changes is stamped with (a function: most writes need none). */
  now: string | (() => string);
  /** The write cannot change status (the main resource of a kind with a status subresource): it is not compared. */
  statusUnchanged?: boolean;
}

/**
 * The managedFields after a non-apply write from `before` (undefined for a
 * create) to `after`. `requested` is what the request itself carried in
 * metadata.managedFields: a readable non-empty list replaces the live one,
 * `[]` clears it; a subresource write ignores it.
 */
export function managedFieldsAfterUpdate(before: KubeObject | undefined, after: KubeObject, requested: unknown, ctx: UpdateContext): ManagedFieldsEntry[] | undefined {
  const live = before?.metadata.managedFields;
  const fromRequest = !ctx.subresource && requested !== undefined && requested !== live && !jsonEqual(requested, live);
  // An existing object nobody tracked stays untracked (Kubernetes' skip-non-applied): nothing to compare.
  if (before !== undefined && !fromRequest && (live === undefined || (Array.isArray(live) && live.length === 0))) return undefined;
  // A status write changes only status, a main-resource write anything but: only that part is compared.
  const { added, modified, removed } = before !== undefined && ctx.subresource === 'status'
    ? compare(before.status, after.status, childType(ctx.type, 'status'), undefined, ['f:status'])
    : compare(before ?? emptyLike(after), after, ctx.type, ctx.statusUnchanged && before !== undefined ? skipManagedFieldsAndStatus : skipManagedFields);
  const changed = added.addAll(modified);
  // Nothing changed: the entries stay exactly as they are (times included), and nothing is decoded.
  if (!fromRequest && changed.isEmpty() && removed.isEmpty()) return live;
  let owners: Map<string, Owner>;
  if (!fromRequest) owners = decode(live) ?? new Map();
  else if (isReset(requested)) owners = new Map();
  else {
    const decoded = decode(requested);
    owners = decoded && decoded.size > 0 ? decoded : decode(live) ?? new Map();
  }
  if (owners.size === 0 && before !== undefined) return undefined;
  const me = identity({ manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  for (const [id, o] of owners) {
    if (id === me) continue;
    o.set.subtract(changed);
    o.set.subtract(removed);
  }
  const previous = owners.get(me);
  const mine = previous?.set ?? new FieldSet();
  mine.subtract(removed);
  mine.addAll(changed);
  strip(mine);
  if (!changed.isEmpty() || !removed.isEmpty() || previous) {
    owners.set(me, { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource, time: changed.isEmpty() && removed.isEmpty() ? previous?.time : nowOf(ctx.now), set: mine });
  }
  capUpdateManagers(owners);
  return encode(owners);
}

/** An empty object of the same kind, as Kubernetes' zero value: metadata, spec and status present, empty. */
function emptyLike(obj: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: {} };
  if ('spec' in obj) out.spec = {};
  if ('status' in obj) out.status = {};
  return out;
}

function capUpdateManagers(owners: Map<string, Owner>): void {
  if (owners.size <= MAX_UPDATE_MANAGERS) return;
  const updaters = [...owners.entries()].filter(([, o]) => o.operation === 'Update' && !o.set.isEmpty());
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  updaters.sort(([, a], [, b]) => seconds(a.time) - seconds(b.time) || cmp(a.manager, b.manager));
  let excess = updaters.length - MAX_UPDATE_MANAGERS;
  // As Kubernetes: the oldest of a version is set aside; when a second one
  // goes, both fold into that version's "ancient-changes" (which may be the oldest).
  const firstOfVersion = new Map<string, string>();
  for (const [id, o] of updaters) {
    if (excess <= 0) break;
    const first = firstOfVersion.get(o.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(o.apiVersion, id);
      continue;
    }
    const bucketId = identity({ manager: 'ancient-changes', operation: 'Update', apiVersion: o.apiVersion });
    let bucket = owners.get(bucketId);
    if (!bucket) {
      const f = owners.get(first)!;
      owners.delete(first);
      bucket = { manager: 'ancient-changes', operation: 'Update', apiVersion: o.apiVersion, time: f.time, set: f.set };
      owners.set(bucketId, bucket);
    }
    bucket.set = bucket.set.union(o.set);
    bucket.time = o.time;
    owners.delete(id);
    excess--;
  }
}

export interface ApplyContext {
  type: FieldType;
  manager: string;
  apiVersion: string;
  subresource?: string;
  force: boolean;
  now: string;
}

/**
 * Server-side apply of `config` to `live` (undefined: the object does not
 * exist yet). Returns the merged object with its managedFields, or throws
 * ApplyConflictError.
 */
export function applyConfiguration(live: KubeObject | undefined, config: KubeObject, ctx: ApplyContext): KubeObject {
  const base: KubeObject = live ?? emptyLike(config);
  const owners = decode(base.metadata.managedFields) ?? new Map<string, Owner>();
  if (owners.size === 0 && live !== undefined) {
    // Fields that exist before the first apply belong to someone.
    const { added, modified } = compare(emptyLike(live), live, ctx.type, skipManagedFields);
    const set = strip(added.addAll(modified));
    if (!set.isEmpty()) {
      const o: Owner = { manager: 'before-first-apply', operation: 'Update', apiVersion: ctx.apiVersion, set };
      owners.set(identity(o), o);
    }
  }
  const me = identity({ manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  const lastSet = owners.get(me)?.set;
  const appliedSet = fieldSetOf(config, ctx.type);
  let merged = mergeApplied(base, config, ctx.type) as KubeObject;
  const previousTime = owners.get(me)?.time;
  owners.set(me, { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, subresource: ctx.subresource, set: appliedSet });
  if (lastSet && !lastSet.isEmpty()) {
    // What this manager applied before and no longer states goes, unless someone else owns it.
    let owned = new FieldSet();
    for (const o of owners.values()) owned = owned.union(o.set);
    const gone = withNamedFieldsAsMembers(lastSet, ctx.type).difference(withNamedFieldsAsMembers(owned, ctx.type));
    merged = removeFields(merged, gone, ctx.type) as KubeObject;
  }
  const { added, modified, removed } = compare(base, merged, ctx.type, skipManagedFields);
  const changed = added.addAll(modified);
  const conflicts: Conflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [id, o] of owners) {
    if (id === me) continue;
    const overlap = o.set.intersection(changed);
    if (!overlap.isEmpty()) {
      taken.set(id, overlap);
      for (const p of overlap.paths()) conflicts.push({ manager: describe(o), path: formatPath(p) });
    }
  }
  let force = ctx.force;
  if (conflicts.length && !force && CLI_MANAGERS.has(ctx.manager) && live) {
    // Moving from client-side to server-side apply: fields the last client-side apply set, unchanged since, are kubectl's already.
    const allowed = lastAppliedFields(live, ctx);
    const left = allowed ? conflicts.filter((c) => !allowed.has(c.path)) : conflicts;
    if (left.length === 0) force = true;
    else throw new ApplyConflictError(left);
  }
  if (conflicts.length && !force) throw new ApplyConflictError(conflicts);
  for (const [id, o] of owners) {
    if (id === me) continue;
    const lost = taken.get(id);
    if (lost) o.set.subtract(lost);
    o.set.subtract(removed);
  }
  const mine = owners.get(me)!;
  strip(mine.set);
  const objectChanged = !changed.isEmpty() || !removed.isEmpty();
  mine.time = objectChanged || !previousTime ? ctx.now : previousTime;
  if (CLI_MANAGERS.has(ctx.manager) && merged.metadata.annotations?.[LAST_APPLIED_ANNOTATION]) {
    // kubectl reads this annotation on a later client-side apply: keep it saying what was applied last.
    const { [LAST_APPLIED_ANNOTATION]: _last, ...annotations } = config.metadata.annotations ?? {};
    const applied = { ...config, metadata: { ...config.metadata, annotations } };
    if (Object.keys(annotations).length === 0) delete (applied.metadata as { annotations?: unknown }).annotations;
    merged = { ...merged, metadata: { ...merged.metadata, annotations: { ...merged.metadata.annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(applied) } } };
  }
  capUpdateManagers(owners);
  const entries = encode(owners);
  const metadata = { ...merged.metadata };
  if (entries) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return { ...merged, metadata };
}

/** The paths (as printed) the last-applied annotation states with the values the object still has. */
function lastAppliedFields(live: KubeObject, ctx: ApplyContext): Set<string> | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!text) return undefined;
  let last: KubeObject;
  try {
    last = JSON.parse(text) as KubeObject;
  } catch {
    return undefined;
  }
  if (last?.apiVersion !== ctx.apiVersion) return undefined;
  try {
    const { added, modified, removed } = compare(last, live, ctx.type, skipManagedFields);
    const set = fieldSetOf(last, ctx.type).difference(modified).difference(added).difference(removed);
    return new Set([...set.paths()].map(formatPath));
  } catch {
    return undefined;
  }
}
