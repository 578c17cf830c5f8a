// `kcs label` and `kcs annotate`: one command shape, as in kubectl. Objects by
// name (TYPE NAME... or TYPE/NAME), by -l selector or --all; then the
// changes; each object read, checked against --overwrite, and patched.
import * as Flags from '@oclif/core/flags';
import { ClientError } from '../client/http.ts';
import { DEFAULT_NAMESPACE } from '../objects/kinds.ts';
import { ClientCommand, connectionFlags } from './base.ts';
import { namespaceFlag, selectorFlag } from './flags.ts';
import { changesNothing, isChange, MetadataChangeError, metadataPatch, overwriteRefusal, parseChanges, type MetadataChanges, type MetadataMap } from './metadata-changes.ts';
import { resolveKind } from './resolve-kind.ts';

export function metadataFlags(noun: string) {
  return {
    ...connectionFlags,
    namespace: namespaceFlag,
    selector: selectorFlag,
    all: Flags.boolean({ summary: `Change the ${noun}s of every object of the type (in the namespace).` }),
    overwrite: Flags.boolean({ summary: `Allow changing ${noun}s that already have a value.` }),
    'resource-version': Flags.string({ summary: 'Change only if the object is still at this resourceVersion (one object only).' }),
  };
}

export abstract class MetadataCommand extends ClientCommand {
  /** Which map this command changes. */
  protected abstract readonly map: MetadataMap;
  /** What is printed after `pod/web`: kubectl's words for the outcome. */
  protected abstract outcome(changes: MetadataChanges, changed: boolean): string;

  protected async change(argv: string[], flags: { namespace?: string; selector?: string; all: boolean; overwrite: boolean; 'resource-version'?: string; server?: string; token?: string; kubeconfig?: string }): Promise<string[]> {
    const noun = this.map === 'labels' ? 'label' : 'annotation';
    if (!argv.length) this.error(`give a type, a name and KEY=VALUE or KEY-`, { exit: 1, suggestions: [`kcs ${noun} pod web-1 owner=team-a`] });
    // TYPE NAME... or TYPE/NAME, then the changes.
    const [first, ...rest] = argv;
    const slash = first.indexOf('/');
    const kind = resolveKind(slash > 0 ? first.slice(0, slash) : first);
    const names = slash > 0 ? [first.slice(slash + 1)] : [];
    let i = 0;
    while (i < rest.length && !isChange(rest[i])) names.push(rest[i++]);
    let changes: MetadataChanges;
    try {
      changes = parseChanges(rest.slice(i), this.map);
    } catch (err) {
      if (err instanceof MetadataChangeError) this.error(err.message, { exit: 1 });
      throw err;
    }
    const chosenBy = [names.length > 0, !!flags.selector, flags.all].filter(Boolean).length;
    if (chosenBy !== 1) this.error('name the objects, or select them with -l or --all (one of the three)', { exit: 1 });
    if (flags['resource-version'] && names.length !== 1) this.error('--resource-version applies to one named object', { exit: 1 });

    const client = this.client(flags);
    const namespace = kind.namespaced ? (flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
    if (!names.length) {
      const list = await client.list(kind, namespace, flags.selector ? { labelSelector: flags.selector } : {});
      if (!list.items.length) this.logToStderr('No resources found');
      names.push(...list.items.map((o) => o.metadata.name!));
    }
    const done: string[] = [];
    let failed = false;
    for (const name of names) {
      const ref = `${kind.singular}/${name}`;
      try {
        const current = await client.get(kind, namespace, name);
        const values = current.metadata[this.map];
        const refusal = overwriteRefusal(values, changes, flags.overwrite, this.map);
        if (refusal) {
          this.logToStderr(`error: ${ref}: ${refusal}`);
          failed = true;
          continue;
        }
        if (this.map === 'labels') for (const k of changes.remove) if (values?.[k] === undefined) this.log(`label ${JSON.stringify(k)} not found.`);
        const changed = !changesNothing(values, changes);
        if (changed || flags['resource-version']) await client.patch(kind, namespace, name, metadataPatch(this.map, changes, flags['resource-version']));
        done.push(ref);
        this.log(`${ref} ${this.outcome(changes, changed)}`);
      } catch (err) {
        if (!(err instanceof ClientError)) throw err;
        this.logToStderr(`Error from server (${err.reason ?? err.code}): ${err.message}`);
        failed = true;
      }
    }
    if (failed) this.exit(1);
    return done;
  }
}
