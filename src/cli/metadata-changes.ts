// The rules `kcs label` and `kcs annotate` share, kept apart from the
// commands so they are tested without a server: how the arguments split into
// objects and changes, kubectl's --overwrite check (in each command's
// words), and the merge patch that makes the change.

/** The metadata map a command changes. */
export type MetadataMap = 'labels' | 'annotations';

const NOUN: Record<MetadataMap, string> = { labels: 'label', annotations: 'annotation' };

export interface MetadataChanges {
  /** key -> value to set. */
  set: Record<string, string>;
  /** keys to remove (`key-`). */
  remove: string[];
}

export class MetadataChangeError extends Error {
  override name = 'MetadataChangeError';
}

/** An argument that changes a label or annotation (`k=v` or `k-`), not an object name. */
export function isChange(arg: string): boolean {
  return arg.includes('=') || (arg.endsWith('-') && arg.length > 1);
}

/** `a=1 b= c-` -> set {a: '1', b: ''}, remove [c]; as kubectl, a key both set and removed is refused. */
export function parseChanges(args: string[], map: MetadataMap = 'annotations'): MetadataChanges {
  const noun = NOUN[map];
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq === 0) throw new MetadataChangeError(`invalid ${noun} format: ${arg}`);
    if (eq > 0) set[arg.slice(0, eq)] = arg.slice(eq + 1);
    else if (arg.endsWith('-') && arg.length > 1) remove.push(arg.slice(0, -1));
    else throw new MetadataChangeError(`invalid ${noun} format: ${arg} (want key=value to set, key- to remove)`);
  }
  const both = remove.filter((k) => k in set);
  if (both.length) throw new MetadataChangeError(`can not both modify and remove the following ${noun}(s) in the same command: ${both.join(', ')}`);
  if (!Object.keys(set).length && !remove.length) throw new MetadataChangeError(`at least one ${noun} update is required (key=value or key-)`);
  return { set, remove };
}

/**
 * kubectl's rule: without --overwrite a key that has a value may not be given
 * another. undefined when allowed, otherwise the message, worded as kubectl
 * label and kubectl annotate each word it.
 */
export function overwriteRefusal(current: Record<string, string> | undefined, changes: MetadataChanges, overwrite: boolean, map: MetadataMap = 'annotations'): string | undefined {
  if (overwrite) return undefined;
  const clashing = Object.entries(changes.set).filter(([k, v]) => current?.[k] !== undefined && current[k] !== v).map(([k]) => k);
  if (!clashing.length) return undefined;
  if (map === 'labels') return clashing.map((k) => `'${k}' already has a value (${current![k]}), and --overwrite is false`).join(', ');
  return `--overwrite is false but found the following declared annotation(s): ${clashing.map((k) => `'${k}' already has a value (${current![k]})`).join(', ')}`;
}

/** Whether applying the changes leaves the map as it was. */
export function changesNothing(current: Record<string, string> | undefined, changes: MetadataChanges): boolean {
  return Object.entries(changes.set).every(([k, v]) => current?.[k] === v) && changes.remove.every((k) => current?.[k] === undefined);
}

/** The merge patch: values to set, null for keys to remove. */
export function metadataPatch(map: MetadataMap, changes: MetadataChanges, resourceVersion?: string): { metadata: { [m in MetadataMap]?: Record<string, string | null> } & { resourceVersion?: string } } {
  const values: Record<string, string | null> = { ...changes.set };
  for (const k of changes.remove) values[k] = null;
  return { metadata: { [map]: values, ...(resourceVersion ? { resourceVersion } : {}) } };
}
