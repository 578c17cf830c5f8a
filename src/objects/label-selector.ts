// Structured label selectors (meta/v1 LabelSelector: matchLabels and
// matchExpressions), as NetworkPolicies and other API objects carry them:
// compiled once into a predicate over a label map, checked as Kubernetes
// validates them, and shown as kubectl shows them.
import type { FieldError } from './field-error.ts';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

const MATCH_ALL: LabelMatcher = () => true;

/** A predicate for the selector; `{}` (or no selector) matches every label set. */
export function compileLabelSelector(selector: LabelSelector | undefined): LabelMatcher {
  const checks: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) checks.push((l) => l?.[key] === value);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const set = new Set(values);
    switch (operator) {
      case 'In': checks.push((l) => l?.[key] !== undefined && set.has(l[key]!)); break;
      case 'NotIn': checks.push((l) => l?.[key] === undefined || !set.has(l[key]!)); break;
      case 'Exists': checks.push((l) => l?.[key] !== undefined); break;
      case 'DoesNotExist': checks.push((l) => l?.[key] === undefined); break;
    }
  }
  if (checks.length === 0) return MATCH_ALL;
  return (labels) => checks.every((check) => check(labels));
}

/** What a schema cannot say of a selector: whether an operator takes values (Kubernetes' messages). */
export function labelSelectorErrors(selector: LabelSelector | undefined, field: string): FieldError[] {
  const errors: FieldError[] = [];
  (selector?.matchExpressions ?? []).forEach((req, i) => {
    const values = `${field}.matchExpressions[${i}].values`;
    const count = req.values?.length ?? 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') && count === 0) {
      errors.push({ reason: 'FieldValueRequired', field: values, message: "Required value: must be specified when `operator` is 'In' or 'NotIn'" });
    } else if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && count > 0) {
      errors.push({ reason: 'FieldValueForbidden', field: values, message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
    }
  });
  return errors;
}

/** As kubectl prints a selector: requirements sorted by key, `<none>` for one that selects everything. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const terms: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) terms.push([key, `${key}=${value}`]);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const list = [...values].sort().join(',');
    const text = operator === 'In' ? `${key} in (${list})` : operator === 'NotIn' ? `${key} notin (${list})` : operator === 'Exists' ? key : `!${key}`;
    terms.push([key, text]);
  }
  if (terms.length === 0) return '<none>';
  return terms.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, text]) => text).join(',');
}
