// Label selectors (`app=web,tier!=db,env in (a,b),!canary`) and field
// selectors (`spec.nodeName=node-1`), parsed once into predicates.
import { labelValueError } from './names.ts';
import type { KubeObject } from './types.ts';

export class SelectorError extends Error {
  override name = 'SelectorError';
}

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: Set<string> }
  | { op: 'exists' | 'notexists'; key: string };

export type Predicate = (obj: KubeObject) => boolean;

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  if (depth !== 0) throw new SelectorError(`unbalanced parentheses in selector ${JSON.stringify(text)}`);
  const trimmed = terms.map((t) => t.trim());
  if (trimmed.some((t) => t === '')) throw new SelectorError(`empty requirement in selector ${JSON.stringify(text)}`);
  return trimmed;
}

function parseRequirement(term: string): Requirement {
  let m = /^!\s*(\S+)$/.exec(term);
  if (m) return { op: 'notexists', key: checkKey(m[1], term) };
  m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3].split(',').map((v) => checkValue(v.trim(), term));
    return { op: m[2] as 'in' | 'notin', key: checkKey(m[1], term), values: new Set(values) };
  }
  m = /^([^=!\s()]+)\s*(==|=|!=)\s*([^=!\s()]*)$/.exec(term);
  if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: checkKey(m[1], term), value: checkValue(m[3], term) };
  if (KEY.test(term)) return { op: 'exists', key: term };
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(term)}`);
}

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw new SelectorError(`invalid key ${JSON.stringify(key)} in requirement ${JSON.stringify(term)}`);
  return key;
}

function checkValue(value: string, term: string): string {
  const problem = labelValueError(value);
  if (problem) throw new SelectorError(`invalid value ${JSON.stringify(value)} in requirement ${JSON.stringify(term)}: ${problem}`);
  return value;
}

function matches(req: Requirement, get: (key: string) => string | undefined): boolean {
  const v = get(req.key);
  switch (req.op) {
    case 'eq': return v === req.value;
    case 'neq': return v !== req.value;
    case 'in': return v !== undefined && req.values.has(v);
    case 'notin': return v === undefined || !req.values.has(v);
    case 'exists': return v !== undefined;
    case 'notexists': return v === undefined;
  }
}

export function parseLabelSelector(text: string | undefined): Predicate | undefined {
  if (!text || text.trim() === '') return undefined;
  const reqs = splitTerms(text).map(parseRequirement);
  return (obj) => reqs.every((r) => matches(r, (k) => obj.metadata.labels?.[k]));
}

/** Matches a plain label map, as a pod's nodeSelector matches a node. */
export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The fields each kind may be selected on, as Kubernetes allows. */
const FIELDS: Record<string, Record<string, (o: any) => string | undefined>> = {
  '*': {
    'metadata.name': (o) => o.metadata?.name,
    'metadata.namespace': (o) => o.metadata?.namespace,
  },
  Pod: {
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'status.phase': (o) => o.status?.phase ?? '',
  },
  Node: {
    'spec.unschedulable': (o) => String(o.spec?.unschedulable ?? false),
  },
  Event: {
    'involvedObject.kind': (o) => o.involvedObject?.kind ?? '',
    'involvedObject.name': (o) => o.involvedObject?.name ?? '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace ?? '',
    'involvedObject.uid': (o) => o.involvedObject?.uid ?? '',
    reason: (o) => o.reason ?? '',
    type: (o) => o.type ?? '',
  },
};

/** One requirement of a field selector: field = value, or field != value. */
export interface FieldTerm {
  field: string;
  negate: boolean;
  value: string;
}

/** The terms of a field selector, checked against the fields kind may be selected on. */
export function fieldSelectorTerms(kind: string, text: string | undefined): FieldTerm[] {
  if (!text || text.trim() === '') return [];
  const getters = { ...FIELDS['*'], ...FIELDS[kind] };
  return splitTerms(text).map((term) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(term)} (only =, == and != are supported)`);
    if (!getters[m[1]]) throw new SelectorError(`field label not supported: ${m[1]} (supported: ${Object.keys(getters).join(', ')})`);
    return { field: m[1], negate: m[2] === '!=', value: m[3] };
  });
}

/** The value of a selectable field of obj (as a field selector compares it). */
export function fieldValue(kind: string, field: string, obj: KubeObject): string | undefined {
  return (FIELDS[kind]?.[field] ?? FIELDS['*'][field])?.(obj);
}

export function parseFieldSelector(kind: string, text: string | undefined): Predicate | undefined {
  const terms = fieldSelectorTerms(kind, text);
  if (!terms.length) return undefined;
  const getters = { ...FIELDS['*'], ...FIELDS[kind] };
  const reqs = terms.map((t) => ({ ...t, get: getters[t.field]! }));
  return (obj) => reqs.every((r) => (r.get(obj) === r.value) !== r.negate);
}

export function both(a: Predicate | undefined, b: Predicate | undefined): Predicate | undefined {
  if (a && b) return (o) => a(o) && b(o);
  return a ?? b;
}
