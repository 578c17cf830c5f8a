// PATCH bodies: JSON Patch (RFC 6902, via the rfc6902 library) and JSON
// Merge Patch (RFC 7386), applied to a private copy of the stored object.
import { applyPatch, type Operation } from 'rfc6902';
import { applyMergePatch } from '../objects/merge-patch.ts';
import type { KubeObject } from '../objects/types.ts';
import type { PatchType } from './body.ts';
import { ApiError, errors } from './errors.ts';

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

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

export function applyPatchTo(current: KubeObject, type: PatchType, patch: unknown): unknown {
  if (type === 'application/merge-patch+json') return applyMergePatch(current, patch);
  const target = current; // already a private copy (guaranteedUpdate clones)
  const results = applyPatch(target, patch as Operation[]);
  const failed = results.findIndex((r) => r !== null);
  if (failed >= 0) {
    throw new ApiError(422, 'Invalid', `JSON patch operation ${failed} failed: ${results[failed]!.message ?? results[failed]!.name}`);
  }
  return target;
}
