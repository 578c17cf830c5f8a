import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_CHUNK_SIZE, listAll } from '../../client/list-all.ts';
import { DEFAULT_NAMESPACE } from '../../objects/kinds.ts';
import type { KubeObject, WatchEvent } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag, outputFlag, selectorFlag } from '../flags.ts';
import { formatObjects, watchPrinter, type OutputFormat } from '../printers/output.ts';
import { resolveKind } from '../resolve-kind.ts';

export default class Get extends ClientCommand {
  static override summary = 'List nodes or pods, or show one.';
  static override examples = [
    '<%= config.bin %> get nodes',
    '<%= config.bin %> get pods -o wide',
    '<%= config.bin %> get pod web -o yaml',
    "<%= config.bin %> get pods -A -l app=web --field-selector spec.nodeName=node-1",
    '<%= config.bin %> get nodes -w',
  ];
  static override args = {
    type: Args.string({ required: true, description: 'nodes or pods (also node, no, pod, po)' }),
    name: Args.string({ description: 'show only this object' }),
  };
  static override flags = {
    ...connectionFlags,
    output: outputFlag,
    'show-managed-fields': Flags.boolean({ summary: 'Keep metadata.managedFields when printing yaml or json.' }),
    namespace: namespaceFlag,
    'all-namespaces': Flags.boolean({ char: 'A', summary: 'List pods in every namespace.' }),
    selector: selectorFlag,
    'field-selector': Flags.string({ summary: "Field selector, e.g. 'spec.nodeName=node-1'." }),
    watch: Flags.boolean({ char: 'w', summary: 'After listing, print every change as it happens.' }),
    'no-headers': Flags.boolean({ summary: 'Print tables without the header row.' }),
    'chunk-size': Flags.integer({ summary: 'List in pages of this many objects (0: in one response), as kubectl does.', default: DEFAULT_CHUNK_SIZE, min: 0 }),
  };

  async run(): Promise<KubeObject[]> {
    const { args, flags } = await this.parse(Get);
    const kind = resolveKind(args.type);
    const client = this.client(flags);
    const allNamespaces = flags['all-namespaces'] && kind.namespaced;
    const namespace = allNamespaces ? undefined : (flags.namespace ?? DEFAULT_NAMESPACE);
    const output = flags.output as OutputFormat;
    const printOpts = { output, allNamespaces, noHeaders: flags['no-headers'], showManagedFields: flags['show-managed-fields'] };
    const selectors = { labelSelector: flags.selector, fieldSelector: flags['field-selector'] };

    let objects: KubeObject[];
    let resourceVersion: string;
    if (args.name) {
      const obj = await client.get(kind, namespace, args.name);
      objects = [obj];
      resourceVersion = obj.metadata.resourceVersion ?? '0';
      this.log(await formatObjects(kind, objects, printOpts, false));
    } else {
      const list = await listAll(client, kind, namespace, selectors, flags['chunk-size']);
      objects = list.items;
      resourceVersion = list.metadata.resourceVersion;
      if (objects.length === 0 && (!output || output === 'wide' || output === 'name')) {
        if (output !== 'name') this.logToStderr(kind.namespaced && !allNamespaces ? `No resources found in ${namespace} namespace.` : 'No resources found');
      } else {
        this.log(await formatObjects(kind, objects, printOpts, true));
      }
    }
    if (!flags.watch) return objects;

    const fieldSelector = args.name ? [`metadata.name=${args.name}`, selectors.fieldSelector].filter(Boolean).join(',') : selectors.fieldSelector;
    const print = watchPrinter(kind, objects, printOpts);
    let watchFailed: string | undefined;
    // Printing is asynchronous (yaml loads lazily); a chain keeps rows in event order.
    let printed = Promise.resolve();
    const watch = client.watch(kind, namespace, { ...selectors, fieldSelector, resourceVersion }, (e: WatchEvent) => {
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
    return objects;
  }
}
