// Applies one manifest document through the client: create if absent,
// otherwise a three-way merge patch (see apply-patch.ts).
import { isDeepStrictEqual } from 'node:util';
import { errorCode, isNotFound, type KcsClient } from './interface.ts';
import { DEFAULT_NAMESPACE, KINDS, kindByName, type KindInfo } from '../objects/kinds.ts';
import { withMachineSize } from '../objects/node-capacity.ts';
import type { KubeObject } from '../objects/types.ts';
import { LAST_APPLIED, threeWayMergePatch } from './apply-patch.ts';
import type { SourcedDocument } from './manifests.ts';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult<Outcome = ApplyOutcome> {
  source: string;
  /** `node/node-1`, as kubectl names objects. */
  ref?: string;
  outcome?: Outcome;
  error?: string;
  /** The error is a server-side apply conflict (other managers own fields). */
  conflict?: boolean;
  warnings?: string[];
  /** The object as the server stored it, or (dry run) would store it; the live one when unchanged. */
  object?: KubeObject;
}

export interface ApplyOptions {
  namespace?: string;
  dryRun?: boolean;
  /**
   * The live object when the caller has just listed it (null: known absent),
   * which saves the GET; undefined reads it.
   */
  live?: KubeObject | null;
  /** Who the writes are recorded as in managedFields (default: kcs-client-side-apply, as kubectl names its own). */
  fieldManager?: string;
}

export interface ServerSideApplyOptions {
  namespace?: string;
  dryRun?: boolean;
  /** Take over fields other managers own instead of failing with their conflicts. */
  forceConflicts?: boolean;
  /** Who owns what this apply states (default: kcs). */
  fieldManager?: string;
}

export const SERVER_SIDE_FIELD_MANAGER = 'kcs';
export const CLIENT_SIDE_FIELD_MANAGER = 'kcs-client-side-apply';

interface Prepared { where: string; kind: KindInfo; name: string; ref: string; namespace: string | undefined; desired: KubeObject }

/** The document checked and stripped of what the server owns, or the reason it cannot be applied. */
async function prepare(doc: SourcedDocument, namespaceDefault: string | undefined): Promise<Prepared | ApplyResult<never>> {
  const where = `${doc.source}${doc.index ? ` (document ${doc.index + 1})` : ''}`;
  const obj = doc.value as KubeObject;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return { source: where, error: 'the document is not an object' };
  if (!obj.kind) return { source: where, error: "Object 'Kind' is missing" };
  if (!obj.apiVersion) return { source: where, error: "Object 'apiVersion' is missing" };
  const kind = kindByName(obj.kind);
  if (!kind) return { source: where, error: `no matches for kind "${obj.kind}" in version "${obj.apiVersion}" (kcs serves: ${KINDS.map((k) => k.kind).join(', ')})` };
  const name = obj.metadata?.name;
  if (!name || typeof name !== 'string') return { source: where, error: 'metadata.name is required' };
  const ref = `${kind.singular}/${name}`;
  // Early feedback from the same schemas the server uses: a broken manifest
  // is reported with its file before any request is sent.
  const { validateObject } = await import('../objects/validation.ts');
  const invalid = validateObject(structuredClone(obj)).errors;
  if (invalid.length) return { source: where, ref, error: `${kind.kind} ${JSON.stringify(name)} is invalid: ${invalid.map((e) => `${e.field}: ${e.message}`).join(', ')}` };
  const namespace = kind.namespaced ? (obj.metadata.namespace ?? namespaceDefault ?? DEFAULT_NAMESPACE) : undefined;

  // The manifest as written is what the next apply compares against, less
  // what the server owns (a manifest saved with `get -o yaml` carries it).
  // A Node sized in its status (KWOK, kubelets) is sent sized in its spec, since status is not.
  const desired: KubeObject = withMachineSize(structuredClone(obj));
  if (kind.namespaced && !desired.metadata.namespace) desired.metadata.namespace = namespace;
  delete desired.status;
  for (const owned of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'deletionTimestamp', 'managedFields'] as const) delete desired.metadata[owned as keyof typeof desired.metadata];
  return { where, kind, name, ref, namespace, desired };
}

/**
 * Server-side apply of one document: the manifest is the whole intent of its
 * field manager; the server merges it and keeps who owns what (`kubectl
 * apply --server-side`).
 */
export async function applyServerSide(client: KcsClient, doc: SourcedDocument, opts: ServerSideApplyOptions): Promise<ApplyResult<'serverside-applied'>> {
  const p = await prepare(doc, opts.namespace);
  if (!('desired' in p)) return p;
  try {
    const res = await client.patch(p.kind, p.namespace, p.name, p.desired, {
      type: 'apply', fieldManager: opts.fieldManager ?? SERVER_SIDE_FIELD_MANAGER, force: opts.forceConflicts, dryRun: opts.dryRun,
    });
    return { source: p.where, ref: p.ref, outcome: 'serverside-applied', warnings: res.warnings };
  } catch (err) {
    const code = errorCode(err);
    if (code !== undefined) return { source: p.where, ref: p.ref, error: (err as Error).message, conflict: code === 409 && (err as { reason?: string }).reason === 'Conflict' };
    throw err;
  }
}

/** Works over any transport: HTTP (kcs apply) or in-process (kcs up --watch). */
export async function applyOne(client: KcsClient, doc: SourcedDocument, opts: ApplyOptions): Promise<ApplyResult> {
  const p = await prepare(doc, opts.namespace);
  if (!('desired' in p)) return p;
  const { where, kind, name, ref, namespace, desired } = p;
  if (desired.metadata.annotations) {
    const { [LAST_APPLIED]: _previous, ...others } = desired.metadata.annotations;
    desired.metadata.annotations = Object.keys(others).length ? others : undefined;
    if (!desired.metadata.annotations) delete desired.metadata.annotations;
  }
  const fieldManager = opts.fieldManager ?? CLIENT_SIDE_FIELD_MANAGER;
  const lastApplied = JSON.stringify(desired);
  desired.metadata.annotations = { ...desired.metadata.annotations, [LAST_APPLIED]: lastApplied };

  try {
    let live: KubeObject | undefined = opts.live ?? undefined;
    if (opts.live === undefined) {
      try {
        live = await client.get(kind, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (!live) {
      const res = await client.create(kind, namespace, desired, { dryRun: opts.dryRun, fieldManager });
      return { source: where, ref, outcome: 'created', warnings: res.warnings, object: res.body };
    }
    const previous = parseLastApplied(live.metadata.annotations?.[LAST_APPLIED]);
    const patch = threeWayMergePatch(previous, desired, live);
    if (!patch) return { source: where, ref, outcome: 'unchanged', object: live };
    const res = await client.patch(kind, namespace, name, patch, { dryRun: opts.dryRun, fieldManager });
    // A dry run keeps the resourceVersion, so compare what the server would store.
    const changed = opts.dryRun ? !sameObject(res.body, live) : res.body.metadata.resourceVersion !== live.metadata.resourceVersion;
    return { source: where, ref, outcome: changed ? 'configured' : 'unchanged', warnings: res.warnings, object: res.body };
  } catch (err) {
    // An answer from the API (HTTP Status or in-process ApiError) is this
    // document's failure; anything else (the server unreachable) is the caller's.
    if (errorCode(err) !== undefined) return { source: where, ref, error: (err as Error).message };
    throw err;
  }
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return isDeepStrictEqual(strip(a), strip(b));
}

function parseLastApplied(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
