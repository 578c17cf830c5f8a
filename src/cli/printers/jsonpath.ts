// kubectl's JSONPath templates (`-o jsonpath=...`, custom columns, --sort-by,
// `kcs wait --for=jsonpath=`): text with actions in braces, `{.path}`,
// `{"literal"}`, `{range .items[*]}...{end}`. The template layer (braces,
// range/end, how results print) is kubectl's and lives here; each path is
// evaluated by jsonpath-plus, with filters (`[?(@.status.phase=="Running")]`)
// read with kubectl's rules rather than as JavaScript: a field the item lacks
// makes the filter false, not an error.
import { JSONPath } from 'jsonpath-plus';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TemplateNode =
  | { type: 'text'; text: string }
  | { type: 'path'; expr: string }
  | { type: 'range'; expr: string; body: TemplateNode[] };

/** Splits a template into text and actions; range/end nest as kubectl's parser nests them. */
export function parseTemplate(template: string): TemplateNode[] {
  const root: TemplateNode[] = [];
  const stack: Array<{ body: TemplateNode[] }> = [{ body: root }];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1].body.push({ type: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1].body.push({ type: 'text', text: template.slice(i, open) });
    const close = closingBrace(template, open);
    if (close < 0) throw new TemplateError(`unclosed action in template ${JSON.stringify(template)}`);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    const top = stack[stack.length - 1].body;
    if (action === 'end') {
      if (stack.length === 1) throw new TemplateError('not in range, nothing to end');
      stack.pop();
    } else if (/^range\s/.test(action)) {
      const node: TemplateNode = { type: 'range', expr: action.slice(5).trim(), body: [] };
      top.push(node);
      stack.push(node);
    } else if (action.startsWith('"')) {
      try {
        top.push({ type: 'text', text: JSON.parse(action) as string });
      } catch {
        throw new TemplateError(`invalid string literal ${action}`);
      }
    } else if (action === '') {
      throw new TemplateError('empty action {} in template');
    } else {
      top.push({ type: 'path', expr: action });
    }
  }
  if (stack.length > 1) throw new TemplateError('a {range} is not closed by {end}');
  return root;
}

/** The index of the `}` that closes the action opened at `open`, skipping quoted text and brackets. */
function closingBrace(text: string, open: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === '}' && depth <= 0) return i;
  }
  return -1;
}

export interface ExecuteOptions {
  /** kubectl's jsonpath-as-json: every result as one indented JSON array. */
  asJson?: boolean;
}

/** Runs a parsed template over data, as `kubectl get -o jsonpath` prints it (missing fields print nothing). */
export function executeTemplate(nodes: TemplateNode[], data: unknown, opts: ExecuteOptions = {}): string {
  if (opts.asJson) {
    const results: unknown[] = [];
    const collect = (list: TemplateNode[], current: unknown) => {
      for (const n of list) {
        if (n.type === 'path') results.push(...findResults(n.expr, current, data));
        else if (n.type === 'range') for (const item of findResults(n.expr, current, data)) collect(n.body, item);
      }
    };
    collect(nodes, data);
    return JSON.stringify(results, null, 4);
  }
  let out = '';
  const run = (list: TemplateNode[], current: unknown) => {
    for (const n of list) {
      if (n.type === 'text') out += n.text;
      else if (n.type === 'path') out += findResults(n.expr, current, data).map(printResult).join(' ');
      else for (const item of findResults(n.expr, current, data)) run(n.body, item);
    }
  };
  run(nodes, data);
  return out;
}

/** One result as kubectl prints it: strings bare, maps and lists as compact JSON, the rest as Go prints them. */
function printResult(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'object') return JSON.stringify(sortedKeys(value));
  return String(value);
}

/** Go's encoding/json writes map keys in sorted order; kubectl's output does too. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
}

/**
 * The values one path expression selects: `.a.b` and `@.a` from the current
 * item (the range's, or the data), `$.a` from the data's root. kubectl's
 * `[*]`, slices, unions, `..` and filters all carry over to jsonpath-plus.
 */
