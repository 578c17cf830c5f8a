// What a list or watch asked for (a namespace, label and field selectors),
// parsed once: the predicate every object is checked with, and the one
// indexed field it pins down, if any, so the cache can look there first
// instead of at every object of the kind.
import type { KindInfo } from '../objects/kinds.ts';
import { both, fieldSelectorTerms, fieldValue, parseFieldSelector, parseLabelSelector, type Predicate } from '../objects/selectors.ts';
import type { KubeObject } from '../objects/types.ts';
import type { CachedObject } from './cached-object.ts';

/**
 * The fields objects are indexed by, beyond their namespace: a node's agent
 * asks for its pods (spec.nodeName) and its Node (metadata.name).
 */
const INDEXED: Record<string, readonly string[]> = {
  '*': ['metadata.name'],
  Pod: ['metadata.name', 'spec.nodeName'],
};

export function indexedFields(kind: KindInfo): readonly string[] {
  return INDEXED[kind.kind] ?? INDEXED['*']!;
}

/** The value an object has for an indexed field ('' when unset, as field selectors compare it). */
export function indexValue(kind: KindInfo, field: string, obj: CachedObject): string {
  return field === 'metadata.name' ? obj.name : fieldValue(kind.kind, field, obj.object()) ?? '';
}

export interface Selection {
  namespace?: string;
  /** Label and field selectors together; undefined when there are none. */
  match?: Predicate;
  /** An indexed field the field selector requires to equal a value. */
  pinned?: { field: string; value: string };
}

/** Throws SelectorError for a selector that does not parse. */
export function parseSelection(kind: KindInfo, namespace: string | undefined, labelSelector?: string, fieldSelector?: string): Selection {
  const match = both(parseLabelSelector(labelSelector), parseFieldSelector(kind.kind, fieldSelector));
  const indexed = indexedFields(kind);
  const term = fieldSelectorTerms(kind.kind, fieldSelector).find((t) => !t.negate && indexed.includes(t.field));
  return { namespace: kind.namespaced ? namespace : undefined, match, pinned: term && { field: term.field, value: term.value } };
}

/** Whether obj is in the selection. */
export function selects(sel: Selection, obj: CachedObject): boolean {
  if (sel.namespace !== undefined && obj.namespace !== sel.namespace) return false;
  return !sel.match || sel.match(obj.object() as KubeObject);
}
