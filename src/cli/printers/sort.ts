// `kcs get --sort-by=<jsonpath>`, with kubectl's ordering: numbers by value,
// two strings that are both quantities ("500m", "2Gi") by value, other
// strings in natural order ("node-2" before "node-10"); an object that lacks
// the field sorts first. Timestamps (RFC 3339) sort as strings, which is
// their time order.
import { compareQuantities, isQuantity } from '../../objects/quantity.ts';
import type { KubeObject } from '../../objects/types.ts';
import { findResults, relaxedPath, TemplateError } from './jsonpath.ts';

/** A stable sort of objects by the first value the path selects in each. */
export function sortObjects<T extends KubeObject>(objects: T[], sortBy: string): T[] {
  const path = relaxedPath(sortBy);
  const keyed = objects.map((obj) => {
    const values = findResults(path, obj);
    return { obj, found: values.length > 0, value: values[0] };
  });
  if (keyed.length && !keyed.some((k) => k.found)) throw new TemplateError(`couldn't find any field with path "{${path}}" in the list of objects`);
  keyed.sort((a, b) => {
    if (!a.found || !b.found) return a.found === b.found ? 0 : a.found ? 1 : -1;
    return compareValues(a.value, b.value);
  });
  return keyed.map((k) => k.obj);
}

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (isQuantity(a) && isQuantity(b)) return compareQuantities(a, b);
    return naturalCompare(a, b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  throw new TemplateError(`field is an unsortable type: ${typeof a === 'object' ? 'map' : typeof a}`);
}

/** Natural order (github.com/fvbommel/sortorder, as kubectl): runs of digits compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    const pd = /^\d/.test(p);
    const qd = /^\d/.test(q);
    if (pd && qd) {
      // By value, then fewer leading zeros first.
      const pv = p.replace(/^0+/, '');
      const qv = q.replace(/^0+/, '');
      if (pv.length !== qv.length) return pv.length - qv.length;
      if (pv !== qv) return pv < qv ? -1 : 1;
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/** When an event happened last, as `kubectl events` orders them. */
export function eventTime(obj: KubeObject): string {
  const e = obj as unknown as { lastTimestamp?: string; eventTime?: string; firstTimestamp?: string };
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? obj.metadata.creationTimestamp ?? '';
}
