import * as Errors from '@oclif/core/errors';

/** `--label a=b --label c=d` -> { a: 'b', c: 'd' }; the server validates keys and values. */
export function parseLabelFlags(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Errors.CLIError(`label ${JSON.stringify(pair)} must be key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
