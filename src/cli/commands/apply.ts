import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';
import { readStdinIfNeeded } from '../stdin.ts';
import { namespaceFlag, recursiveFlag } from '../flags.ts';
import { applyOne, type ApplyResult } from '../../client/apply.ts';

export default class Apply extends ClientCommand {
  static override summary = 'Create or update objects from manifests (files, directories, or stdin).';
  static override description = 'Each object is created if it does not exist, otherwise patched to match the manifest, as kubectl apply does: fields that other parts of the system set are kept, fields a previous apply set and the manifest no longer has are removed. Every document is attempted; the exit status is non-zero if any failed.';
  static override examples = [
    '<%= config.bin %> apply -f node.yaml',
    '<%= config.bin %> apply -f manifests/ -R',
    'cat pod.yaml | <%= config.bin %> apply -f -',
  ];
  static override flags = {
    ...connectionFlags,
    filename: Flags.string({ char: 'f', summary: 'A file, a directory, or - for standard input.', multiple: true, required: true }),
    recursive: recursiveFlag,
    namespace: namespaceFlag,
    'dry-run': Flags.boolean({ summary: 'Validate on the server and report what would change, storing nothing.' }),
  };

  async run(): Promise<ApplyResult[]> {
    const { flags } = await this.parse(Apply);
    const client = this.client(flags);
    // yaml is only loaded by the commands that read manifests, keeping `kcs get` fast.
    const { namespacesFirst, readManifests } = await import('../../client/manifests.ts');
    const { documents, errors } = readManifests(flags.filename, flags.recursive, await readStdinIfNeeded(flags.filename));
    const results: ApplyResult[] = errors.map((e) => ({ source: e.source, error: e.message }));
    for (const e of errors) this.logToStderr(`error: ${e.source}: ${e.message}`);
    for (const doc of namespacesFirst(documents)) {
      const result = await applyOne(client, doc, { namespace: flags.namespace, dryRun: flags['dry-run'] });
      results.push(result);
      if (result.error) this.logToStderr(`error: ${result.source}${result.ref ? `: ${result.ref}` : ''}: ${result.error}`);
      else this.log(`${result.ref} ${result.outcome}${flags['dry-run'] ? ' (dry run)' : ''}`);
      for (const w of result.warnings ?? []) this.logToStderr(`Warning: ${result.ref}: ${w}`);
    }
    if (results.some((r) => r.error)) this.exit(1);
    return results;
  }
}
