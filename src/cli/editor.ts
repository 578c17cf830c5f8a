// What `kcs edit` shares with any command that hands a file to the user's
// editor: which editor (kubectl's order: $KUBE_EDITOR, $EDITOR, vi) and how
// it is started, and the text around the object (kubectl's header, errors as
// comments at the top, comment lines dropped on the way back).
import { spawnSync } from 'node:child_process';

/**
 * The editor as argv, read as kubectl reads it: a plain name or path runs as
 * is, words split on spaces, and a value with quotes or backslashes goes
 * through the shell ($SHELL -c), the file name appended.
 */
export function editorCommand(env: NodeJS.ProcessEnv, file: string): string[] {
  const editor = env.KUBE_EDITOR || env.EDITOR || 'vi';
  if (!editor.includes(' ')) return [editor, file];
  if (!/["'\\]/.test(editor)) return [...editor.split(' ').filter(Boolean), file];
  return [env.SHELL || '/bin/sh', '-c', `${editor} ${shellQuote(file)}`];
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs the editor on the file with this terminal; throws when it cannot start or fails. */
export function runEditor(file: string, env: NodeJS.ProcessEnv = process.env): void {
  const [cmd, ...args] = editorCommand(env, file);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error) throw new Error(`unable to launch the editor "${cmd}": ${r.error.message}`);
  if (r.status !== 0) throw new Error(`there was a problem with the editor "${cmd}" (exit ${r.status ?? r.signal})`);
}

export const EDIT_HEADER = [
  "# Please edit the object below. Lines beginning with a '#' will be ignored,",
  '# and an empty file will abort the edit. If an error occurs while saving this file will be',
  '# reopened with the relevant failures.',
  '#',
].join('\n');

/** The buffer the user sees: the header, then any problems (each a comment), then the object. */
export function editBuffer(body: string, problems: string[] = []): string {
  const notes = problems.length ? problems.flatMap((p) => p.split('\n')).map((l) => `# ${l}`.trimEnd()).join('\n') + '\n#\n' : '';
  return `${EDIT_HEADER}\n${notes}${body}`;
}

/** What the user saved, less the comment lines (kubectl ignores lines that begin with '#'). */
export function stripComments(text: string): string {
  return text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

/** The difference from `before` to `after` as a JSON merge patch (RFC 7386): what the user changed. */
export function mergePatchBetween(before: unknown, after: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(before) || !isMap(after)) return after;
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before)) patch[k] = v;
    else if (JSON.stringify(before[k]) !== JSON.stringify(v)) patch[k] = mergePatchBetween(before[k], v);
  }
  return patch;
}
