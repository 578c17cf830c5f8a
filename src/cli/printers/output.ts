// Prints objects as -o table|wide|yaml|json|name|jsonpath=...|custom-columns=...
// The data is the same in every format; only the rendering differs. The
// template printers load lazily, so a plain `kcs get` never pays for them.
import type { KindInfo } from '../../objects/kinds.ts';
import type { KubeObject } from '../../objects/types.ts';
import { columnsFor } from '../../objects/columns.ts';
import { renderTable, StreamingTable } from './table.ts';

export const OUTPUT_FORMATS = ['wide', 'yaml', 'json', 'name'] as const;
/** Formats that carry an argument after `=`, as kubectl's -o accepts them. */
export const TEMPLATE_FORMATS = ['jsonpath', 'jsonpath-file', 'jsonpath-as-json', 'custom-columns', 'custom-columns-file'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | undefined;
type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

/** What `-o` asked for: a plain format, or a template format with its argument (file formats already read). */
export type OutputSpec =
  | { format: OutputFormat }
  | { format: 'jsonpath'; template: string; asJson?: boolean }
  | { format: 'custom-columns'; spec: string; fromFile?: boolean };

export class OutputError extends Error {
  override name = 'OutputError';
}

/** `-o` as kubectl reads it; files named by the *-file formats are read here. */
export async function parseOutput(text: string | undefined): Promise<OutputSpec> {
  if (text === undefined || text === '') return { format: undefined };
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return { format: text as OutputFormat };
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)) as TemplateFormat;
  if (!(TEMPLATE_FORMATS as readonly string[]).includes(name)) {
    throw new OutputError(`unable to match a printer suitable for the output format "${text}", allowed formats are: ${[...OUTPUT_FORMATS, ...TEMPLATE_FORMATS].sort().join(',')}`);
  }
  const arg = eq < 0 ? '' : text.slice(eq + 1);
  if (!arg) throw new OutputError(`${name} format specified but no ${name.endsWith('-file') ? 'file' : 'template'} given`);
  const file = async () => (await import('node:fs')).readFileSync(arg, 'utf8');
  switch (name) {
    case 'jsonpath': return { format: 'jsonpath', template: arg };
    case 'jsonpath-as-json': return { format: 'jsonpath', template: arg, asJson: true };
    case 'jsonpath-file': return { format: 'jsonpath', template: await file() };
    case 'custom-columns': return { format: 'custom-columns', spec: arg };
    default: return { format: 'custom-columns', spec: await file(), fromFile: true };
  }
}

export interface PrintOptions {
  output: OutputFormat | OutputSpec;
  allNamespaces: boolean;
  noHeaders?: boolean;
  now?: Date;
  /** Keep metadata.managedFields in yaml and json (kubectl's --show-managed-fields); hidden by default, as kubectl hides them. */
  showManagedFields?: boolean;
  /** Name objects `kind/name` in the NAME column, as kubectl does when it prints several kinds. */
  withKind?: boolean;
}

function specOf(output: PrintOptions['output']): OutputSpec {
  return typeof output === 'object' && output !== null ? output : { format: output };
}

/** kubectl's name for an object of a kind: `pod/web`, `lease.coordination.k8s.io/n1`. */
export function kindPrefix(kind: KindInfo): string {
  return kind.group ? `${kind.singular}.${kind.group}` : kind.singular;
}

export async function formatObjects(kind: KindInfo, objects: KubeObject[], opts: PrintOptions, asList: boolean): Promise<string> {
  const spec = specOf(opts.output);
  if ((spec.format === 'json' || spec.format === 'yaml') && !opts.showManagedFields) objects = objects.map(withoutManagedFields);
  switch (spec.format) {
    case 'json':
      return JSON.stringify(asList ? toList(objects) : objects[0], null, 4);
    case 'yaml': {
      const { stringify } = await import('yaml');
      return stringify(asList ? toList(objects) : objects[0]).trimEnd();
    }
    case 'name':
      return objects.map((o) => `${kind.singular}/${o.metadata.name}`).join('\n');
    case 'jsonpath': {
      const { executeTemplate, parseTemplate } = await import('./jsonpath.ts');
      return executeTemplate(parseTemplate(spec.template), asList ? toList(objects) : objects[0], { asJson: spec.asJson });
    }
    case 'custom-columns': {
      const { parseCustomColumns, parseCustomColumnsFile, renderCustomColumns } = await import('./custom-columns.ts');
      const columns = spec.fromFile ? parseCustomColumnsFile(spec.spec) : parseCustomColumns(spec.spec);
      return renderCustomColumns(columns, objects, { noHeaders: opts.noHeaders });
    }
    default: {
      const cols = columnsFor(kind.kind, { wide: spec.format === 'wide', allNamespaces: opts.allNamespaces });
      const now = opts.now ?? new Date();
      const prefix = opts.withKind ? `${kindPrefix(kind)}/` : '';
      const rows = objects.map((o) => cols.map((c) => (prefix && c.header === 'NAME' ? prefix + c.value(o, now) : c.value(o, now))));
      return renderTable(cols.map((c) => c.header), rows, { noHeaders: opts.noHeaders });
    }
  }
}

/** Whether the format is a table drawn from the kind's columns (and so says "No resources found" when empty). */
export function isTableFormat(output: PrintOptions['output']): boolean {
  const f = specOf(output).format;
  return f === undefined || f === 'wide';
}

/** Row-by-row printing for `get -w`, aligned with the table printed first. */
export function watchPrinter(kind: KindInfo, initial: KubeObject[], opts: PrintOptions): (obj: KubeObject) => Promise<string> {
  if (!isTableFormat(opts.output)) return (obj) => formatObjects(kind, [obj], opts, false);
  const cols = columnsFor(kind.kind, { wide: specOf(opts.output).format === 'wide', allNamespaces: opts.allNamespaces });
  const cells = (o: KubeObject) => cols.map((c) => c.value(o, new Date()));
  const table = new StreamingTable(cols.map((c) => c.header), initial.map(cells));
  return async (obj) => table.row(cells(obj));
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _hidden, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

export function toList(items: KubeObject[]) {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}
