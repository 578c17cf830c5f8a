import * as Flags from '@oclif/core/flags';
import { ClientError, ConnectionError } from '../../client/http.ts';
import { isNotFound } from '../../client/interface.ts';
import { DEFAULT_NAMESPACE, kindByName } from '../../objects/kinds.ts';
import type { KubeObject } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag, recursiveFlag } from '../flags.ts';
import { readStdinIfNeeded } from '../stdin.ts';

/** kubectl diff's exit codes: 0 no differences, 1 differences, more than 1 an error. */
const EXIT_ERROR = 2;

export default class Diff extends ClientCommand {
  static override summary = 'Show what `kcs apply -f` would change, as kubectl diff does.';
  static override description = 'Each manifest is applied as a server-side dry run (nothing is stored) and the object the server would keep is compared with the live one, '
    + 'as YAML in a unified diff. Exit status: 0 when nothing would change, 1 when something would, 2 when a manifest or the server failed.';
  static override examples = ['<%= config.bin %> diff -f pod.yaml', '<%= config.bin %> diff -f manifests/ -R', 'cat node.yaml | <%= config.bin %> diff -f -'];
  static override flags = {
    ...connectionFlags,
    filename: Flags.string({ char: 'f', summary: 'A file, a directory, or - for standard input.', multiple: true, required: true }),
    recursive: recursiveFlag,
    namespace: namespaceFlag,
  };

  async run(): Promise<number> {
    const { flags } = await this.parse(Diff);
    const client = this.client(flags);
    const { readManifests } = await import('../../client/manifests.ts');
    const { applyOne } = await import('../../client/apply.ts');
    const { objectDiff } = await import('../printers/diff.ts');
    const { documents, errors } = readManifests(flags.filename, flags.recursive, await readStdinIfNeeded(flags.filename));
    let failed = errors.length > 0;
    for (const e of errors) this.logToStderr(`error: ${e.source}: ${e.message}`);
    let differs = false;
    for (const doc of documents) {
      const value = doc.value as KubeObject;
      const kind = value && typeof value === 'object' ? kindByName(value.kind) : undefined;
      let live: KubeObject | null | undefined;
      if (kind && typeof value.metadata?.name === 'string') {
        const namespace = kind.namespaced ? (value.metadata.namespace ?? flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
        try {
          live = await client.get(kind, namespace, value.metadata.name);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          live = null;
        }
      }
      // The apply kcs apply makes, as a dry run against the live object just read.
      const result = await applyOne(client, doc, { namespace: flags.namespace, dryRun: true, live });
      if (result.error || !result.object || !kind) {
        this.logToStderr(`error: ${result.source}${result.ref ? `: ${result.ref}` : ''}: ${result.error ?? 'no result'}`);
        failed = true;
        continue;
      }
      const text = objectDiff(kind, live ?? undefined, result.object);
      if (text) {
        differs = true;
        process.stdout.write(text);
      }
    }
    if (failed) this.exit(EXIT_ERROR);
    if (differs) this.exit(1);
    return 0;
  }

  /** Any failure is exit 2, so a script can tell it from "there are differences" (1). */
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err.oclif?.exit !== undefined) throw err; // this.exit(): the status chosen above
    if (err instanceof ClientError || err instanceof ConnectionError) {
      this.logToStderr(err instanceof ClientError ? `Error from server${err.reason ? ` (${err.reason})` : ''}: ${err.message}` : err.message);
      this.exit(EXIT_ERROR);
    }
    this.logToStderr(`error: ${err.message}`);
    this.exit(EXIT_ERROR);
  }
}
