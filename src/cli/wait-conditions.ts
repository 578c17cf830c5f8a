// `kcs wait --for=...` as kubectl reads it, apart from the command so it is
// tested without a server: the three kinds of condition, and whether an
// object meets one.
import type { KubeObject } from '../objects/types.ts';
import { findResults, relaxedPath } from './printers/jsonpath.ts';

export type WaitFor =
  | { type: 'delete' }
  | { type: 'condition'; name: string; status: string }
  | { type: 'jsonpath'; path: string; value?: string };

export class WaitError extends Error {
  override name = 'WaitError';
}

/** `delete`, `condition=Ready`, `condition=Ready=false`, `jsonpath={.status.phase}=Running`, `jsonpath={.spec.nodeName}`. */
export function parseWaitFor(text: string): WaitFor {
  if (text.toLowerCase() === 'delete') return { type: 'delete' };
  if (text.startsWith('condition=')) {
    const rest = text.slice('condition='.length);
    const eq = rest.indexOf('=');
    const name = eq < 0 ? rest : rest.slice(0, eq);
    if (!name) throw new WaitError('--for=condition= needs a condition name, e.g. condition=Ready');
    return { type: 'condition', name, status: eq < 0 ? 'True' : rest.slice(eq + 1) };
  }
  if (text.startsWith('jsonpath=')) {
    const rest = text.slice('jsonpath='.length);
    // The value follows the expression: after its closing brace, or after the last '=' when it has none.
    let expr: string;
    let value: string | undefined;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) throw new WaitError(`unclosed jsonpath expression in --for=${text}`);
      expr = rest.slice(0, close + 1);
      const tail = rest.slice(close + 1);
      if (tail && !tail.startsWith('=')) throw new WaitError(`jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'`);
      value = tail ? tail.slice(1) : undefined;
    } else {
      const eq = rest.lastIndexOf('=');
      expr = eq < 0 ? rest : rest.slice(0, eq);
      value = eq < 0 ? undefined : rest.slice(eq + 1);
    }
    return { type: 'jsonpath', path: relaxedPath(expr), value };
  }
  throw new WaitError(`unrecognized condition: "${text}"`);
}

/** Whether the object (undefined: it does not exist) meets the condition. */
export function conditionMet(obj: KubeObject | undefined, cond: WaitFor): boolean {
  if (cond.type === 'delete') return obj === undefined;
  if (!obj) return false;
  if (cond.type === 'condition') {
    const conditions = (obj.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? [];
    // Names and statuses compare without case, as kubectl compares them.
    const c = conditions.find((x) => x.type?.toLowerCase() === cond.name.toLowerCase());
    return !!c && (c.status ?? '').toLowerCase() === cond.status.toLowerCase();
  }
  const values = findResults(cond.path, obj);
  if (cond.value === undefined) return values.length > 0 && values[0] !== null && values[0] !== '';
  if (values.length > 1) throw new WaitError(`given jsonpath expression matches more than one value: ${cond.path}`);
  if (values.length === 0) return false;
  const v = values[0];
  if (v !== null && typeof v === 'object') throw new WaitError(`jsonpath leads to a nested object or list which is not supported: ${cond.path}`);
  return String(v) === cond.value;
}
