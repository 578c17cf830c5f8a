import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_CHUNK_SIZE, listAll } from '../../client/list-all.ts';
import { DEFAULT_NAMESPACE, type KindInfo } from '../../objects/kinds.ts';
import type { KubeObject, WatchEvent } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag, outputFlag, selectorFlag } from '../flags.ts';
import { formatObjects, isTableFormat, OutputError, parseOutput, watchPrinter, type OutputSpec, type PrintOptions } from '../printers/output.ts';
import { resolveKinds } from '../resolve-kind.ts';

export default class Get extends ClientCommand {
  static override summary = 'List objects of one or more types, or show one.';
  static override examples = [
    '<%= config.bin %> get nodes',
    '<%= config.bin %> get pods -o wide',
    '<%= config.bin %> get pod web -o yaml',
    '<%= config.bin %> get all',
    "<%= config.bin %> get pods -A -l app=web --field-selector spec.nodeName=node-1",
    "<%= config.bin %> get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}'",
    '<%= config.bin %> get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName',
    '<%= config.bin %> get pods --sort-by=.metadata.creationTimestamp',
    '<%= config.bin %> get nodes -w',
  ];
  static override args = {
    type: Args.string({ required: true, description: 'a type (nodes, pods, events, ns, ...), several joined by commas, a category such as all, or TYPE/NAME' }),
    name: Args.string({ description: 'show only this object' }),
  };
  static override flags = {
    ...connectionFlags,
    output: outputFlag,
    'show-managed-fields': Flags.boolean({ summary: 'Keep metadata.managedFields when printing yaml or json.' }),
    namespace: namespaceFlag,
    'all-namespaces': Flags.boolean({ char: 'A', summary: 'List objects in every namespace.' }),
    selector: selectorFlag,
    'field-selector': Flags.string({ summary: "Field selector, e.g. 'spec.nodeName=node-1'." }),
    'sort-by': Flags.string({ summary: "Sort by a field, given as a JSONPath (e.g. '.metadata.creationTimestamp'): numbers and quantities by value, text in natural order." }),
    watch: Flags.boolean({ char: 'w', summary: 'After listing, print every change as it happens.' }),
    'no-headers': Flags.boolean({ summary: 'Print tables without the header row.' }),
    'chunk-size': Flags.integer({ summary: 'List in pages of this many objects (0: in one response), as kubectl does.', default: DEFAULT_CHUNK_SIZE, min: 0 }),
  };

