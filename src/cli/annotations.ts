// `kcs annotate`'s rules, kept apart from the command so they are tested
// without a server: how the arguments split into objects and changes, and
// kubectl's --overwrite check.

export interface AnnotationChanges {
  /** key -> value to set. */
  set: Record<string, string>;
  /** keys to remove (`key-`). */
  remove: string[];
}

export class AnnotateError extends Error {
  override name = 'AnnotateError';
}

/** An argument that changes an annotation (`k=v` or `k-`), not an object name. */
export function isChange(arg: string): boolean {
  return arg.includes('=') || (arg.endsWith('-') && arg.length > 1);
}

/** `a=1 b= c-` -> set {a: '1', b: ''}, remove [c]; as kubectl, a key both set and removed is refused. */
export function parseChanges(args: string[]): AnnotationChanges {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq === 0) throw new AnnotateError(`invalid annotation format: ${arg}`);
    if (eq > 0) set[arg.slice(0, eq)] = arg.slice(eq + 1);
    else if (arg.endsWith('-') && arg.length > 1) remove.push(arg.slice(0, -1));
    else throw new AnnotateError(`invalid annotation format: ${arg} (want key=value to set, key- to remove)`);
  }
  const both = remove.filter((k) => k in set);
  if (both.length) throw new AnnotateError(`can not both modify and remove the following annotation(s) in the same command: ${both.join(', ')}`);
  if (!Object.keys(set).length && !remove.length) throw new AnnotateError('at least one annotation update is required (key=value or key-)');
  return { set, remove };
}

/**
 * kubectl's rule: without --overwrite an annotation that has a value may not
 * be given another. undefined when allowed, otherwise the message.
 */
export function overwriteRefusal(current: Record<string, string> | undefined, changes: AnnotationChanges, overwrite: boolean): string | undefined {
  if (overwrite) return undefined;
  const clashes = Object.entries(changes.set).filter(([k, v]) => current?.[k] !== undefined && current[k] !== v).map(([k]) => `'${k}' already has a value (${current![k]})`);
  return clashes.length ? `--overwrite is false but found the following declared annotation(s): ${clashes.join(', ')}` : undefined;
}

/** The merge patch: values to set, null for keys to remove. */
export function annotationPatch(changes: AnnotationChanges, resourceVersion?: string): { metadata: { annotations: Record<string, string | null>; resourceVersion?: string } } {
  const annotations: Record<string, string | null> = { ...changes.set };
  for (const k of changes.remove) annotations[k] = null;
  return { metadata: { annotations, ...(resourceVersion ? { resourceVersion } : {}) } };
}
