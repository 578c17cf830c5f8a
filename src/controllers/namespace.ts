// The namespace controller (kube-controller-manager's): a deleted namespace
// is Terminating until what is in it is gone. It deletes every namespaced
// kind's objects there (deletecollection), checks that nothing is left (an
// object created in the same commit as the Terminating mark is seen only
// now), then removes the `kubernetes` finalizer through /finalize, and the
// API server drops the namespace. Level-based: a restart, or a namespace
// deleted while no controller ran, is finished at the next reconcile.
import { isNotFound, type KcsClient } from '../client/interface.ts';
import type { Informer, InformerHandlers } from '../client/informer.ts';
import { KINDS, kindByName, NAMESPACE_FINALIZER } from '../objects/kinds.ts';
import type { Namespace } from '../objects/types.ts';
import type { Reconciler, ReconcileResult } from './runner.ts';

const NAMESPACE = kindByName('Namespace')!;
const NAMESPACED_KINDS = KINDS.filter((k) => k.namespaced);

/** How soon a namespace that still had content is looked at again. */
export const CONTENT_REMAINING_RETRY_MS = 1000;

/** Pure: the namespace is deleted and still waits for this controller. */
export function needsEmptying(ns: Namespace): boolean {
  return !!ns.metadata.deletionTimestamp && (ns.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER);
}

export class NamespaceController implements Reconciler {
  readonly name = 'namespace';
  private readonly client: KcsClient;
  private readonly namespaces: Informer<Namespace>;
  private readonly log: (message: string) => void;

  constructor(opts: { client: KcsClient; namespaces: Informer<Namespace>; log?: (message: string) => void }) {
    this.client = opts.client;
    this.namespaces = opts.namespaces;
    this.log = opts.log ?? (() => {});
  }

  /** What the namespace informer tells this controller: a namespace marked for deletion is queued. */
  namespaceHandlers(enqueue: (name: string) => void): InformerHandlers<Namespace> {
    return {
      add: (ns) => { if (needsEmptying(ns)) enqueue(ns.metadata.name!); },
      update: (_prev, ns) => { if (needsEmptying(ns)) enqueue(ns.metadata.name!); },
    };
  }

  /** For the periodic resync: every namespace still being deleted. */
  keys(): string[] {
    return this.namespaces.list().filter(needsEmptying).map((ns) => ns.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    let ns: Namespace;
    try {
      ns = await this.client.get<Namespace>(NAMESPACE, undefined, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!needsEmptying(ns)) return;
    for (const kind of NAMESPACED_KINDS) await this.client.deleteCollection(kind, name);
    const remaining: string[] = [];
    for (const kind of NAMESPACED_KINDS) {
      if ((await this.client.list(kind, name, { limit: 1 })).items.length) remaining.push(kind.plural);
    }
    if (remaining.length) {
      this.log(`namespace ${name}: ${remaining.join(', ')} still there; emptying again`);
      return { requeueAfterMs: CONTENT_REMAINING_RETRY_MS };
    }
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    try {
      await this.client.update(NAMESPACE, undefined, name, { ...ns, spec: { ...ns.spec, finalizers } }, { subresource: 'finalize' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
