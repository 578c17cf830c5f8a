import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientError } from '../../client/http.ts';
import { DEFAULT_NAMESPACE, kindByName } from '../../objects/kinds.ts';
import type { PropagationPolicy } from '../../objects/owners.ts';
import type { KubeObject } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { readStdinIfNeeded } from '../stdin.ts';
import { filenameFlag, namespaceFlag, recursiveFlag, selectorFlag } from '../flags.ts';
import { resolveKind } from '../resolve-kind.ts';

interface Target { kind: ReturnType<typeof resolveKind>; namespace?: string; name: string }

const CASCADE_POLICIES: Record<string, PropagationPolicy> = { background: 'Background', foreground: 'Foreground', orphan: 'Orphan' };

export default class Delete extends ClientCommand {
  static override summary = 'Delete objects by type and name, by selector, or by the manifests that describe them.';
  static override examples = [
    '<%= config.bin %> delete node node-1',
    '<%= config.bin %> delete pods web-1 web-2',
    '<%= config.bin %> delete pods -l app=web',
    '<%= config.bin %> delete -f manifests/',
    '<%= config.bin %> delete nodepool web --cascade=orphan',
  ];
  static override strict = false;
  static override args = {
    type: Args.string({ description: 'nodes or pods' }),
    names: Args.string({ description: 'one or more names' }),
  };
  static override flags = {
    ...connectionFlags,
    filename: filenameFlag,
    recursive: recursiveFlag,
    namespace: namespaceFlag,
    selector: selectorFlag,
    'ignore-not-found': Flags.boolean({ summary: 'Treat "not found" as success.' }),
    cascade: Flags.string({
      summary: 'What becomes of the dependents (objects naming it in ownerReferences): deleted after it (background), before it (foreground), or kept (orphan).',
      options: ['background', 'foreground', 'orphan'],
      default: 'background',
    }),
  };

  async run(): Promise<string[]> {
    const { argv, flags } = await this.parse(Delete);
    const client = this.client(flags);
    const [type, ...names] = argv as string[];
    const targets: Target[] = [];
    let failed = false;

    if (flags.filename) {
      // yaml is only loaded by the commands that read manifests, keeping `kcs get` fast.
    const { namespacesLast, readManifests } = await import('../../client/manifests.ts');
    const { documents, errors } = readManifests(flags.filename, flags.recursive, await readStdinIfNeeded(flags.filename));
      for (const e of errors) { this.logToStderr(`error: ${e.source}: ${e.message}`); failed = true; }
      for (const doc of namespacesLast(documents)) {
        const obj = doc.value as KubeObject;
        const kind = obj && kindByName(obj.kind);
        if (!kind || !obj.metadata?.name) { this.logToStderr(`error: ${doc.source}: not an object kcs serves, with a name`); failed = true; continue; }
        targets.push({ kind, name: obj.metadata.name, namespace: kind.namespaced ? (obj.metadata.namespace ?? flags.namespace ?? DEFAULT_NAMESPACE) : undefined });
      }
    } else {
      if (!type) this.error('give a type and name(s), a selector with -l, or manifests with -f', { exit: 1, suggestions: ['kcs delete node node-1', 'kcs delete -f node.yaml'] });
      const kind = resolveKind(type);
      const namespace = kind.namespaced ? (flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
      if (flags.selector) {
        const list = await client.list(kind, namespace, { labelSelector: flags.selector });
        for (const o of list.items) targets.push({ kind, namespace, name: o.metadata.name! });
        if (list.items.length === 0) this.logToStderr('No resources found');
      } else if (names.length === 0) {
        this.error(`give the name of the ${kind.singular} to delete, or a selector with -l`, { exit: 1 });
      }
      for (const name of names) targets.push({ kind, namespace, name });
    }

    // Sent as kubectl sends it, so the server never falls back to a default of its own.
    const propagationPolicy = CASCADE_POLICIES[flags.cascade];
    const deleted: string[] = [];
    for (const t of targets) {
      const ref = `${t.kind.singular}/${t.name}`;
      try {
        await client.delete(t.kind, t.namespace, t.name, { propagationPolicy });
        deleted.push(ref);
        this.log(`${ref} deleted`);
      } catch (err) {
        if (err instanceof ClientError && err.code === 404 && flags['ignore-not-found']) continue;
        if (!(err instanceof ClientError)) throw err;
        this.logToStderr(`Error from server (${err.reason ?? err.code}): ${err.message}`);
        failed = true;
      }
    }
    if (failed) this.exit(1);
    return deleted;
  }
}
