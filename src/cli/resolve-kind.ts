import * as Errors from '@oclif/core/errors';
import { KINDS, kindByAlias, type KindInfo } from '../objects/kinds.ts';

/** `nodes`, `node`, `no`, `Node` -> the Node kind; anything else is a clear error. */
export function resolveKind(alias: string): KindInfo {
  const kind = kindByAlias(alias);
  if (!kind) {
    throw new Errors.CLIError(`the server doesn't have a resource type "${alias}"`, {
      suggestions: [`known types: ${KINDS.map((k) => k.plural).join(', ')}`],
    });
  }
  return kind;
}

/**
 * `pods,nodes` or a discovery category such as `all` (every kind whose
 * categories name it, as kubectl expands them) -> kinds, each once, in the
 * order given. A name that is a kind wins over a category of that name.
 */
export function resolveKinds(list: string): KindInfo[] {
  const kinds: KindInfo[] = [];
  for (const alias of list.split(',').filter(Boolean)) {
    const direct = kindByAlias(alias);
    const expanded = direct ? [direct] : KINDS.filter((k) => k.categories.includes(alias.toLowerCase()));
    if (!expanded.length) resolveKind(alias); // throws the error a single unknown type gets
    for (const k of expanded) if (!kinds.includes(k)) kinds.push(k);
  }
  if (!kinds.length) throw new Errors.CLIError('you must specify the type of resource to get');
  return kinds;
}
