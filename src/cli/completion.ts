// Shell completion: the scripts `kcs completion bash|zsh|fish` prints, and
// what the hidden `kcs __complete WORD... CURRENT` answers them with. The
// scripts hold no knowledge of kcs: every candidate comes from the command
// table (commands, flags), the kind table (types) and, for object names, the
// server (asked with a short timeout; silence when it does not answer).
import { KINDS, kindByAlias, type KindInfo } from '../objects/kinds.ts';

export type Shell = 'bash' | 'zsh' | 'fish';

export function completionScript(shell: Shell, bin: string): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  switch (shell) {
    case 'bash':
      return [
        `# ${bin} completion for bash. Load it in this shell with: source <(${bin} completion bash)`,
        `${fn}() {`,
        '  local cur="${COMP_WORDS[COMP_CWORD]}"',
        "  local IFS=$'\\n'",
        `  COMPREPLY=( $(${bin} __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) )`,
        '}',
        `complete -o default -F ${fn} ${bin}`,
      ].join('\n');
    case 'zsh':
      return [
        `#compdef ${bin}`,
        `# ${bin} completion for zsh. Load it with: source <(${bin} completion zsh)  (after compinit)`,
        `${fn}() {`,
        '  local -a candidates',
        `  candidates=("\${(@f)$(${bin} __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")`,
        '  compadd -- "${candidates[@]}"',
        '}',
        `compdef ${fn} ${bin}`,
      ].join('\n');
    case 'fish':
      return [
        `# ${bin} completion for fish. Load it with: ${bin} completion fish | source`,
        `complete -c ${bin} -f -a '(${bin} __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'`,
      ].join('\n');
  }
}

export interface CommandInfo {
  /** oclif's id: `get`, `create:node`, `config:view`. */
  id: string;
  hidden?: boolean;
  flags: Record<string, { char?: string; type: 'boolean' | 'option'; options?: readonly string[] }>;
}

/** Commands whose first argument is a type and whose next ones are names of that type. */
const TYPE_THEN_NAMES = new Set(['get', 'describe', 'delete', 'edit', 'label', 'annotate', 'wait', 'explain']);
/** Commands whose arguments are node names. */
const NODE_NAMES = new Set(['cordon', 'uncordon', 'drain']);

/** What to complete: a fixed list, or names of objects that only the server knows. */
export type Completion = { words: string[] } | { objectsOf: KindInfo; namespace?: string; prefix?: string };

/** Works out what the current word can be, from the words before it. */
export function complete(words: string[], current: string, commands: CommandInfo[]): Completion {
  const visible = commands.filter((c) => !c.hidden);
  // The longest command id the words spell (`create node` -> create:node).
  let command: CommandInfo | undefined;
  let used = 0;
  for (let n = words.length; n > 0 && !command; n--) {
    const id = words.slice(0, n).join(':');
    command = visible.find((c) => c.id === id);
    if (command) used = n;
  }
  if (!command) {
    const topic = words.join(':');
    const next = new Set(visible.filter((c) => (topic ? c.id.startsWith(topic + ':') : true)).map((c) => c.id.split(':')[words.length]).filter(Boolean));
    return { words: startingWith([...next].sort(), current) };
  }
  const flags = command.flags;
  const prev = words[words.length - 1];
  const prevFlag = prev?.startsWith('-') ? Object.entries(flags).find(([name, f]) => prev === `--${name}` || (f.char && prev === `-${f.char}`)) : undefined;
  if (prevFlag && prevFlag[1].type === 'option' && used < words.length) {
    // -n NAMESPACE: the namespaces the server has, once it serves them as objects.
    const namespaces = prevFlag[0] === 'namespace' ? kindByAlias('namespace') : undefined;
    if (namespaces) return { objectsOf: namespaces };
    return { words: startingWith([...(prevFlag[1].options ?? [])], current) };
  }
  if (current.startsWith('-')) {
    const all = Object.entries(flags).flatMap(([name, f]) => [`--${name}`, ...(f.char ? [`-${f.char}`] : [])]);
    return { words: startingWith(all.sort(), current) };
  }
  const positional = positionals(words.slice(used), flags);
  const namespace = namespaceOf(words);
  const id = command.id;
  if (NODE_NAMES.has(id)) return { objectsOf: kindByAlias('node')!, prefix: current };
  if (!TYPE_THEN_NAMES.has(id)) return { words: [] };
  if (current.includes('/')) {
    const kind = kindByAlias(current.slice(0, current.indexOf('/')));
    return kind ? { objectsOf: kind, namespace, prefix: current } : { words: [] };
  }
  if (positional.length === 0) return { words: startingWith(kindWords(), current) };
  const kind = kindByAlias(positional[0]);
  return kind ? { objectsOf: kind, namespace } : { words: [] };
}

/** The words that are not flags or flag values. */
function positionals(words: string[], flags: CommandInfo['flags']): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('-')) {
      const f = Object.entries(flags).find(([name, x]) => w === `--${name}` || (x.char && w === `-${x.char}`));
      if (f && f[1].type === 'option' && !w.includes('=')) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

function namespaceOf(words: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-n' || words[i] === '--namespace') return words[i + 1];
    if (words[i].startsWith('--namespace=')) return words[i].slice('--namespace='.length);
  }
  return undefined;
}

function kindWords(): string[] {
  const words = new Set<string>();
  for (const k of KINDS) {
    words.add(k.plural);
    words.add(k.singular);
    for (const s of k.shortNames) words.add(s);
    for (const c of k.categories) words.add(c);
  }
  return [...words].sort();
}

export function startingWith(words: string[], prefix: string): string[] {
  return words.filter((w) => w.startsWith(prefix));
}
