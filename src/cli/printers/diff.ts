// `kcs diff`'s rendering, as kubectl diff shows it: each object as YAML under
// a name like kubectl's temp files (LIVE/v1.Pod.default.web,
// MERGED/v1.Pod.default.web), compared with `diff -u -N`: an object that
// does not exist yet is diffed against an empty file. managedFields are left
// out, as kubectl leaves them out.
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { KindInfo } from '../../objects/kinds.ts';
import type { KubeObject } from '../../objects/types.ts';

/** kubectl's file name for an object: group.version.Kind[.namespace].name. */
export function diffFileName(kind: KindInfo, obj: KubeObject): string {
  const gv = kind.group ? `${kind.group}.${kind.version}` : kind.version;
  return [gv, kind.kind, ...(kind.namespaced && obj.metadata.namespace ? [obj.metadata.namespace] : []), obj.metadata.name].join('.');
}

function asYaml(obj: KubeObject | undefined): string {
  if (!obj) return '';
  const copy = structuredClone(obj);
  delete (copy.metadata as { managedFields?: unknown }).managedFields;
  return stringify(copy);
}

/** The unified diff from live to merged, or '' when they are the same. */
export function objectDiff(kind: KindInfo, live: KubeObject | undefined, merged: KubeObject): string {
  const before = asYaml(live);
  const after = asYaml(merged);
  if (before === after) return '';
  const name = diffFileName(kind, merged);
  const patch = createTwoFilesPatch(`LIVE/${name}`, `MERGED/${name}`, before, after);
  // The library's first line is a separator of its own; kubectl shows the diff command instead.
  return `diff -u -N LIVE/${name} MERGED/${name}\n${patch.replace(/^=+\n/, '')}`;
}