  async run(): Promise<KubeObject[]> {
    const { args, flags } = await this.parse(Get);
    let typeArg = args.type;
    let name = args.name;
    const slash = typeArg.indexOf('/');
    if (slash > 0) {
      if (name) this.error('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form', { exit: 1 });
      name = typeArg.slice(slash + 1);
      typeArg = typeArg.slice(0, slash);
    }
    const kinds = resolveKinds(typeArg);
    if (kinds.length > 1 && name) this.error('arguments in resource/name form must have a single resource and name', { exit: 1 });
    if (kinds.length > 1 && flags.watch) this.error('you may only specify a single resource type with --watch', { exit: 1 });
    let output: OutputSpec;
    try {
      output = await parseOutput(flags.output);
    } catch (err) {
      if (err instanceof OutputError || (err as NodeJS.ErrnoException).code === 'ENOENT') this.error((err as Error).message, { exit: 1 });
      throw err;
    }
    const client = this.client(flags);
    const anyNamespaced = kinds.some((k) => k.namespaced);
    const allNamespaces = flags['all-namespaces'] && anyNamespaced;
    const namespace = flags['all-namespaces'] ? undefined : (flags.namespace ?? DEFAULT_NAMESPACE);
    const printOpts: PrintOptions = { output, allNamespaces, noHeaders: flags['no-headers'], showManagedFields: flags['show-managed-fields'] };
    const selectors = { labelSelector: flags.selector, fieldSelector: flags['field-selector'] };

    if (name) {
      const kind = kinds[0];
      const obj = await this.guard(async () => client.get(kind, kind.namespaced ? namespace ?? DEFAULT_NAMESPACE : undefined, name));
      await this.print(await this.guard(() => formatObjects(kind, [obj], printOpts, false)), output);
      if (kind.kind === 'Workflow' && isTableFormat(output) && !flags.watch) await this.drawGraphs([obj]);
      if (flags.watch) await this.watch(kind, [obj], obj.metadata.resourceVersion ?? '0', printOpts, { ...selectors, fieldSelector: [`metadata.name=${name}`, selectors.fieldSelector].filter(Boolean).join(',') }, namespace);
      return [obj];
    }

    const sections: Array<{ kind: KindInfo; objects: KubeObject[]; resourceVersion: string }> = [];
    for (const kind of kinds) {
      const list = await listAll(client, kind, kind.namespaced ? namespace : undefined, selectors, flags['chunk-size']);
      sections.push({ kind, objects: await this.guard(() => this.ordered(kind, list.items, flags['sort-by'])), resourceVersion: list.metadata.resourceVersion });
    }
    const all = sections.flatMap((s) => s.objects);
    const listed = sections.filter((s) => s.objects.length);
    const plain = isTableFormat(output) || output.format === 'name';
    if (!all.length && plain) {
      if (output.format !== 'name') this.logToStderr(anyNamespaced && namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    } else if (plain) {
      // Tables one per kind, a blank line apart; names carry their kind once several kinds are printed, as kubectl's.
      const withKind = listed.length > 1;
      const texts: string[] = [];
      for (const s of listed) texts.push(await formatObjects(s.kind, s.objects, { ...printOpts, withKind }, true));
      this.log(texts.join(isTableFormat(output) ? '\n\n' : '\n'));
      if (isTableFormat(output) && !flags.watch) await this.drawGraphs(listed.filter((s) => s.kind.kind === 'Workflow').flatMap((s) => s.objects));
    } else {
      await this.print(await this.guard(() => formatObjects(kinds[0], all, printOpts, true)), output);
    }
    if (flags.watch) await this.watch(kinds[0], all, sections[0].resourceVersion, printOpts, selectors, namespace);
    return all;
  }

  /** --sort-by, else kind's natural order: events by when they last happened, as `kubectl events` lists them. */
  private async ordered(kind: KindInfo, objects: KubeObject[], sortBy: string | undefined): Promise<KubeObject[]> {
    if (!sortBy && kind.kind !== 'Event') return objects;
    // Loaded only when sorting: it brings the JSONPath evaluator.
    const { eventTime, sortObjects } = await import('../printers/sort.ts');
    if (sortBy) return sortObjects(objects, sortBy);
    return objects.map((o) => ({ o, t: eventTime(o) })).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0)).map((x) => x.o);
  }

  /** A Workflow's table row is followed by its graph, each step with its state. */
  private async drawGraphs(workflows: KubeObject[]): Promise<void> {
    if (!workflows.length) return;
    const { drawWorkflow } = await import('../printers/workflow-graph.ts');
    for (const w of workflows) this.log(`\n${drawWorkflow(w as Parameters<typeof drawWorkflow>[0])}`);
  }

  /** Template output is printed as is (no newline added), as kubectl prints it. */
  private async print(text: string, output: OutputSpec): Promise<void> {
    if (output.format === 'jsonpath' && !('asJson' in output && output.asJson)) process.stdout.write(text);
    else this.log(text);
  }

  /** A template or sort that cannot run is the user's error, said in one line. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as Error).name === 'TemplateError') this.error((err as Error).message, { exit: 1 });
      throw err;
    }
  }

  private async watch(kind: KindInfo, initial: KubeObject[], resourceVersion: string, printOpts: PrintOptions, selectors: { labelSelector?: string; fieldSelector?: string }, namespace: string | undefined): Promise<void> {
    const client = this.client({});
    const print = watchPrinter(kind, initial, printOpts);
    let watchFailed: string | undefined;
    // Printing is asynchronous (yaml loads lazily); a chain keeps rows in event order.
    let printed = Promise.resolve();
    const watch = client.watch(kind, kind.namespaced ? namespace : undefined, { ...selectors, resourceVersion }, (e: WatchEvent) => {
      if (e.type === 'ERROR') {
        watchFailed = (e.object as unknown as { message?: string }).message ?? 'error';
        return;
      }
      printed = printed.then(async () => this.log(await print(e.object)));
    });
    const stop = () => watch.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await watch.done;
    await printed;
    if (watchFailed) this.error(`the watch ended: ${watchFailed}`, { exit: 1, suggestions: ['run the command again to list and watch afresh'] });
  }
}
