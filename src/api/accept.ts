// Content negotiation on the Accept header, the way the Kubernetes API server
// does it: clauses are tried in order of preference (q, then as listed) and
// the first one the endpoint can serve wins. A clause may ask for the object
// in another shape with `as`, `g` and `v` (kubectl asks for
// `application/json;as=Table;v=v1;g=meta.k8s.io`, then v1beta1, then plain
// JSON); a shape the endpoint cannot produce makes that clause unacceptable,
// not the request, and only when no clause is left is the answer 406.
// (The `negotiator` package Koa uses ranks a clause with parameters above
// one without, whatever the client's order: kubectl's order must win.)
import { errors } from './errors.ts';

export interface MediaClause {
  type: string;
  subtype: string;
  params: Record<string, string>;
  q: number;
}

/** A conversion a clause asks for (`as`, `g`, `v`), e.g. meta.k8s.io/v1 Table. */
export interface Conversion {
  group: string;
  version: string;
  kind: string;
}

/** The Accept header's clauses, most preferred first (stable for equal q). */
export function parseAccept(header: string | undefined): MediaClause[] {
  if (!header) return [];
  const clauses: MediaClause[] = [];
  for (const part of header.split(',')) {
    const [range, ...rawParams] = part.split(';');
    const [type = '', subtype = ''] = (range ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') q = Number(value);
      else params[key] = value;
    }
    if (!(q > 0)) continue;
    clauses.push({ type, subtype, params, q });
  }
  return clauses.map((c, i) => ({ c, i })).sort((a, b) => b.c.q - a.c.q || a.i - b.i).map(({ c }) => c);
}

/** Whether the clause's media range takes JSON (application/json, or a wildcard over it). */
export function acceptsJson(clause: MediaClause): boolean {
  return (clause.type === 'application' || clause.type === '*') && (clause.subtype === 'json' || clause.subtype === '*');
}

/** The conversion a clause asks for, if any (`as` set). */
export function conversionOf(clause: MediaClause): Conversion | undefined {
  const kind = clause.params.as;
  if (kind === undefined) return undefined;
  return { group: clause.params.g ?? '', version: clause.params.v ?? '', kind };
}

/**
 * Picks the first clause the endpoint serves: `choose` returns what to serve
 * for a JSON clause (its conversion, or undefined for none), or null when it
 * cannot serve that conversion. No Accept header, or one that lists nothing,
 * takes plain JSON; a header where no clause can be served is 406.
 */
export function negotiate<T>(header: string | undefined, plain: T, choose: (conversion: Conversion) => T | null): T {
  const clauses = parseAccept(header);
  if (clauses.length === 0) return plain;
  for (const clause of clauses) {
    if (!acceptsJson(clause)) continue;
    const conversion = conversionOf(clause);
    if (!conversion) return plain;
    const chosen = choose(conversion);
    if (chosen !== null) return chosen;
  }
  throw errors.notAcceptable(['application/json']);
}

/** Kubernetes' group of meta types (Table, PartialObjectMetadata) and the versions they exist in. */
export const META_GROUP = 'meta.k8s.io';
export const META_VERSIONS = ['v1', 'v1beta1'] as const;
export type MetaVersion = (typeof META_VERSIONS)[number];

export function isMetaVersion(c: Conversion): c is Conversion & { version: MetaVersion } {
  return c.group === META_GROUP && (META_VERSIONS as readonly string[]).includes(c.version);
}
