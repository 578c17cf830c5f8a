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
