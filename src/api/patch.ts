// PATCH bodies: JSON Patch (RFC 6902, via the rfc6902 library), JSON Merge
// Patch (RFC 7386) and strategic merge patch (objects/strategic-merge-patch.ts),
// applied to a private copy of the stored object. Server-side apply is the
// registry's `apply`.
import { applyPatch, type Operation } from 'rfc6902';
import type { KindInfo } from '../objects/kinds.ts';
import { ApplyConflictError } from '../objects/managed-fields.ts';
import { applyMergePatch } from '../objects/merge-patch.ts';
import { applyStrategicMergePatch, PatchError } from '../objects/strategic-merge-patch.ts';
import { schemaOf } from '../objects/field-schema.ts';
import type { KubeObject } from '../objects/types.ts';
import { PATCH_TYPES, type PatchType } from './body.ts';
import { ApiError, errors } from './errors.ts';

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** The patch types a kind takes: Kubernetes refuses strategic merge patch for kinds without a built-in type (custom resources). */
export function patchTypesFor(kind: KindInfo): PatchType[] {
  return schemaOf(kind) ? [...PATCH_TYPES] : PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json');
}

export function checkJsonPatch(patch: unknown): asserts patch is Operation[] {
  if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations');
  for (const [i, op] of patch.entries()) {
    if (op === null || typeof op !== 'object' || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw errors.badRequest(`JSON patch operation ${i} must be an object with "op" and "path"`);
    }
    for (const pointer of [op.path, op.from]) {
      if (typeof pointer === 'string' && pointer.split('/').some((s: string) => FORBIDDEN_SEGMENTS.has(s))) {
        throw errors.badRequest(`JSON patch operation ${i} has a forbidden path ${JSON.stringify(pointer)}`);
      }
    }
  }
}

/** A patch of a type this kind takes, in the shape its type needs. */
export function checkPatch(kind: KindInfo, type: PatchType, patch: unknown): void {
  const allowed = patchTypesFor(kind);
  if (!allowed.includes(type)) throw errors.unsupportedMediaType(type, allowed);
  if (type === 'application/json-patch+json') return checkJsonPatch(patch);
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw errors.badRequest(`${type === 'application/strategic-merge-patch+json' ? 'a strategic merge patch' : 'a merge patch'} must be a JSON object`);
  }
}

export function applyPatchTo(kind: KindInfo, current: KubeObject, type: PatchType, patch: unknown): unknown {
  if (type === 'application/merge-patch+json') return applyMergePatch(current, patch);
  if (type === 'application/strategic-merge-patch+json') {
    // The merge consumes its directives and hands parts of the patch to the result: each attempt gets its own copy.
    const own = JSON.parse(JSON.stringify(patch)) as Record<string, unknown>;
    try {
      return applyStrategicMergePatch(current, own, schemaOf(kind)!);
    } catch (err) {
      throw patchError(err);
    }
  }
  const target = current; // already a private copy (guaranteedUpdate clones)
  const results = applyPatch(target, patch as Operation[]);
  const failed = results.findIndex((r) => r !== null);
  if (failed >= 0) {
    throw new ApiError(422, 'Invalid', `JSON patch operation ${failed} failed: ${results[failed]!.message ?? results[failed]!.name}`);
  }
  return target;
}

/** A patch the merge refused, or an apply that conflicts, as the Status Kubernetes answers. */
export function patchError(err: unknown): unknown {
  if (err instanceof PatchError) return err.code === 422 ? new ApiError(422, 'Invalid', err.message) : errors.badRequest(err.message, err);
  if (err instanceof ApplyConflictError) {
    return errors.applyConflict(err.message, err.conflicts.map((c) => ({ message: `conflict with ${c.manager}`, field: c.path })));
  }
  return err;
}
