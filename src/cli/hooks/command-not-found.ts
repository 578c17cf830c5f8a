// oclif's command_not_found hook: a mistyped command gets kubectl's answer,
// the nearest command names by edit distance, and a non-zero exit.
import * as Errors from '@oclif/core/errors';
import type { Hook } from '@oclif/core/hooks';
import { distance } from 'fastest-levenshtein';

/** kubectl (cobra) suggests commands within this many edits. */
const MAX_DISTANCE = 2;

/** Command names (as typed, `create node`) nearest to what was typed, best first. */
export function suggestCommands(typed: string, commands: string[]): string[] {
  const scored = commands
    .map((c) => ({ c, d: Math.min(distance(typed, c), distance(typed, c.split(' ')[0])) }))
    .filter((x) => x.d <= MAX_DISTANCE || x.c.startsWith(typed))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return [...new Set(scored.map((x) => x.c.split(' ')[0]))];
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = opts.id.split(':')[0];
  const visible = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  const suggestions = suggestCommands(typed, visible);
  const lines = [`error: unknown command "${typed}" for "${opts.config.bin}"`];
  if (suggestions.length === 1) lines.push('', `Did you mean "${suggestions[0]}"?`);
  else if (suggestions.length > 1) lines.push('', 'Did you mean one of these?', ...suggestions.map((s) => `\t${s}`));
  lines.push('', `Run '${opts.config.bin} --help' for usage.`);
  // Printed as kubectl prints it, then a bare exit: oclif's error box would wrap and prefix every line.
  process.stderr.write(lines.join('\n') + '\n');
  throw new Errors.ExitError(1);
};

export default hook;
