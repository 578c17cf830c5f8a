// The garbage collector (kube-controller-manager's): an object that names
// owners in metadata.ownerReferences is deleted once none of them exists any
// more, and an owner deleted with propagationPolicy Foreground or Orphan
// (its `foregroundDeletion` or `orphan` finalizer) is finished here:
// Foreground deletes its dependents and lets the owner go once none that
// blocks it (blockOwnerDeletion) is left; Orphan removes the owner from its
// dependents' references, then lets it go. It writes nothing else, and no
// Events, as Kubernetes' collector does not.
//
// An owner exists when an object of its kind and name (in the dependent's
// namespace for a namespaced kind) has its uid: a new object under the same
// name is another object. An owner the informers do not show is looked up in
// the API before anything is deleted on its account, and deletes carry the
// dependent's uid as a precondition, so an object made again under the same
// name is never taken for the one that was garbage.
import { isConflict, isNotFound, type KcsClient } from '../client/interface.ts';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.ts';
import { KINDS, type KindInfo } from '../objects/kinds.ts';
import { FOREGROUND_FINALIZER, groupOf, hasFinalizer, ORPHAN_FINALIZER } from '../objects/owners.ts';
import type { KubeObject, ObjectMeta, OwnerReference } from '../objects/types.ts';
import type { Reconciler } from './runner.ts';

/**
 * Events and Leases are not followed: kcs never gives them owners (the
 * event recorder and the node agents write them without), Kubernetes
 * forbids Events as owners, and following them would keep a copy of every
 * Event and wake the collector at every node's heartbeat. An Event or Lease
 * a user gives owners is not collected.
 */
const UNFOLLOWED_KINDS = new Set(['Event', 'Lease']);
export const COLLECTED_KINDS: readonly KindInfo[] = KINDS.filter((k) => !UNFOLLOWED_KINDS.has(k.kind));

/** Read-modify-write attempts on one object before the runner backs off. */
const WRITE_ATTEMPTS = 8;

/** A work-queue key: the kind and the object's key, `Pod default/web` or `Node n1`. */
export function collectorKey(kind: KindInfo, obj: KubeObject): string {
  return `${kind.kind} ${objectKey(obj)}`;
}

interface ObjectRef {
  kind: KindInfo;
  namespace?: string;
  name: string;
}

