// Prints objects as -o table|wide|yaml|json|name. The data is the same in
// every format; only the rendering differs.
import type { KindInfo } from '../../objects/kinds.ts';
import type { KubeObject } from '../../objects/types.ts';
import { columnsFor } from '../../objects/columns.ts';
import { renderTable, StreamingTable } from './table.ts';

export const OUTPUT_FORMATS = ['wide', 'yaml', 'json', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | undefined;

export interface PrintOptions {
  output: OutputFormat;
  allNamespaces: boolean;
  noHeaders?: boolean;
  now?: Date;
  /** Keep metadata.managedFields in yaml and json (kubectl's --show-managed-fields); hidden by default, as kubectl hides them. */
  showManagedFields?: boolean;
}

export async function formatObjects(kind: KindInfo, objects: KubeObject[], opts: PrintOptions, asList: boolean): Promise<string> {
  if ((opts.output === 'json' || opts.output === 'yaml') && !opts.showManagedFields) objects = objects.map(withoutManagedFields);
  switch (opts.output) {
    case 'json':
      return JSON.stringify(asList ? toList(objects) : objects[0], null, 4);
    case 'yaml': {
      const { stringify } = await import('yaml');
      return stringify(asList ? toList(objects) : objects[0]).trimEnd();
    }
    case 'name':
      return objects.map((o) => `${kind.singular}/${o.metadata.name}`).join('\n');
    default: {
      const cols = columnsFor(kind.kind, { wide: opts.output === 'wide', allNamespaces: opts.allNamespaces });
      const now = opts.now ?? new Date();
      return renderTable(cols.map((c) => c.header), objects.map((o) => cols.map((c) => c.value(o, now))), { noHeaders: opts.noHeaders });
    }
  }
}

/** Row-by-row printing for `get -w`, aligned with the table printed first. */
export function watchPrinter(kind: KindInfo, initial: KubeObject[], opts: PrintOptions): (obj: KubeObject) => Promise<string> {
  if (opts.output && opts.output !== 'wide') return (obj) => formatObjects(kind, [obj], opts, false);
  const cols = columnsFor(kind.kind, { wide: opts.output === 'wide', allNamespaces: opts.allNamespaces });
  const cells = (o: KubeObject) => cols.map((c) => c.value(o, new Date()));
  const table = new StreamingTable(cols.map((c) => c.header), initial.map(cells));
  return async (obj) => table.row(cells(obj));
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _hidden, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function toList(items: KubeObject[]) {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}
