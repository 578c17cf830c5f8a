// Server-side printing, as Kubernetes serves it to kubectl: a meta.k8s.io
// Table whose columns are exactly those `kcs get` prints (objects/columns.ts),
// the `-o wide` ones at priority 1, and whose rows carry the object as asked
// by includeObject: None, Metadata (a PartialObjectMetadata: what kubectl
// needs for -A's NAMESPACE and --show-labels; the default) or Object (the
// whole object: kubectl asks for it with --sort-by). Computed only when a
// client asks for it: plain JSON reads never come here.
import { columnsFor, type Column } from '../objects/columns.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList } from '../objects/types.ts';
import { META_GROUP, type MetaVersion } from './accept.ts';
import { errors } from './errors.ts';

export const INCLUDE_OBJECT = ['Metadata', 'None', 'Object'] as const;
export type IncludeObject = (typeof INCLUDE_OBJECT)[number];

export interface TableOptions {
  version: MetaVersion;
  includeObject: IncludeObject;
}

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: ObjectList['metadata'];
  columnDefinitions?: TableColumnDefinition[];
  rows: TableRow[];
}

/** The `includeObject` query parameter, checked as Kubernetes checks TableOptions (unset means Metadata). */
export function tableOptions(version: MetaVersion, includeObject: string | undefined): TableOptions {
  if (includeObject === undefined || includeObject === '') return { version, includeObject: 'Metadata' };
  if (!(INCLUDE_OBJECT as readonly string[]).includes(includeObject)) {
    throw errors.badRequest(`Unable to convert to Table as requested: includeObject: Unsupported value: ${JSON.stringify(includeObject)}: supported values: ${INCLUDE_OBJECT.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return { version, includeObject: includeObject as IncludeObject };
}

/** What each column means, for clients that show it (kubectl does not print it). */
const DESCRIPTIONS: Record<string, string> = {
  NAME: 'The name of the object, unique within its namespace (or the cluster, for cluster-scoped kinds).',
  AGE: 'How long ago the object was created (metadata.creationTimestamp).',
  STATUS: 'The state a person reads first: Ready/NotReady (and SchedulingDisabled) for a node, the phase or a waiting reason for a pod.',
  READY: 'Containers ready of containers declared.',
  RESTARTS: 'Restarts of the containers, summed, with how long ago the last was.',
  CPU: 'CPU: a node\'s capacity, or what a pod requests.',
  MEMORY: 'Memory: a node\'s capacity, or what a pod requests.',
  PODS: 'Pods bound to the node, of the most it takes.',
  NODE: 'The node the pod is bound to.',
  'CPU-ALLOCATED': 'CPU the pods bound to the node request.',
  'MEMORY-ALLOCATED': 'Memory the pods bound to the node request.',
  CONTAINER: 'The container that runs the node\'s machine.',
  SOURCE: 'The file a GitOps sync applied the object from (its kcs.io/source annotation).',
  LABELS: 'The object\'s labels.',
  UID: 'The object\'s unique identifier (metadata.uid).',
  HOLDER: 'Who holds the lease.',
  RENEWED: 'How long ago the lease was last renewed.',
  'LAST SEEN': 'How long ago the event last happened.',
  TYPE: 'Normal or Warning.',
  REASON: 'Why the event happened, in one word.',
  OBJECT: 'The object the event is about.',
  COUNT: 'How many times the event happened.',
  MESSAGE: 'What happened, for a person.',
};

const ACRONYMS = new Set(['CPU', 'UID', 'IP']);

/** Kubernetes names columns in title case ("Last Seen"); kubectl prints them upper-cased, which gives back kcs get's header. */
function columnName(header: string): string {
  return header.replace(/[A-Z]+/g, (w) => (ACRONYMS.has(w) ? w : w[0] + w.slice(1).toLowerCase()));
}

function definition(c: Column): TableColumnDefinition {
  return {
    name: columnName(c.header),
    type: 'string',
    // kubectl finds the name column by this format (--show-kind prefixes it).
    format: c.header === 'NAME' ? 'name' : '',
    description: DESCRIPTIONS[c.header] ?? '',
    priority: c.wide ? 1 : 0,
  };
}

/** The kind's columns, normal then wide, as `kcs get -o wide` prints them (kubectl adds NAMESPACE itself for -A). */
export function tableColumns(kind: KindInfo): Column[] {
  return columnsFor(kind.kind, { wide: true, allNamespaces: false });
}

export function columnDefinitions(kind: KindInfo): TableColumnDefinition[] {
  return tableColumns(kind).map(definition);
}

/** The object's metadata alone, as Kubernetes' PartialObjectMetadata. */
export function partialObjectMetadata(obj: KubeObject, version: MetaVersion): { kind: 'PartialObjectMetadata'; apiVersion: string; metadata: KubeObject['metadata'] } {
  return { kind: 'PartialObjectMetadata', apiVersion: `${META_GROUP}/${version}`, metadata: obj.metadata };
}

function row(columns: Column[], obj: KubeObject, opts: TableOptions, now: Date): TableRow {
  const cells = columns.map((c) => c.value(obj, now));
  switch (opts.includeObject) {
    case 'None': return { cells };
    case 'Object': return { cells, object: obj };
    default: return { cells, object: partialObjectMetadata(obj, opts.version) };
  }
}

/**
 * A Table of the objects. `headers: false` leaves the column definitions
 * out, as Kubernetes does after the first event of a watch (kubectl keeps
 * those it was sent first).
 */
export function toTable(kind: KindInfo, objects: readonly KubeObject[], metadata: ObjectList['metadata'], opts: TableOptions, now: Date, headers = true): Table {
  const columns = tableColumns(kind);
  return {
    kind: 'Table',
    apiVersion: `${META_GROUP}/${opts.version}`,
    metadata,
    ...(headers ? { columnDefinitions: columns.map(definition) } : {}),
    rows: objects.map((o) => row(columns, o, opts, now)),
  };
}