function parseKey(key: string): ObjectRef | undefined {
  const space = key.indexOf(' ');
  const kind = KINDS.find((k) => k.kind === key.slice(0, space));
  if (!kind) return undefined;
  const rest = key.slice(space + 1);
  if (!kind.namespaced) return { kind, name: rest };
  const slash = rest.indexOf('/');
  return { kind, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

/** Waits for this collector: deleted, with a finalizer only it removes. */
function waitsForCollector(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp && (hasFinalizer(obj, FOREGROUND_FINALIZER) || hasFinalizer(obj, ORPHAN_FINALIZER));
}

const refsOf = (obj: KubeObject): OwnerReference[] => obj.metadata.ownerReferences ?? [];

/**
 * present: it exists (being deleted or not, unless in the foreground);
 * deleting: it waits for its dependents to go (Foreground);
 * absent: nothing of that kind and name has its uid;
 * unresolvable: a kind kcs does not serve, or a namespaced owner of a
 * cluster-scoped object: never grounds for deleting anything.
 */
type OwnerState = 'present' | 'deleting' | 'absent' | 'unresolvable';

export interface GarbageCollectorOptions {
  client: KcsClient;
  /** One per followed kind (COLLECTED_KINDS), shared with other controllers where they have one. */
  informers: Informer[];
  /** Queues a key for this collector (its runner's). */
  enqueue: (key: string) => void;
  log?: (message: string) => void;
}

export class GarbageCollector implements Reconciler {
  readonly name = 'garbage-collector';
  private readonly client: KcsClient;
  private readonly informers: Map<string, Informer>;
  private readonly enqueue: (key: string) => void;
  private readonly log: (message: string) => void;
  /** Owner uid -> the keys of the objects naming it as an owner. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Keys of the objects that have owners, and of those waiting for this collector (for the resync). */
  private readonly owned = new Set<string>();
  private readonly waiting = new Set<string>();

  constructor(opts: GarbageCollectorOptions) {
    this.client = opts.client;
    this.informers = new Map(opts.informers.map((i) => [i.kind.kind, i]));
    this.enqueue = opts.enqueue;
    this.log = opts.log ?? (() => {});
  }

  /**
   * What an informer of `kind` tells the collector: an object with owners
   * is indexed under each, and queued when one of its owners is not known
   * to exist; one waiting for the collector is queued; a deleted object
   * queues its dependents, and the owners that may be waiting for it.
   */
  handlers(kind: KindInfo): InformerHandlers<KubeObject> {
    return {
      add: (obj) => this.observe(kind, undefined, obj),
      update: (prev, obj) => this.observe(kind, prev, obj),
      delete: (obj) => {
        const key = collectorKey(kind, obj);
        this.unindex(key, refsOf(obj));
        this.owned.delete(key);
        this.waiting.delete(key);
        for (const ref of refsOf(obj)) this.enqueueOwnerIfWaiting(ref, obj);
        for (const dependent of this.dependents.get(obj.metadata.uid ?? '') ?? []) this.enqueue(dependent);
      },
    };
  }

  /** For the periodic resync: objects waiting for the collector, and objects with an owner the informers do not show. */
  keys(): string[] {
    const keys = [...this.waiting];
    for (const key of this.owned) {
      const ref = parseKey(key);
      const obj = ref && this.cached(ref.kind, ref.namespace, ref.name);
      if (obj && refsOf(obj).some((r) => !this.cachedOwner(r, obj))) keys.push(key);
    }
    return keys;
  }

  /** The dependents of an owner, as the informers show them (for tests and diagnostics). */
  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  async reconcile(key: string): Promise<void> {
    const ref = parseKey(key);
    if (!ref) return;
    let obj: KubeObject;
    try {
      obj = await this.client.get(ref.kind, ref.namespace, ref.name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (obj.metadata.deletionTimestamp) {
      if (hasFinalizer(obj, ORPHAN_FINALIZER)) await this.orphanDependents(ref, obj);
      else if (hasFinalizer(obj, FOREGROUND_FINALIZER)) await this.deleteDependentsFirst(ref, obj);
      return;
    }
    await this.collectIfOrphaned(ref, obj);
  }

  // ---- the index ---------------------------------------------------------

  private observe(kind: KindInfo, prev: KubeObject | undefined, obj: KubeObject): void {
    const key = collectorKey(kind, obj);
    const before = prev ? refsOf(prev) : [];
    const after = refsOf(obj);
    const changed = before !== after && JSON.stringify(before) !== JSON.stringify(after);
    if (changed) {
      this.unindex(key, before);
      for (const ref of after) {
        let keys = this.dependents.get(ref.uid);
        if (!keys) this.dependents.set(ref.uid, (keys = new Set()));
        keys.add(key);
      }
      // An owner this object no longer names may have been waiting for it.
      for (const ref of before) if (!after.some((r) => r.uid === ref.uid)) this.enqueueOwnerIfWaiting(ref, obj);
    }
    if (after.length) this.owned.add(key);
    else this.owned.delete(key);
    if (changed && after.some((r) => !this.cachedOwner(r, obj))) this.enqueue(key);
    if (waitsForCollector(obj)) {
      this.waiting.add(key);
      this.enqueue(key);
    } else {
      this.waiting.delete(key);
    }
  }

  private unindex(key: string, refs: readonly OwnerReference[]): void {
    for (const ref of refs) {
      const keys = this.dependents.get(ref.uid);
      keys?.delete(key);
      if (keys?.size === 0) this.dependents.delete(ref.uid);
    }
  }

  private enqueueOwnerIfWaiting(ref: OwnerReference, dependent: KubeObject): void {
    const kind = ownerKind(ref, dependent);
    if (!kind) return;
    const owner = this.cached(kind, ownerNamespace(kind, dependent), ref.name);
    if (owner?.metadata.uid === ref.uid && waitsForCollector(owner)) this.enqueue(collectorKey(kind, owner));
  }

  private cached(kind: KindInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.informers.get(kind.kind)?.get(namespace ? `${namespace}/${name}` : name);
  }

  /** The owner as the informers show it, if they show that very object. */
  private cachedOwner(ref: OwnerReference, dependent: KubeObject): KubeObject | undefined {
    const kind = ownerKind(ref, dependent);
    const owner = kind && this.cached(kind, ownerNamespace(kind, dependent), ref.name);
    return owner?.metadata.uid === ref.uid ? owner : undefined;
  }

  // ---- dependents --------------------------------------------------------

  /**
   * A dependent none of whose owners exists is deleted; one with an owner
   * left loses only its references to the owners that are gone or deleting
   * in the foreground (which then need not wait for it).
   */
  private async collectIfOrphaned(ref: ObjectRef, obj: KubeObject): Promise<void> {
    const owners = refsOf(obj);
    if (!owners.length) return;
    const states = await Promise.all(owners.map((o) => this.ownerState(o, obj)));
    const gone = new Set(owners.filter((_, i) => states[i] === 'absent' || states[i] === 'deleting').map((o) => o.uid));
    if (gone.size === owners.length) {
      await this.deleteDependent(ref, obj);
      return;
    }
    if (gone.size) await this.release(ref, obj.metadata.uid!, gone);
  }

  private async ownerState(ref: OwnerReference, dependent: KubeObject): Promise<OwnerState> {
    const kind = ownerKind(ref, dependent);
    if (!kind) return 'unresolvable';
    let owner = this.cachedOwner(ref, dependent);
    if (!owner) {
      // Not seen (yet, or any more): only the API can say it is gone.
      try {
        owner = await this.client.get(kind, ownerNamespace(kind, dependent), ref.name);
      } catch (err) {
        if (isNotFound(err)) return 'absent';
        throw err;
      }
      if (owner.metadata.uid !== ref.uid) return 'absent';
    }
    return owner.metadata.deletionTimestamp && hasFinalizer(owner, FOREGROUND_FINALIZER) ? 'deleting' : 'present';
  }

  private async deleteDependent(ref: ObjectRef, obj: KubeObject): Promise<void> {
    try {
      await this.client.delete(ref.kind, ref.namespace, ref.name, { preconditions: { uid: obj.metadata.uid }, propagationPolicy: 'Background' });
    } catch (err) {
      // Gone already, or another object under that name now: nothing of this one is left to delete.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  // ---- owners being deleted ------------------------------------------------

  /** Foreground: every dependent is deleted; the owner goes once none that blocks it is left. */
  private async deleteDependentsFirst(ref: ObjectRef, owner: KubeObject): Promise<void> {
    this.requireSynced();
    let blocking = 0;
    for (const key of this.dependentsOf(owner.metadata.uid!)) {
      const dep = parseKey(key);
      const cached = dep && this.cached(dep.kind, dep.namespace, dep.name);
      if (!cached) continue;
      // Its own reconcile finds this owner deleting, and deletes it (or, with another owner left, releases it).
      this.enqueue(key);
      if (refsOf(cached).some((r) => r.uid === owner.metadata.uid && r.blockOwnerDeletion)) blocking++;
    }
    // Each blocking dependent's delete, or its release, queues the owner again.
    if (blocking) return;
    await this.removeFinalizer(ref, owner, FOREGROUND_FINALIZER);
  }

  /** Orphan: the owner is removed from every dependent's references, then goes. */
  private async orphanDependents(ref: ObjectRef, owner: KubeObject): Promise<void> {
    this.requireSynced();
    const uid = owner.metadata.uid!;
    for (const key of this.dependentsOf(uid)) {
      const dep = parseKey(key);
      const cached = dep && this.cached(dep.kind, dep.namespace, dep.name);
      if (dep && cached) await this.release(dep, cached.metadata.uid!, new Set([uid]));
    }
    await this.removeFinalizer(ref, owner, ORPHAN_FINALIZER);
  }

  /** Until every informer has listed, the index may lack dependents an owner must wait for or release. */
  private requireSynced(): void {
    const unsynced = [...this.informers.values()].filter((i) => !i.hasSynced).map((i) => i.kind.plural);
    if (unsynced.length) throw new Error(`waiting for the ${unsynced.join(', ')} informers to list`);
  }

  // ---- writes --------------------------------------------------------------

  /** Removes the references to these owners from the object with this uid. */
  private release(ref: ObjectRef, uid: string, owners: ReadonlySet<string>): Promise<void> {
    return this.rewrite(ref, uid, (obj) => {
      const kept = refsOf(obj).filter((r) => !owners.has(r.uid));
      if (kept.length === refsOf(obj).length) return undefined;
      const metadata: ObjectMeta = { ...obj.metadata, ownerReferences: kept };
      if (!kept.length) delete metadata.ownerReferences;
      return { ...obj, metadata };
    });
  }

  /** Removes one of the collector's finalizers; the API deletes an object left with none. */
  private removeFinalizer(ref: ObjectRef, owner: KubeObject, finalizer: string): Promise<void> {
    return this.rewrite(ref, owner.metadata.uid!, (obj) => {
      if (!hasFinalizer(obj, finalizer)) return undefined;
      const finalizers = obj.metadata.finalizers!.filter((f) => f !== finalizer);
      const metadata: ObjectMeta = { ...obj.metadata, finalizers };
      if (!finalizers.length) delete metadata.finalizers;
      return { ...obj, metadata };
    });
  }

  /** Read, change, write on the version read; read again on a conflict. Nothing when the object (that uid) is gone. */
  private async rewrite(ref: ObjectRef, uid: string, change: (obj: KubeObject) => KubeObject | undefined): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let current: KubeObject;
      try {
        current = await this.client.get(ref.kind, ref.namespace, ref.name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (current.metadata.uid !== uid) return;
      const next = change(current);
      if (!next) return;
      try {
        await this.client.update(ref.kind, ref.namespace, ref.name, next);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= WRITE_ATTEMPTS) throw err;
        this.log(`garbage collector: ${ref.kind.plural} ${ref.name} changed while being written; reading it again`);
      }
    }
  }
}

/** The served kind an owner reference names (by group and kind, as Kubernetes resolves it), if the dependent may have such an owner. */
function ownerKind(ref: OwnerReference, dependent: KubeObject): KindInfo | undefined {
  const kind = KINDS.find((k) => k.kind === ref.kind && k.group === groupOf(ref.apiVersion));
  // A cluster-scoped object cannot be owned by a namespaced one (Kubernetes: unresolvable, never collected).
  if (!kind || (kind.namespaced && !dependent.metadata.namespace)) return undefined;
  return kind;
}

function ownerNamespace(kind: KindInfo, dependent: KubeObject): string | undefined {
  return kind.namespaced ? dependent.metadata.namespace : undefined;
}
