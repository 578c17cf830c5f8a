import * as Flags from '@oclif/core/flags';
import { ClientError } from '../../client/http.ts';
import { DEFAULT_NAMESPACE } from '../../objects/kinds.ts';
import { AnnotateError, annotationPatch, isChange, overwriteRefusal, parseChanges } from '../annotations.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag, selectorFlag } from '../flags.ts';
import { resolveKind } from '../resolve-kind.ts';

export default class Annotate extends ClientCommand {
  static override summary = 'Add, change or remove annotations of nodes or pods, as kubectl annotate does.';
  static override description = 'KEY=VALUE sets an annotation, KEY- removes it. Changing an annotation that already has another value needs --overwrite. '
    + 'kcs.io/simulate-unhealthy="true" on a pod makes it fail its health check (see "Pod health" in the README).';
  static override usage = ['annotate TYPE NAME... KEY=VALUE... [KEY-...]', 'annotate TYPE/NAME KEY=VALUE...', 'annotate TYPE (-l SELECTOR | --all) KEY=VALUE...'];
  static override examples = [
    '<%= config.bin %> annotate pod web-1 kcs.io/simulate-unhealthy=true',
    '<%= config.bin %> annotate pod web-1 kcs.io/simulate-unhealthy-',
    '<%= config.bin %> annotate pod web-1 kcs.io/max-restarts=5 --overwrite',
    '<%= config.bin %> annotate node node-1 owner=team-a',
    '<%= config.bin %> annotate pods -l app=web note=canary',
  ];
  static override strict = false;
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    selector: selectorFlag,
    all: Flags.boolean({ summary: 'Annotate every object of the type (in the namespace).' }),
    overwrite: Flags.boolean({ summary: 'Allow changing annotations that already have a value.' }),
    'resource-version': Flags.string({ summary: 'Annotate only if the object is still at this resourceVersion (one object only).' }),
  };

  async run(): Promise<string[]> {
    const { argv, flags } = await this.parse(Annotate);
    const args = argv as string[];
    if (!args.length) this.error('give a type, a name and KEY=VALUE or KEY-', { exit: 1, suggestions: ['kcs annotate pod web-1 kcs.io/simulate-unhealthy=true'] });
    // TYPE NAME... or TYPE/NAME, then the changes.
    const [first, ...rest] = args;
    const slash = first.indexOf('/');
    const kind = resolveKind(slash > 0 ? first.slice(0, slash) : first);
    const names = slash > 0 ? [first.slice(slash + 1)] : [];
    let i = 0;
    while (i < rest.length && !isChange(rest[i])) names.push(rest[i++]);
    let changes;
    try {
      changes = parseChanges(rest.slice(i));
    } catch (err) {
      if (err instanceof AnnotateError) this.error(err.message, { exit: 1 });
      throw err;
    }
    const chosenBy = [names.length > 0, !!flags.selector, flags.all].filter(Boolean).length;
    if (chosenBy !== 1) this.error('name the objects, or select them with -l or --all (one of the three)', { exit: 1 });
    if (flags['resource-version'] && (names.length !== 1)) this.error('--resource-version applies to one named object', { exit: 1 });

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
        const refusal = overwriteRefusal(current.metadata.annotations, changes, flags.overwrite);
        if (refusal) {
          this.logToStderr(`error: ${ref}: ${refusal}`);
          failed = true;
          continue;
        }
        await client.patch(kind, namespace, name, annotationPatch(changes, flags['resource-version']));
        done.push(ref);
        this.log(`${ref} annotated`);
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
