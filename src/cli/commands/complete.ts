import { Command } from '@oclif/core/command';
import type { CommandInfo } from '../completion.ts';

/** How long completion may wait for the server before offering nothing. */
const SERVER_TIMEOUT_MS = 1500;

/** Answers the completion scripts: `kcs __complete WORD... CURRENT` prints the candidates, one a line. */
export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Completion candidates for the words given (used by the scripts of kcs completion).';

  async run(): Promise<string[]> {
    const { complete, startingWith } = await import('../completion.ts');
    const argv = this.argv;
    const current = argv.length ? argv[argv.length - 1] : '';
    const words = argv.slice(0, -1);
    const commands: CommandInfo[] = this.config.commands.map((c) => ({
      id: c.id,
      hidden: c.hidden,
      flags: Object.fromEntries(Object.entries(c.flags ?? {}).map(([name, f]) => [name, { char: f.char, type: f.type, options: f.type === 'option' ? f.options : undefined }])),
    }));
    const what = complete(words, current, commands);
    let candidates: string[];
    if ('words' in what) candidates = what.words;
    else {
      candidates = [];
      try {
        // Silent and quick: a completion that waits on a server that is not there is worse than none.
        const { Client } = await import('../../client/http.ts');
        const { resolveClientConfig } = await import('../../config.ts');
        const client = new Client({ ...resolveClientConfig({}), timeoutMs: SERVER_TIMEOUT_MS });
        try {
          const list = await client.list(what.objectsOf, what.objectsOf.namespaced ? (what.namespace ?? 'default') : undefined);
          const names = list.items.map((o) => o.metadata.name!);
          const prefixed = what.prefix?.includes('/') ? names.map((n) => `${what.prefix!.slice(0, what.prefix!.indexOf('/'))}/${n}`) : names;
          candidates = startingWith(prefixed, current);
        } finally {
          client.close();
        }
      } catch {
        candidates = [];
      }
    }
    if (candidates.length) this.log(candidates.join('\n'));
    return candidates;
  }
}
