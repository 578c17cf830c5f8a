// Pure: what a sync must do, from what the directory declares and what the
// cluster holds. No I/O, so every rule below is unit-tested without a server.
//
// Ownership is recorded on the objects themselves, as Kubernetes tools do:
//   label      kcs.io/managed-by: gitops        set only on objects the sync created
//   annotation kcs.io/source: nodes/big.yaml   the file, relative to the directory
//   annotation kcs.io/source-root: /abs/dir    which synced directory
// Objects are matched by kind, namespace and name, never by file, so a file
// renamed or an object moved between files is configured in place (a Node
// keeps its machine), not deleted and created again.
import type { KubeObject } from '../objects/types.ts';
import { objectKey, objectRef, type DesiredObject, type FileError, type FileResult } from './source.ts';
import type { KindInfo } from '../objects/kinds.ts';

export const MANAGED_BY_LABEL = 'kcs.io/managed-by';
export const MANAGED_BY_VALUE = 'gitops';
export const SOURCE_ANNOTATION = 'kcs.io/source';
export const SOURCE_ROOT_ANNOTATION = 'kcs.io/source-root';

export interface LiveObject {
  kind: KindInfo;
  object: KubeObject;
}

export interface PlannedApply {
  desired: DesiredObject;
  /** The manifest to apply: the file's, plus the ownership label and annotations. */
  manifest: KubeObject;
  /** The object as listed, or null when it does not exist. */
  live: KubeObject | null;
}

export interface PlannedPrune {
  kind: KindInfo;
  namespace?: string;
  name: string;
  /** The file the object came from (its kcs.io/source). */
  file: string;
  live: KubeObject;
}

export interface Plan {
  apply: PlannedApply[];
  prune: PlannedPrune[];
  /** Broken files, and objects that could not be taken (duplicates, owned by another directory). */
  errors: FileError[];
  /** Broken files whose objects are kept as they were (and re-applied from the last good read when known). */
  kept: string[];
  /** The good objects of each file that parsed, for the next plan's lastGood. */
  good: Map<string, DesiredObject[]>;
}

export interface PlanInput {
  /** Identifies the synced directory (its absolute path). */
  root: string;
  /** This read of the directory. */
  files: Map<string, FileResult>;
  /** Each file's objects from the last read in which it parsed (watch mode remembers them). */
  lastGood?: Map<string, DesiredObject[]>;
  /** Every live object of the kinds a directory may declare. */
  live: LiveObject[];
}

/** Whether this directory's sync created the object (and so may prune it). */
export function createdBy(obj: KubeObject, root: string): boolean {
  return obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && obj.metadata.annotations?.[SOURCE_ROOT_ANNOTATION] === root;
}

/** The synced directory that created the object, if any. */
function creatorRoot(obj: KubeObject): string | undefined {
  return obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE ? obj.metadata.annotations?.[SOURCE_ROOT_ANNOTATION] : undefined;
}

/** Applied in this order and pruned in the reverse: a Namespace before what it holds, and deleted after it. */
const ORDER = ['Namespace', 'SchedulerConfiguration', 'Node', 'Pod'];

export function plan(input: PlanInput): Plan {
  const { root } = input;
  const errors: FileError[] = [];
  const kept: string[] = [];
  const good = new Map<string, DesiredObject[]>();
  const files = [...input.files.keys()].sort();

  // Good files first, in name order; then the last good objects of broken
  // files: a file that parses always wins over a broken file's memory.
  const candidates: DesiredObject[] = [];
  const fallback: DesiredObject[] = [];
  for (const file of files) {
    const r = input.files.get(file)!;
    if (r.error) {
      errors.push(r.error);
      kept.push(file);
      fallback.push(...(input.lastGood?.get(file) ?? []));
    } else {
      good.set(file, r.objects);
      candidates.push(...r.objects);
    }
  }

  const liveByKey = new Map<string, KubeObject>();
  for (const l of input.live) liveByKey.set(objectKey(l.kind, l.object.metadata.namespace, l.object.metadata.name!), l.object);

  const desiredBy = new Map<string, DesiredObject>();
  const apply: PlannedApply[] = [];
  for (const [i, d] of [...candidates, ...fallback].entries()) {
    const key = objectKey(d.kind, d.namespace, d.name);
    const first = desiredBy.get(key);
    if (first) {
      // A duplicate from a broken file's memory is silently superseded; one in a good file is an error.
      if (i < candidates.length) errors.push({ file: d.file, line: d.line, reason: `${objectRef(d)} is also declared in ${first.file}${first.line ? ` (line ${first.line})` : ''}; the first declaration is applied` });
      continue;
    }
    desiredBy.set(key, d);
    const live = liveByKey.get(key) ?? null;
    const owner = live ? creatorRoot(live) : undefined;
    if (owner !== undefined && owner !== root) {
      errors.push({ file: d.file, line: d.line, reason: `${objectRef(d)} was created by the sync of another directory (${owner}); left alone` });
      continue;
    }
    apply.push({ desired: d, manifest: withOwnership(d, root, live), live });
  }
  apply.sort((a, b) => kindRank(a.desired.kind) - kindRank(b.desired.kind));

  // Prune: only what this directory's sync created, is no longer declared,
  // and did not come from a file that failed to read this time.
  const keptFiles = new Set(kept);
  const prune: PlannedPrune[] = [];
  for (const l of input.live) {
    const obj = l.object;
    if (!createdBy(obj, root)) continue;
    const key = objectKey(l.kind, obj.metadata.namespace, obj.metadata.name!);
    if (desiredBy.has(key)) continue;
    const file = obj.metadata.annotations?.[SOURCE_ANNOTATION];
    if (!file || keptFiles.has(file)) continue;
    if (obj.metadata.deletionTimestamp) continue;
    prune.push({ kind: l.kind, namespace: obj.metadata.namespace, name: obj.metadata.name!, file, live: obj });
  }
  // Pods before the nodes they may run on, nodes before the scheduler configuration, namespaces last.
  prune.sort((a, b) => kindRank(b.kind) - kindRank(a.kind));

  return { apply, prune, errors, kept, good };
}

function kindRank(kind: KindInfo): number {
  const i = ORDER.indexOf(kind.kind);
  return i < 0 ? ORDER.length : i;
}

/**
 * The file's manifest plus where it came from. The managed-by label goes on
 * objects the sync creates and on those it created before; an object that
 * already existed (made by `kcs apply`, say) gets the source annotations but
 * not the label, so the sync will never delete it.
 */
export function withOwnership(d: DesiredObject, root: string, live: KubeObject | null): KubeObject {
  const manifest = structuredClone(d.manifest);
  manifest.metadata.annotations = { ...manifest.metadata.annotations, [SOURCE_ANNOTATION]: d.file, [SOURCE_ROOT_ANNOTATION]: root };
  const labels = { ...manifest.metadata.labels };
  delete labels[MANAGED_BY_LABEL];
  if (!live || createdBy(live, root)) labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE;
  if (Object.keys(labels).length) manifest.metadata.labels = labels;
  else delete manifest.metadata.labels;
  return manifest;
}
