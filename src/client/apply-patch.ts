// `kcs apply` computes what kubectl's client-side apply computes: a merge
// patch that sets every field the manifest states (where the live object
// differs) and removes the fields a previous apply set but this manifest no
// longer states. Fields set by others (the scheduler's spec.nodeName, labels
// added by hand) are left alone.
import { isDeepStrictEqual } from 'node:util';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Returns undefined when nothing needs to change. */
export function threeWayMergePatch(lastApplied: unknown, desired: unknown, live: unknown): Record<string, Json> | undefined {
  const patch: Record<string, Json> = {};
  const last = isObject(lastApplied) ? lastApplied : {};
  const want = isObject(desired) ? desired : {};
  const have = isObject(live) ? live : {};
  for (const [key, value] of Object.entries(want)) {
    if (isObject(value) && isObject(have[key])) {
      const sub = threeWayMergePatch(last[key], value, have[key]);
      if (sub) patch[key] = sub;
    } else if (!isDeepStrictEqual(value, have[key])) {
      patch[key] = value;
    }
  }
  for (const key of Object.keys(last)) {
    if (!(key in want) && key in have) patch[key] = null;
  }
  return Object.keys(patch).length ? patch : undefined;
}