export function findResults(expr: string, current: unknown, root: unknown = current): unknown[] {
  const text = expr.trim();
  let path: string;
  let json = current;
  if (text.startsWith('$')) {
    path = text;
    json = root;
  } else if (text.startsWith('@')) path = '$' + text.slice(1);
  else if (text.startsWith('.') || text.startsWith('[')) path = '$' + text;
  else throw new TemplateError(`unrecognized identifier ${text.split(/[.[]/)[0]}: a path starts with "."`);
  path = bracketEscapedNames(path);
  if (json === null || typeof json !== 'object') return path === '$' ? [json] : [];
  try {
    return JSONPath({ path, json: json as object, wrap: true, eval: filter }) as unknown[];
  } catch (err) {
    throw new TemplateError(`error executing jsonpath ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

/**
 * kubectl lets a dotted name escape its dots (`.metadata.labels.app\\.kubernetes\\.io/name`);
 * jsonpath-plus wants such a name in brackets: `['app.kubernetes.io/name']`.
 */
export function bracketEscapedNames(path: string): string {
  if (!path.includes('\\.')) return path;
  let out = '';
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    if (c !== '.' || depth > 0 || path[i + 1] === '.') {
      out += c;
      continue;
    }
    let name = '';
    let j = i + 1;
    for (; j < path.length && path[j] !== '.' && path[j] !== '['; j++) {
      if (path[j] === '\\' && path[j + 1] === '.') { name += '.'; j++; } else name += path[j];
    }
    out += name.includes('.') ? `['${name.replace(/'/g, "\\'")}']` : `.${name}`;
    i = j - 1;
  }
  return out;
}

/** kubectl's RelaxedJSONPathExpression: `.a.b`, `a.b`, `{.a.b}` all mean the path `.a.b`. */
export function relaxedPath(expr: string): string {
  const m = /^\{?(\.?[^{}]+)\}?$/.exec(expr.trim());
  if (!m) throw new TemplateError(`unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}': ${expr}`);
  const path = m[1];
  return path.startsWith('.') || path.startsWith('$') || path.startsWith('[') ? path : `.${path}`;
}

// ---- filters ---------------------------------------------------------------

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

/**
 * jsonpath-plus hands a filter's text with `@` spelt `_$_v` (and `$` as
 * `_$_root`); kubectl's filters are `left op right` or a bare path that must
 * exist, each operand a path or a literal.
 */
function filter(code: string, context: Record<string, unknown>): boolean {
  const { left, op, right } = splitComparison(code);
  const l = operand(left, context);
  if (!op) return l.found && l.value !== false && l.value !== null;
  const r = operand(right!, context);
  if (!l.found || !r.found) return false;
  return compare(l.value, op, r.value);
}

function splitComparison(code: string): { left: string; op?: Operator; right?: string } {
  let quote: string | undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; continue; }
    const op = OPERATORS.find((o) => code.startsWith(o, i));
    if (op) return { left: code.slice(0, i).trim(), op, right: code.slice(i + op.length).trim() };
  }
  return { left: code.trim() };
}

function operand(text: string, context: Record<string, unknown>): { found: boolean; value?: unknown } {
  for (const [prefix, at] of [['_$_v', '_$_v'], ['_$_root', '_$_root'], ['@', '_$_v'], ['$', '_$_root']] as const) {
    if (text === prefix || text.startsWith(prefix + '.') || text.startsWith(prefix + '[')) {
      const results = findResults('$' + text.slice(prefix.length), context[at]);
      return results.length ? { found: true, value: results[0] } : { found: false };
    }
  }
  if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return { found: true, value: JSON.parse(text) };
  if (/^'(?:[^'\\]|\\.)*'$/.test(text)) return { found: true, value: text.slice(1, -1).replace(/\\(.)/g, '$1') };
  if (text === 'true' || text === 'false') return { found: true, value: text === 'true' };
  if (text === 'null') return { found: true, value: null };
  const n = Number(text);
  if (text !== '' && Number.isFinite(n)) return { found: true, value: n };
  throw new TemplateError(`unrecognized filter operand ${JSON.stringify(text)}`);
}

function compare(a: unknown, op: Operator, b: unknown): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    default: {
      // Ordering only between two numbers or two strings, as kubectl's template.less.
      if (!(typeof a === 'number' && typeof b === 'number') && !(typeof a === 'string' && typeof b === 'string')) return false;
      if (op === '<') return a < b;
      if (op === '>') return a > b;
      if (op === '<=') return a <= b;
      return a >= b;
    }
  }
}
