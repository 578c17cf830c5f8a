// `-o custom-columns=HEADER:PATH,...` and `-o custom-columns-file=FILE`, as
// kubectl reads them: each path a relaxed JSONPath (`.spec.nodeName`,
// `spec.nodeName`, `{.spec.nodeName}`); a cell with no value is `<none>`,
// several values are joined by commas, each printed as Go's %v prints it.
import type { KubeObject } from '../../objects/types.ts';
import { findResults, relaxedPath, TemplateError } from './jsonpath.ts';
import { renderTable } from './table.ts';

export interface CustomColumn {
  header: string;
  path: string;
}

/** `NAME:.metadata.name,NODE:.spec.nodeName` -> columns. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (!spec) throw new TemplateError('custom-columns format specified but no custom columns given');
  return spec.split(',').map((part) => {
    const colon = part.indexOf(':');
    if (colon < 0) throw new TemplateError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return { header: part.slice(0, colon), path: relaxedPath(part.slice(colon + 1)) };
  });
}

/** A custom-columns file: a line of headers, then a line of paths, separated by whitespace. */
export function parseCustomColumnsFile(text: string): CustomColumn[] {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length !== 2) throw new TemplateError(`unexpected custom-columns file: want a line of headers and a line of paths, found ${lines.length} line(s)`);
  const headers = lines[0].split(/\s+/);
  const paths = lines[1].split(/\s+/);
  if (headers.length !== paths.length) throw new TemplateError(`expected ${headers.length} columns, got ${paths.length}`);
  return headers.map((header, i) => ({ header, path: relaxedPath(paths[i]) }));
}

export function renderCustomColumns(columns: CustomColumn[], objects: KubeObject[], opts: { noHeaders?: boolean } = {}): string {
  const rows = objects.map((obj) => columns.map((c) => {
    const values = findResults(c.path, obj);
    return values.length ? values.map(goValue).join(',') : '<none>';
  }));
  return renderTable(columns.map((c) => c.header), rows, opts);
}

/** A value as Go's fmt %v prints what kubectl decoded from JSON: map[k:v], [a b], <nil>. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${k}:${goValue((value as Record<string, unknown>)[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}
