// Admission: what the server adds or keeps on every write, per kind, after
// the schema has accepted the body. Mirrors the Kubernetes registry
// strategies: the server owns uid, creationTimestamp and generation; the main
// resource never writes status, the /status subresource writes only status.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../objects/types.ts';

/** Sets the server-owned fields of a new object. */
export function prepareForCreate(obj: KubeObject, now: string): KubeObject {
  const { resourceVersion: _rv, deletionTimestamp: _dt, ...metadata } = obj.metadata;
  const next: KubeObject = { ...obj, metadata: { ...metadata, uid: randomUUID(), creationTimestamp: now, generation: 1 } };
  delete next.status;
  if (obj.kind === 'Pod') next.status = { phase: 'Pending' };
  return next;
}

/** A PUT or PATCH of the main resource: spec and metadata from the request, the rest from the stored object. */
export function prepareForUpdate(next: KubeObject, prev: KubeObject): KubeObject {
  const metadata = {
    ...next.metadata,
    uid: prev.metadata.uid,
    creationTimestamp: prev.metadata.creationTimestamp,
    generation: prev.metadata.generation,
  };
  delete metadata.resourceVersion;
  if (prev.metadata.deletionTimestamp) metadata.deletionTimestamp = prev.metadata.deletionTimestamp;
  else delete metadata.deletionTimestamp;
  const out: KubeObject = { ...next, metadata };
  delete out.status;
  if (prev.status !== undefined) out.status = prev.status;
  if (!isDeepStrictEqual(next.spec, prev.spec)) out.metadata.generation = (prev.metadata.generation ?? 0) + 1;
  return out;
}

/** A write to /status: only status comes from the request. */
export function prepareForStatusUpdate(next: KubeObject, prev: KubeObject): KubeObject {
  const out: KubeObject = { ...prev, metadata: { ...prev.metadata } };
  delete out.metadata.resourceVersion;
  if (next.status === undefined) delete out.status;
  else out.status = next.status;
  return out;
}
