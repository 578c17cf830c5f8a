import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';
import { readStdinIfNeeded } from '../stdin.ts';
import { namespaceFlag, recursiveFlag } from '../flags.ts';
import { applyOne, applyServerSide, type ApplyResult } from '../../client/apply.ts';

/** What kubectl tells a user whose server-side apply conflicts, shortened. */
const CONFLICT_HINT = [
  'Please review the fields above--they currently have other managers. Here',
  'are the ways you can resolve this warning:',
  '* If you intend to manage all of these fields, please re-run the apply',
  '  command with the `--force-conflicts` flag.',
  '* If you do not intend to manage all of the fields, please edit your',
  '  manifest to remove references to the fields that should keep their',
  '  current managers.',
].join('\n');

export default class Apply extends ClientCommand {
  static override summary = 'Create or update objects from manifests (files, directories, or stdin).';
  static override description = 'Each object is created if it does not exist, otherwise patched to match the manifest, as kubectl apply does: fields that other parts of the system set are kept, fields a previous apply set and the manifest no longer has are removed. Every document is attempted; the exit status is non-zero if any failed.';
  static override examples = [
    '<%= config.bin %> apply -f node.yaml',
    '<%= config.bin %> apply -f manifests/ -R',
    '<%= config.bin %> apply --server-side -f pod.yaml',
    'cat pod.yaml | <%= config.bin %> apply -f -',
  ];
  static override flags = {
    ...connectionFlags,
    filename: Flags.string({ char: 'f', summary: 'A file, a directory, or - for standard input.', multiple: true, required: true }),
    recursive: recursiveFlag,
    namespace: namespaceFlag,
    'dry-run': Flags.boolean({ summary: 'Validate on the server and report what would change, storing nothing.' }),
    'server-side': Flags.boolean({ summary: 'Apply on the server (server-side apply): it merges the manifest and records which fields each manager owns.' }),
    'force-conflicts': Flags.boolean({ summary: 'With --server-side: take over fields other managers own instead of failing on them.', dependsOn: ['server-side'] }),
    'field-manager': Flags.string({ summary: 'The name the writes are recorded under (default: kcs with --server-side, else kcs-client-side-apply).' }),
  };

  async run(): Promise<Array<ApplyResult<string>>> {
    const { flags } = await this.parse(Apply);
    const client = this.client(flags);
    // yaml is only loaded by the commands that read manifests, keeping `kcs get` fast.
    const { namespacesFirst, readManifests } = await import('../../client/manifests.ts');
    const { documents, errors } = readManifests(flags.filename, flags.recursive, await readStdinIfNeeded(flags.filename));
    const results: Array<ApplyResult<string>> = errors.map((e) => ({ source: e.source, error: e.message }));
    for (const e of errors) this.logToStderr(`error: ${e.source}: ${e.message}`);
    for (const doc of namespacesFirst(documents)) {
      const options = { namespace: flags.namespace, dryRun: flags['dry-run'], fieldManager: flags['field-manager'] };
      const result: ApplyResult<string> = flags['server-side']
        ? await applyServerSide(client, doc, { ...options, forceConflicts: flags['force-conflicts'] })
        : await applyOne(client, doc, options);
      results.push(result);
      if (result.error) {
        this.logToStderr(`error: ${result.source}${result.ref ? `: ${result.ref}` : ''}: ${result.error}`);
        if (result.conflict) this.logToStderr(CONFLICT_HINT);
      } else this.log(`${result.ref} ${result.outcome}${flags['dry-run'] ? (flags['server-side'] ? ' (server dry run)' : ' (dry run)') : ''}`);
      for (const w of result.warnings ?? []) this.logToStderr(`Warning: ${result.ref}: ${w}`);
    }
    if (results.some((r) => r.error)) this.exit(1);
    return results;
  }
}
