import * as Args from '@oclif/core/args';
import { DEFAULT_NAMESPACE, kindByName } from '../../objects/kinds.ts';
import type { Node, Pod } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag, selectorFlag } from '../flags.ts';
import { describeNode, describeNodePool, describePod } from '../printers/describe.ts';
import { resolveKind } from '../resolve-kind.ts';

export default class Describe extends ClientCommand {
  static override summary = 'Show a node or pod in detail: capacity, allocation, conditions, pods.';
  static override examples = ['<%= config.bin %> describe node node-1', '<%= config.bin %> describe pod web', '<%= config.bin %> describe nodes', '<%= config.bin %> describe nodepool small'];
  static override args = {
    type: Args.string({ required: true, description: 'nodes or pods' }),
    name: Args.string({ description: 'one object; all of the type when omitted' }),
  };
  static override flags = { ...connectionFlags, namespace: namespaceFlag, selector: selectorFlag };

  async run(): Promise<string> {
    const { args, flags } = await this.parse(Describe);
    const kind = resolveKind(args.type);
    const client = this.client(flags);
    const namespace = kind.namespaced ? (flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
    const objects = args.name ? [await client.get(kind, namespace, args.name)] : (await client.list(kind, namespace, { labelSelector: flags.selector })).items;
    const pages: string[] = [];
    const EVENT = kindByName('Event')!;
    for (const obj of objects) {
      const events = (await client.list(EVENT, obj.metadata.namespace ?? 'default', {
        fieldSelector: `involvedObject.kind=${kind.kind},involvedObject.name=${obj.metadata.name}`,
      })).items.filter((e) => !obj.metadata.uid || (e as unknown as { involvedObject?: { uid?: string } }).involvedObject?.uid === obj.metadata.uid);
      if (kind.kind === 'Node') {
        const pods = await client.list<Pod>(kindByName('Pod')!, undefined, { fieldSelector: `spec.nodeName=${obj.metadata.name}` });
        const lease = await client.get(kindByName('Lease')!, 'kube-node-lease', obj.metadata.name!).catch(() => undefined);
        const heartbeats = lease?.metadata.annotations?.['kcs.io/recent-heartbeats']?.split(',') ?? [];
        pages.push(describeNode(obj as Node, pods.items, new Date(), events, heartbeats));
      } else if (kind.kind === 'Pod') {
        pages.push(describePod(obj as Pod, new Date(), events));
      } else if (kind.kind === 'NodePool') {
        const nodes = await client.list<Node>(kindByName('Node')!, undefined, { labelSelector: `kcs.io/nodepool=${obj.metadata.name}` });
        const owned = nodes.items.filter((n) => n.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid));
        pages.push(describeNodePool(obj as Parameters<typeof describeNodePool>[0], owned, new Date(), events));
      } else {
        const { stringify } = await import('yaml');
        pages.push(stringify(obj).trimEnd());
      }
    }
    const text = pages.join('\n\n\n');
    if (text) this.log(text);
    return text;
  }
}
