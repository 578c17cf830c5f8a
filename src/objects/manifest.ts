// Turns manifest text (YAML, multi-document YAML, or JSON) into plain JSON
// values, refusing what could hurt a server: alias bombs, deep nesting and
// `__proto__` keys. Used by the API for request bodies and by the CLI for files.
import { parseAllDocuments, type Document } from 'yaml';

export const MAX_DEPTH = 64;
const MAX_ALIASES = 100;

export class ManifestError extends Error {
  override name = 'ManifestError';
  /** 1-based line in the text, where known. */
  readonly line?: number;
  constructor(message: string, line?: number) {
    super(line ? `line ${line}: ${message}` : message);
    this.line = line;
  }
}

/** Parses every document in the text; JSON is valid YAML, so one path serves both. */
export function parseDocuments(text: string): unknown[] {
  if (looksLikeJson(text)) return [parseJson(text)];
  checkFlowDepth(text);
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true }) as Document.Parsed[];
  } catch (err) {
    throw new ManifestError(`invalid YAML: ${(err as Error).message}`);
  }
  if (!Array.isArray(docs)) docs = [docs as unknown as Document.Parsed];
  const values: unknown[] = [];
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) throw new ManifestError(`invalid YAML: ${firstLine(problem.message)}`, problem.linePos?.[0]?.line);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      throw new ManifestError(`invalid YAML: ${(err as Error).message}`, doc.range ? lineOf(text, doc.range[0]) : undefined);
    }
    if (value === null || value === undefined) continue; // an empty document between `---` lines
    checkPlainValue(value);
    values.push(value);
  }
  return values;
}

/** Parses a single JSON value with the same safety checks. */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`invalid JSON: ${(err as Error).message}`);
  }
  checkPlainValue(value);
  return value;
}

/**
 * The YAML parser recurses on `[` and `{`: a megabyte of them blocks the
 * server for seconds before failing. A linear pre-scan refuses such input at
 * once. Brackets inside quotes or comments may be overcounted, which can
 * only refuse a document nested close to the limit anyway.
 */
function checkFlowDepth(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > MAX_DEPTH) throw new ManifestError(`document nests deeper than ${MAX_DEPTH} levels`);
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
}

function looksLikeJson(text: string): boolean {
  const c = text.trimStart()[0];
  return c === '{' || c === '[';
}

/** The yaml library's message without the code excerpt it ends with. */
function firstLine(s: string): string {
  return s.split('\n')[0].replace(/:\s*$/, '');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Rejects values deeper than MAX_DEPTH, `__proto__` keys, and anything that
 * is not plain JSON data (NaN and Infinity from YAML's .nan/.inf are caught
 * later by the schema's quantity checks, which name the field). Iterative, so
 * a hostile depth cannot overflow the stack here.
 */
export function checkPlainValue(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) throw new ManifestError(`document nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (const v of value) stack.push([v, depth + 1]);
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new ManifestError('document contains a value that is not plain data');
    for (const key of Object.keys(value)) {
      if (key === '__proto__') throw new ManifestError('document contains the forbidden key "__proto__"');
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
}

/** A `kind: List` (as `kubectl get -o yaml` prints) stands for its items. */
export function flattenLists(values: unknown[]): unknown[] {
  return values.flatMap((v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) return o.items;
    }
    return [v];
  });
}
