// The shape a read (get, list, watch) is answered in, chosen from the Accept
// header as Kubernetes chooses it: the objects as stored (the fast path,
// spliced from the cache's text), a meta.k8s.io Table (kubectl's printing),
// or the metadata alone (PartialObjectMetadata, client-go's metadata client).
import type { Context } from 'koa';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList } from '../objects/types.ts';
import { isMetaVersion, negotiate, type MetaVersion } from './accept.ts';
import { errors } from './errors.ts';
import type { EventView } from './registry.ts';
import { partialObjectMetadata, tableOptions, toTable, type TableOptions } from './table.ts';

export type Output =
  | { as: 'Object' }
  | { as: 'Table'; table: TableOptions }
  | { as: 'PartialObjectMetadata' | 'PartialObjectMetadataList'; version: MetaVersion };

const PLAIN: Output = { as: 'Object' };

/** What the request asks for; 406 when it accepts nothing this server writes, 400 for a bad includeObject. */
export function outputOf(ctx: Context): Output {
  const accept = ctx.get('accept');
  // What every kcs client and most others send: no parsing.
  if (accept === '' || accept === 'application/json' || accept === '*/*') return PLAIN;
  const output = negotiate<Output>(accept, PLAIN, (c) => {
    if (!isMetaVersion(c)) return null;
    if (c.kind === 'Table') return { as: 'Table', table: { version: c.version, includeObject: 'Metadata' } };
    if (c.kind === 'PartialObjectMetadata' || c.kind === 'PartialObjectMetadataList') return { as: c.kind, version: c.version };
    return null;
  });
  if (output.as === 'Table') {
    const raw = ctx.query.includeObject;
    return { as: 'Table', table: tableOptions(output.table.version, Array.isArray(raw) ? raw[0] : raw) };
  }
  return output;
}

/** One object in the shape asked for (a get). */
export function objectOutput(kind: KindInfo, obj: KubeObject, output: Output, now: Date): unknown {
  switch (output.as) {
    case 'Object': return obj;
    case 'Table': return toTable(kind, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, output.table, now);
    case 'PartialObjectMetadata': return partialObjectMetadata(obj, output.version);
    case 'PartialObjectMetadataList':
      throw errors.notAcceptableConversion(`you requested PartialObjectMetadataList, but the requested object is not a list (${kind.kind})`);
  }
}

/** A list in the shape asked for (never called for plain JSON, which is spliced from the cache's text). */
export function listOutput(kind: KindInfo, list: ObjectList, output: Exclude<Output, { as: 'Object' }>, now: Date): unknown {
  switch (output.as) {
    case 'Table': return toTable(kind, list.items, list.metadata, output.table, now);
    case 'PartialObjectMetadataList':
      return { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${output.version}`, metadata: list.metadata, items: list.items.map((o) => partialObjectMetadata(o, output.version)) };
    case 'PartialObjectMetadata':
      throw errors.notAcceptableConversion(`you requested PartialObjectMetadata, but the requested object is a list (${kind.listKind})`);
  }
}

/**
 * Encodes watch events in the shape asked for: each event's object becomes a
 * Table of one row (the column definitions in the first only, as Kubernetes
 * sends them) or its metadata. A BOOKMARK stays a revision with no rows.
 */
export function watchEncoder(kind: KindInfo, output: Exclude<Output, { as: 'Object' }>, now: () => Date): (type: string, view: EventView) => string {
  let headers = true;
  return (type, view) => {
    const obj = view.object();
    let object: unknown;
    if (output.as === 'Table') {
      const rows = type === 'BOOKMARK' ? [] : [obj];
      object = toTable(kind, rows, { resourceVersion: obj.metadata.resourceVersion ?? '' }, output.table, now(), headers);
      headers = false;
    } else {
      object = partialObjectMetadata(obj, output.version);
    }
    return JSON.stringify({ type, object });
  };
}
