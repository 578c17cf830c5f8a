// The one write path into the store: every create, update, patch and delete,
// whether it arrives over HTTP or from an in-process client, goes through
// here: shape checks -> schema validation -> admission -> compare-and-swap.
import { DEFAULT_NETWORKS, type ClusterNetworks } from '../objects/cluster-networks.ts';
import { isDeepStrictEqual } from 'node:util';
import { randomSuffix } from '../objects/names.ts';
import { setCondition } from '../objects/conditions.ts';
import { DEFAULT_NAMESPACE, KINDS, kindByName, SYSTEM_NAMESPACES, type KindInfo } from '../objects/kinds.ts';
import { encodeObject } from '../cache/cached-object.ts';
import { ExpiredError, InvalidContinueError, TooLargeResourceVersionError } from '../cache/errors.ts';
import { ObjectCache, type ListPage, type ListQuery, type ObjectCacheOptions } from '../cache/object-cache.ts';
import { parseSelection, type Selection } from '../cache/selection.ts';
import type { EventView, WatchEventType } from '../cache/watcher.ts';
import { SelectorError } from '../objects/selectors.ts';
import type { Condition, KubeObject, Namespace, Node, ObjectList, Pod } from '../objects/types.ts';
import { PodCidrs, podCidrTaken } from './pod-cidrs.ts';
import { ClusterIps, clusterIpTaken } from './cluster-ips.ts';
import { claimOp, failedOnClaim, newClaimOp, type Allocation } from './allocation-claims.ts';
import { HEADLESS, type Service } from '../objects/services.ts';
import { admitPodPriority, PriorityClasses, refuseSecondDefault, refuseSystemClassDelete, systemPriorityClasses } from './priority-classes.ts';
import type { PriorityClass } from '../objects/priority-classes.ts';
import { StoreUnavailableError } from '../store/store.ts';
import { ConflictError, KeyExistsError, KeyNotFoundError, type KeyValue, type Store, type TxnOp } from '../store/store.ts';
import { jsonCopy } from '../util/json-copy.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';
import { admitFields, type FieldOptions, checkShape, prepareForCreate, prepareForPlacement, prepareForStatusUpdate, prepareForUpdate } from './admission.ts';
import type { PatchType } from './body.ts';
import { errors, type ApiError } from './errors.ts';
import { isFinalized, isNamespace, markTerminating, prepareNamespaceForFinalize, refuseNewContent, refuseSystemNamespaceDelete, stillTerminating, systemNamespace } from './namespaces.ts';
import { applyPatchTo, checkPatch, patchError } from './patch.ts';
import { applyBody, fieldSchemaOf, recordedManagedFields, type FieldManagerOptions } from './field-manager.ts';
import { applyConfiguration } from '../objects/managed-fields.ts';
import type { PropagationPolicy } from '../objects/owners.ts';
import { isReadyToGo, markDeleted, propagationPolicyOf, terminatingUpdateErrors } from './deletion.ts';

export interface WriteOptions extends FieldOptions, FieldManagerOptions {
  /** `dryRun=All`: validate and admit, but store nothing. */
  dryRun?: boolean;
  /**
   * Checked against the object actually being replaced, inside the
   * compare-and-swap loop: an authorization that depends on the object's
   * state (a node may write only pods bound to it) cannot be raced.
   */
  guard?: WriteGuard;
  /** Rewrites what a writer may not claim, on each attempt (a node's pod array). */
  fence?: (incoming: KubeObject) => Promise<void>;
}

export interface WriteGuard {
  allows(current: KubeObject): boolean;
  /** Checked instead of allows on the object a write would create (an apply of one that does not exist). */
  allowsCreate?(incoming: KubeObject): boolean;
  /** Checked on what an update would store, against what it replaces. */
  allowsChange?(current: KubeObject, next: KubeObject): boolean;
  denied(): ApiError;
}

export interface DeleteOptions {
  dryRun?: boolean;
  /** Preconditions: delete only the object at this resourceVersion, with this uid. */
  resourceVersion?: string;
  uid?: string;
  /** What becomes of the object's dependents (unset: Background, or what its finalizers already say). */
  propagationPolicy?: PropagationPolicy;
  /** Checked against the object being deleted, as a write's guard is. */
  guard?: WriteGuard;
}

export interface WriteResult {
  object: KubeObject;
  /** Warnings for the client (unknown fields dropped), sent as `Warning` headers. */
  warnings: string[];
  /** False when an update changed nothing and so wrote nothing. */
  changed: boolean;
  /** A server-side apply made the object (201 rather than 200). */
  created?: boolean;
}

/** A server-side apply: the manager is required; force takes over fields other managers own. */
export interface ApplyOptions extends WriteOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status';
  /** Called before an apply creates the object: creating may need more permission than patching. */
  mayCreate?: () => Promise<void>;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per page (a whole number; 0 or unset: all), as Kubernetes pages lists. */
  limit?: string | number;
  /** The token of the previous page. */
  continue?: string;
  /** unset: the latest; "0": any (what the cache holds); N: at least as new as N, or exactly N with resourceVersionMatch=Exact. */
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Events after this resourceVersion; unset or "0" starts with the current objects as ADDED. */
  resourceVersion?: string;
  /** Send BOOKMARK events while nothing else happens (allowWatchBookmarks). */
  allowWatchBookmarks?: boolean;
}

export type { EventView } from '../cache/watcher.ts';

export interface WatchSink {
  event(type: WatchEventType, view: EventView): void;
  /** The watch can no longer continue (the store's watch ended). */
  end(err?: ApiError): void;
}

/**
 * One write of a commit. An update must state the resourceVersion it
 * replaces. subresource 'status' writes only status; 'binding' (pods only)
 * writes spec.nodeName, annotations and status of a pod that is not bound
 * yet; 'unbinding' clears spec.nodeName of a bound pod and writes its
 * annotations and status.
 */
export type CommitOp = (
  | { verb: 'create'; kind: KindInfo; object: KubeObject }
  | { verb: 'update'; kind: KindInfo; object: KubeObject; subresource?: 'status' | 'binding' | 'unbinding' }
) & {
  /** The caller hands the object over (it built it for this write): it is admitted as is, not copied first. */
  transfer?: boolean;
};

/** What a commit checks per write for the user sending it: the same guard and fence as the write alone. */
export interface CommitChecks {
  guard?: (op: CommitOp) => WriteOptions['guard'];
  fence?: (op: CommitOp) => WriteOptions['fence'];
}

const MAX_UNCONDITIONAL_RETRIES = 16;

const NAMESPACE = kindByName('Namespace')!;
const NODE = kindByName('Node')!;
const SERVICE = kindByName('Service')!;
const POD = kindByName('Pod')!;
const PRIORITY_CLASS = kindByName('PriorityClass')!;

export class Registry {
  readonly store: Store;
  /** Lists and watches are served from here; gets and writes go to the store. */
  readonly cache: ObjectCache;
  readonly clock: Clock;
  private readonly bootstrapped: Promise<void>;
  /** Which /24 of the pod network each Node has (node IPAM at admission). */
  private readonly podCidrs: PodCidrs;
  /** Which cluster IPs Services hold (the service IP allocator, at admission). */
  private readonly clusterIps: ClusterIps;
  /** The PriorityClasses pods take their priority from. */
  private readonly priorityClasses: PriorityClasses;

  /** networks: the ranges pod /24s and cluster IPs come from (--cluster-cidr, --service-cluster-ip-range). */
  constructor(store: Store, clock: Clock = systemClock, cacheOptions: Omit<ObjectCacheOptions, 'clock'> = {}, networks: ClusterNetworks = DEFAULT_NETWORKS) {
    this.store = store;
    this.clock = clock;
    this.cache = new ObjectCache(store, { ...cacheOptions, clock });
    this.podCidrs = new PodCidrs(networks.pods);
    this.clusterIps = new ClusterIps(this.cache, networks.services);
    this.priorityClasses = new PriorityClasses(store);
    this.bootstrapped = this.createSystemNamespaces();
    // Awaited by ready() and by every namespace check; never an unhandled rejection meanwhile.
    this.bootstrapped.catch(() => {});
  }

  /**
   * Settles once the system namespaces exist in the store (made at once on
   * a fresh store): the API serves no request before, so nothing can find
   * `default` or `kube-node-lease` missing.
   */
  ready(): Promise<void> {
    return this.bootstrapped;
  }

  /**
   * The system namespaces, and a Namespace for every namespace that holds
   * objects but has none: a store written before kcs served namespaces keeps
   * working (its pods in `team` can still be joined by others). The system
   * PriorityClasses too, made the same way.
   */
  private async createSystemNamespaces(): Promise<void> {
    const now = rfc3339(this.clock.now());
    this.podCidrs.load((await this.store.list(prefixFor(NODE, undefined))).items.map((kv) => decode(kv) as Node));
    const missing: TxnOp[] = [];
    const names = new Set(SYSTEM_NAMESPACES);
    for (const kind of KINDS.filter((k) => k.namespaced)) {
      const prefix = prefixFor(kind, undefined);
      // Keys are /registry/{plural}/{namespace}/{name}: no value is parsed.
      for (const kv of (await this.store.list(prefix)).items) names.add(kv.key.slice(prefix.length, kv.key.indexOf('/', prefix.length)));
    }
    for (const name of names) {
      if (await this.store.get(keyFor(NAMESPACE, undefined, name))) continue;
      const ns = checkShape(NAMESPACE, systemNamespace(name), undefined);
      admitFields(NAMESPACE, ns, {});
      missing.push({ type: 'create', key: keyFor(NAMESPACE, undefined, name), value: encode(prepareForCreate(ns, now)) });
    }
    for (const pc of systemPriorityClasses()) {
      const key = keyFor(PRIORITY_CLASS, undefined, pc.metadata.name!);
      if (await this.store.get(key)) continue;
      admitFields(PRIORITY_CLASS, checkShape(PRIORITY_CLASS, pc, undefined), {});
      missing.push({ type: 'create', key, value: encode(prepareForCreate(pc, now)) });
    }
    if (!missing.length) return;
    try {
      await this.store.txn(missing);
    } catch (err) {
      // Another registry over the same store (a second in-process API) made them first.
      if (!(err instanceof KeyExistsError)) throw err;
    }
  }

  /**
   * NamespaceLifecycle: content is created only in a namespace that exists
   * and is not being deleted (404 NotFound, 403 Forbidden). The caller writes
   * right after this returns, with nothing but microtasks in between: the
   * store commits in event-loop turns, so a namespace seen open here cannot
   * have been marked Terminating in a commit before this create's, and the
   * namespace controller, which empties a namespace only after it sees it
   * Terminating, will see this object and delete it.
   */
  private async checkNamespaces(creates: Array<{ kind: KindInfo; namespace: string; name?: string }>): Promise<void> {
    if (!creates.length) return;
    await this.bootstrapped;
    const seen = new Map<string, Promise<KeyValue | undefined>>();
    for (const c of creates) if (!seen.has(c.namespace)) seen.set(c.namespace, this.store.get(keyFor(NAMESPACE, undefined, c.namespace)));
    for (const c of creates) {
      const kv = await seen.get(c.namespace)!;
      const refusal = refuseNewContent(c.kind, c.name, c.namespace, kv && (decode(kv) as Namespace));
      if (refusal) throw refusal;
    }
  }

  // ---- reads -------------------------------------------------------------

  async get(kind: KindInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(keyFor(kind, namespace, name));
    if (!kv) throw errors.notFound(kind.plural, name);
    return decode(kv);
  }

  /** A list served from the cache: one page of it with limit, continued with the token it returns. */
  async listPage(kind: KindInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<ListPage> {
    const selection = selectionFor(kind, namespace, opts);
    try {
      return await this.cache.list(kind, selection, listQuery(opts));
    } catch (err) {
      throw cacheErrorOf(err);
    }
  }

  /** The list with its objects shared with the cache (frozen): what in-process clients get. */
  async list(kind: KindInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    return listObject(kind, await this.listPage(kind, namespace, opts));
  }

  /** The list as JSON text, each item's stored text spliced in, not parsed and serialized again: what HTTP clients get. */
  async listJson(kind: KindInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<string> {
    const page = await this.listPage(kind, namespace, opts);
    const metadata = listMetadata(page);
    return `{"apiVersion":${JSON.stringify(kind.apiVersion)},"kind":${JSON.stringify(kind.listKind)},"metadata":${JSON.stringify(metadata)},"items":[${page.items.map((o) => o.json()).join(',')}]}`;
  }

  async watch(kind: KindInfo, namespace: string | undefined, opts: WatchOptions, sink: WatchSink): Promise<() => void> {
    const selection = selectionFor(kind, namespace, opts);
    const rv = opts.resourceVersion;
    let from: number | undefined;
    if (rv !== undefined && rv !== '' && rv !== '0') {
      from = Number(rv);
      if (!/^\d+$/.test(rv) || !Number.isSafeInteger(from)) throw errors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}`);
    }
    try {
      return await this.cache.watch(kind, selection, { resourceVersion: from, bookmarks: opts.allowWatchBookmarks }, {
        event: (type, view) => sink.event(type, view),
        end: (err) => sink.end(err && (err instanceof StoreUnavailableError ? errors.unavailable(err.message, err) : errors.internal(err))),
      });
    } catch (err) {
      throw cacheErrorOf(err);
    }
  }

  /** The UIDs of the pods bound to node now (the fence on a node's status write). */
  async podsBoundTo(node: string): Promise<ReadonlySet<string>> {
    await this.cache.start();
    const uids = new Set<string>();
    for (const pod of this.cache.state(kindByName('Pod')!).indexed('spec.nodeName', node)?.values() ?? []) {
      const uid = pod.object().metadata.uid;
      if (uid) uids.add(uid);
    }
    return uids;
  }

  // ---- writes ------------------------------------------------------------

  async create(kind: KindInfo, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.createChecked(kind, namespace, checkShape(kind, body, namespace), opts, true);
  }

  /** A create of a body already shaped; `track`: record the write in managedFields (an apply recorded it already). */
  private async createChecked(kind: KindInfo, namespace: string | undefined, incoming: KubeObject, opts: WriteOptions, track: boolean): Promise<WriteResult> {
    // As the NamespaceLifecycle admission plugin, before validation; from
    // here to the write everything is synchronous (see checkNamespaces).
    if (kind === SERVICE) await this.clusterIps.ready();
    const classes = kind === POD || kind === PRIORITY_CLASS ? await this.priorityClasses.current() : undefined;
    if (kind.namespaced) await this.checkNamespaces([{ kind, namespace: incoming.metadata.namespace!, name: typeof incoming.metadata.name === 'string' ? incoming.metadata.name : undefined }]);
    if (!incoming.metadata.name) {
      if (!incoming.metadata.generateName) {
        throw errors.invalid(kind.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
      }
      incoming.metadata.name = incoming.metadata.generateName + randomSuffix();
    }
    // On a create, what is checked is the object as it would be stored (the controllers create only Nodes a NodePool owns).
    if (opts.guard && !(opts.guard.allowsCreate ? opts.guard.allowsCreate(incoming) : opts.guard.allows(incoming))) throw opts.guard.denied();
    const warnings = admitFields(kind, incoming, opts);
    if (kind === POD) admitPodPriority(incoming as Pod, classes!);
    if (kind === PRIORITY_CLASS) refuseSecondDefault(incoming as PriorityClass, classes!);
    const now = rfc3339(this.clock.now());
    if (track) {
      const managed = recordedManagedFields(kind, undefined, incoming, incoming.metadata.managedFields, opts, now);
      if (managed) incoming.metadata.managedFields = managed;
      else delete incoming.metadata.managedFields;
    }
    const object = prepareForCreate(incoming, now);
    const name = object.metadata.name!;
    // What the create asked for itself: refused, not picked again, if another server has it.
    const asked = kind === NODE ? (object as Node).spec.podCIDR : kind === SERVICE ? (object as Service).spec.clusterIP || (object as Service).spec.clusterIPs?.[0] : undefined;
    // Reserved in the same synchronous stretch as the look at what is taken (cluster-ips.ts).
    let clusterIp = kind === SERVICE ? this.clusterIps.assign(object as Service) : undefined;
    if (opts.dryRun) {
      this.clusterIps.settle(clusterIp);
      if (await this.store.get(keyFor(kind, namespace, name))) throw errors.alreadyExists(kind.plural, name);
      if (kind === NODE) {
        this.podCidrs.assign(object as Node);
        this.podCidrs.release((object as Node).spec.podCIDR);
      }
      return { object, warnings, changed: true };
    }
    // Taken in the same synchronous stretch as the write: two Nodes created at once never share a range.
    if (kind === NODE) await this.assignPodCidr(object as Node);
    const key = keyFor(kind, object.metadata.namespace, name);
    for (let attempt = 1; ; attempt++) {
      try {
        const kv = await this.createClaiming(kind, key, object);
        this.clusterIps.settle(clusterIp, kv.modRevision);
        return { object: withVersion(object, kv.modRevision), warnings, changed: true };
      } catch (err) {
        const lost = err instanceof AllocationHeldError || failedOnClaim(err);
        if (!lost) {
          if (kind === NODE) this.podCidrs.release((object as Node).spec.podCIDR);
          this.clusterIps.settle(clusterIp);
          throw apiErrorOf(err, kind.plural, name);
        }
        // Another API server of this store holds it: this one learns so, and picks again (unless the create named it).
        if (kind === NODE) await this.learnPodCidrs({ forget: false });
        else this.clusterIps.settle(clusterIp, await this.store.currentRevision());
        if (asked !== undefined) throw kind === NODE ? podCidrTaken(object as Node) : clusterIpTaken(object as Service);
        if (attempt >= MAX_ALLOCATION_ATTEMPTS) throw errors.conflict(kind.plural, name, `the ${kind === NODE ? 'pod range' : 'cluster IP'} chosen for it was taken by another API server ${attempt} times in a row; try again`);
        if (kind === NODE) {
          delete (object as Node).spec.podCIDR;
          this.podCidrs.assign(object as Node);
        } else {
          delete (object as Service).spec.clusterIP;
          delete (object as Service).spec.clusterIPs;
          clusterIp = this.clusterIps.assign(object as Service);
        }
      }
    }
  }

  /**
   * A create, with the claim on what admission gave the object
   * (allocation-claims.ts) in the same transaction. The claim is first
   * made as new, one round trip; only a value claimed before (by another
   * server, or by an object since gone) has its claim read and judged.
   */
  private async createClaiming(kind: KindInfo, key: string, object: KubeObject): Promise<KeyValue> {
    const allocation = this.store.shared ? allocationOf(kind, object) : undefined;
    const value = encode(object);
    if (!allocation) return this.store.create(key, value);
    const uid = object.metadata.uid!;
    const firstTry = newClaimOp(allocation, key, uid);
    try {
      return (await this.store.txn([{ type: 'create', key, value }, firstTry]))[0]!;
    } catch (err) {
      if (!(err instanceof KeyExistsError && err.key === firstTry.key)) throw err;
    }
    const claim = await claimOp(this.store, allocation, key, uid);
    if (!claim) throw new AllocationHeldError();
    return (await this.store.txn([{ type: 'create', key, value }, claim]))[0]!;
  }

  /**
   * Gives a Node its pod range. A range asked for that this server thinks
   * taken may have been freed by another server of a shared store: it looks
   * again before refusing.
   */
  private async assignPodCidr(node: Node): Promise<void> {
    try {
      this.podCidrs.assign(node);
    } catch (err) {
      if (!this.store.shared || node.spec.podCIDR === undefined) throw err;
      await this.learnPodCidrs({ forget: true });
      this.podCidrs.assign(node);
    }
  }

  /**
   * The pod ranges every server of a shared store gave out: those of the
   * Nodes the cache shows once it has caught up with the store. Added to
   * what this server knows; with forget, instead of it, so ranges freed by
   * another server's deletes can be had again (what this server has in
   * flight is then forgotten too, and only the claims guard it: for a range
   * asked for, not for picking ranges in a loop).
   */
  private async learnPodCidrs(opts: { forget: boolean }): Promise<void> {
    const revision = await this.store.currentRevision();
    await this.cache.start();
    await this.cache.waitFor(revision);
    const nodes = [...this.cache.state(NODE).tree.values()].map((cached) => cached.object() as Node);
    if (opts.forget) this.podCidrs.reset(nodes);
    else this.podCidrs.load(nodes);
  }

  /** PUT of the main resource or of /status. */
  async update(kind: KindInfo, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions & { subresource?: 'status' } = {}): Promise<WriteResult> {
    const incoming = checkShape(kind, body, namespace, name);
    const precondition = incoming.metadata.resourceVersion;
    return this.guaranteedUpdate(kind, namespace, name, precondition, opts, () => incoming);
  }

  async patch(kind: KindInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOptions & Pick<ApplyOptions, 'force' | 'mayCreate' | 'subresource'> = {}): Promise<WriteResult> {
    if (type === 'application/apply-patch+yaml') {
      if (!opts.fieldManager) throw errors.fieldManagerRequired();
      return this.apply(kind, namespace, name, patch, { ...opts, fieldManager: opts.fieldManager });
    }
    checkPatch(kind, type, patch);
    // A patch that states a resourceVersion asks for optimistic concurrency,
    // as in Kubernetes: it applies only to the object at that version.
    const precondition = patchedResourceVersion(type, patch);
    return this.guaranteedUpdate(kind, namespace, name, precondition, opts, (current) => checkShape(kind, applyPatchTo(kind, current, type, patch), namespace, name));
  }

  /**
   * Server-side apply (PATCH with application/apply-patch+yaml): the body is
   * the manager's whole intent for the object; it is merged into the live
   * object by the schema's list and map types, fields the manager stopped
   * stating are removed unless someone else owns them, and changing a field
   * another manager owns is a 409 unless forced. An object that does not
   * exist is created.
   */
  async apply(kind: KindInfo, namespace: string | undefined, name: string, body: unknown, opts: ApplyOptions): Promise<WriteResult> {
    const config = applyBody(kind, body, namespace, name, opts.subresource);
    const type = fieldSchemaOf(kind);
    const applyAt = (current: KubeObject | undefined) => {
      try {
        return applyConfiguration(current, config, { type, manager: opts.fieldManager, apiVersion: kind.apiVersion, subresource: opts.subresource, force: opts.force === true, now: rfc3339(this.clock.now()) });
      } catch (err) {
        throw patchError(err);
      }
    };
    const key = keyFor(kind, namespace, name);
    if (!opts.subresource && !(await this.store.get(key))) {
      await opts.mayCreate?.();
      try {
        const result = await this.createChecked(kind, namespace, checkShape(kind, applyAt(undefined), namespace, name), opts, false);
        return { ...result, created: true };
      } catch (err) {
        // Made by someone else meanwhile: apply to theirs.
        if ((err as ApiError).reason !== 'AlreadyExists') throw err;
      }
    }
    return this.guaranteedUpdate(kind, namespace, name, config.metadata.resourceVersion, { ...opts, applied: true }, (current) => checkShape(kind, applyAt(current), namespace, name));
  }

  /**
   * Deletes; with preconditions (DeleteOptions), only the object at that
   * resourceVersion and/or uid. An object left with finalizers (its own, or
   * the garbage collector's for propagationPolicy Orphan or Foreground) is
   * only marked with a deletionTimestamp and answered as it now is; deleting
   * it again changes nothing.
   */
  async delete(kind: KindInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    const key = keyFor(kind, namespace, name);
    const expected = opts.resourceVersion === undefined ? undefined : Number(opts.resourceVersion);
    if (expected !== undefined && !Number.isSafeInteger(expected)) throw errors.badRequest(`invalid resourceVersion precondition ${JSON.stringify(opts.resourceVersion)}`);
    // Checked here too for in-process callers, which skip the route's parsing.
    propagationPolicyOf({ propagationPolicy: opts.propagationPolicy });
    if (kind === NAMESPACE) return this.deleteNamespace(name, expected, opts);
    const systemClass = kind === PRIORITY_CLASS ? refuseSystemClassDelete(name) : undefined;
    if (systemClass) throw systemClass;
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(kind.plural, name);
      const current = decode(kv);
      if (opts.uid !== undefined && current.metadata.uid !== opts.uid) throw errors.conflict(kind.plural, name);
      if (expected !== undefined && expected !== kv.modRevision) throw errors.conflict(kind.plural, name);
      if (opts.guard && !opts.guard.allows(current)) throw opts.guard.denied();
      if (current.metadata.deletionTimestamp) return current;
      const next = markDeleted(current, rfc3339(this.clock.now()), opts.propagationPolicy);
      const goes = isReadyToGo(next);
      if (opts.dryRun) return goes ? current : withVersion(next, kv.modRevision);
      try {
        if (goes) {
          const gone = decode(await this.store.delete(key, kv.modRevision));
          if (kind === NODE) this.podCidrs.release((gone as Node).spec?.podCIDR);
          return gone;
        }
        const written = await this.store.update(key, encode(next), kv.modRevision);
        return withVersion(next, written.modRevision);
      } catch (err) {
        if (!(err instanceof ConflictError) || expected !== undefined || attempt >= MAX_UNCONDITIONAL_RETRIES) throw apiErrorOf(err, kind.plural, name);
      }
    }
  }

  /**
   * A namespace is not deleted at once: the first delete marks it
   * Terminating (deletionTimestamp, status.phase), and it goes from the store
   * only when its finalizers are gone (the namespace controller removes
   * `kubernetes` through /finalize once the namespace is empty). Answers the
   * namespace as it is now, as Kubernetes does.
   */
  private async deleteNamespace(name: string, expected: number | undefined, opts: DeleteOptions): Promise<KubeObject> {
    const refusal = refuseSystemNamespaceDelete(name);
    if (refusal) throw refusal;
    const key = keyFor(NAMESPACE, undefined, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(NAMESPACE.plural, name);
      const current = decode(kv) as Namespace;
      if (opts.uid !== undefined && current.metadata.uid !== opts.uid) throw errors.conflict(NAMESPACE.plural, name);
      if (expected !== undefined && expected !== kv.modRevision) throw errors.conflict(NAMESPACE.plural, name);
      if (opts.guard && !opts.guard.allows(current)) throw opts.guard.denied();
      const now = rfc3339(this.clock.now());
      const next = current.metadata.deletionTimestamp ? current : markDeleted(markTerminating(current, now), now, opts.propagationPolicy) as Namespace;
      if (current.metadata.deletionTimestamp && !isFinalized(current)) throw stillTerminating(name);
      try {
        if (isFinalized(next)) {
          if (!opts.dryRun) await this.store.delete(key, kv.modRevision);
          return withVersion(next, kv.modRevision);
        }
        if (opts.dryRun) return withVersion(next, kv.modRevision);
        const written = await this.store.update(key, encode(next), kv.modRevision);
        return withVersion(next, written.modRevision);
      } catch (err) {
        if (!(err instanceof ConflictError) || expected !== undefined || attempt >= MAX_UNCONDITIONAL_RETRIES) throw apiErrorOf(err, NAMESPACE.plural, name);
      }
    }
  }

  /**
   * PUT namespaces/{name}/finalize: sets spec.finalizers (and nothing else).
   * A deleted namespace left with no finalizer goes from the store.
   */
  async finalizeNamespace(name: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    const incoming = checkShape(NAMESPACE, body, undefined, name) as Namespace;
    const precondition = incoming.metadata.resourceVersion;
    const key = keyFor(NAMESPACE, undefined, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(NAMESPACE.plural, name);
      if (precondition && precondition !== String(kv.modRevision)) throw errors.conflict(NAMESPACE.plural, name);
      const current = decode(kv) as Namespace;
      const next = prepareNamespaceForFinalize(structuredClone(incoming), current);
      const warnings = admitFields(NAMESPACE, next, opts);
      try {
        if (isFinalized(next)) {
          if (!opts.dryRun) await this.store.delete(key, kv.modRevision);
          return { object: withVersion(next, kv.modRevision), warnings, changed: true };
        }
        const { resourceVersion: _rv, ...currentMeta } = current.metadata;
        if (isDeepStrictEqual(next, { ...current, metadata: currentMeta })) return { object: current, warnings, changed: false };
        if (opts.dryRun) return { object: withVersion(next, kv.modRevision), warnings, changed: true };
        const written = await this.store.update(key, encode(next), kv.modRevision);
        return { object: withVersion(next, written.modRevision), warnings, changed: true };
      } catch (err) {
        if (!(err instanceof ConflictError) || precondition || attempt >= MAX_UNCONDITIONAL_RETRIES) throw apiErrorOf(err, NAMESPACE.plural, name);
      }
    }
  }

  /**
   * DELETE on a collection (deletecollection): every object the selectors
   * match is deleted, one by one, as Kubernetes does; the answer is the list
   * of what was deleted (what would be, with dryRun). An object that went
   * away meanwhile is skipped.
   */
  async deleteCollection(kind: KindInfo, namespace: string | undefined, opts: ListOptions & Pick<DeleteOptions, 'dryRun' | 'propagationPolicy'> = {}): Promise<ObjectList> {
    if (kind === NAMESPACE) throw errors.methodNotAllowed('DELETE', `${apiPathOf(kind)}`);
    const { labelSelector, fieldSelector } = opts;
    const list = await this.list(kind, namespace, { labelSelector, fieldSelector });
    const deleted: KubeObject[] = [];
    for (const obj of list.items) {
      // The system PriorityClasses stay, as they do a delete of their own.
      if (kind === PRIORITY_CLASS && refuseSystemClassDelete(obj.metadata.name!)) continue;
      try {
        deleted.push(await this.delete(kind, obj.metadata.namespace, obj.metadata.name!, { dryRun: opts.dryRun, propagationPolicy: opts.propagationPolicy }));
      } catch (err) {
        if ((err as ApiError).code !== 404) throw err;
      }
    }
    return { apiVersion: kind.apiVersion, kind: kind.listKind, metadata: { resourceVersion: list.metadata.resourceVersion }, items: deleted };
  }

  /**
   * Several writes applied all together or not at all, in one store
   * transaction: each is validated and admitted as on its own, and an update
   * whose object changed since the stated resourceVersion fails the whole
   * commit with 409. The scheduler binds a batch of pods and reserves their
   * room on the nodes this way: one transaction instead of two per pod.
   */
  async commit(ops: CommitOp[], checks: CommitChecks = {}, opts: { dryRun?: boolean } = {}): Promise<KubeObject[]> {
    /** Pod ranges given to Nodes the commit creates: given back unless it is written. */
    const cidrs: unknown[] = [];
    try {
      const written = await this.commitWith(ops, checks, opts, cidrs);
      if (opts.dryRun) for (const cidr of cidrs) this.podCidrs.release(cidr);
      return written;
    } catch (err) {
      for (const cidr of cidrs) this.podCidrs.release(cidr);
      throw err;
    }
  }

  private async commitWith(ops: CommitOp[], checks: CommitChecks, opts: { dryRun?: boolean }, cidrs: unknown[]): Promise<KubeObject[]> {
    const txn: TxnOp[] = [];
    const prepared: KubeObject[] = [];
    const now = rfc3339(this.clock.now());
    // Every object replaced is read up front, in one wait: awaiting each in
    // turn would let other work run between the reads of one commit.
    const stored = await Promise.all(ops.map((op) => (op.verb === 'update' ? this.storedAt(keyFor(op.kind, op.object.metadata?.namespace, op.object.metadata?.name ?? ''), op.object.metadata?.resourceVersion) : undefined)));
    const classes = ops.some((op) => (op.kind === POD && op.verb === 'create') || op.kind === PRIORITY_CLASS) ? await this.priorityClasses.current() : [];
    for (const [i, op] of ops.entries()) {
      const ns = op.object.metadata?.namespace;
      if (op.verb === 'create') {
        const incoming = checkShape(op.kind, op.transfer ? op.object : jsonCopy(op.object), ns);
        // A cluster IP is allocated by a create of its own, which the cache then shows before the next.
        if (op.kind === SERVICE) throw errors.badRequest('commit: a Service is created on its own, not in a commit (its cluster IP is allocated by that create)');
        const createGuard = checks.guard?.(op);
        if (createGuard && !createGuard.allows(incoming)) throw createGuard.denied();
        admitFields(op.kind, incoming, {});
        if (op.kind === POD) admitPodPriority(incoming as Pod, classes);
        if (op.kind === PRIORITY_CLASS) refuseSecondDefault(incoming as PriorityClass, classes);
        const object = prepareForCreate(incoming, now);
        if (op.kind === NODE) {
          this.podCidrs.assign(object as Node);
          cidrs.push((object as Node).spec.podCIDR);
        }
        txn.push({ type: 'create', key: keyFor(op.kind, object.metadata.namespace, object.metadata.name!), value: encode(object) });
        prepared.push(object);
        continue;
      }
      const name = op.object.metadata?.name ?? '';
      const rv = op.object.metadata?.resourceVersion;
      if (!rv) throw errors.badRequest(`commit: ${op.kind.plural}/${name} must state the resourceVersion it replaces`);
      const placement = op.subresource === 'binding' || op.subresource === 'unbinding';
      if (placement && op.kind.kind !== 'Pod') throw errors.badRequest(`commit: only pods have a ${op.subresource}`);
      const key = keyFor(op.kind, ns, name);
      const kv = stored[i];
      if (!kv) throw errors.notFound(op.kind.plural, name);
      if (String(kv.modRevision) !== rv) throw errors.conflict(op.kind.plural, name);
      const current = decode(kv);
      const guard = checks.guard?.(op);
      if (guard && !guard.allows(current)) throw guard.denied();
      if (op.subresource === 'binding' && !op.object.spec?.nodeName) {
        // Written, it would leave the pod pending with a PodScheduled=True status.
        throw errors.invalid(op.kind.kind, name, [{ reason: 'FieldValueRequired', field: 'spec.nodeName', message: 'Required value: the node to bind to' }]);
      }
      if (op.subresource === 'binding' && current.spec?.nodeName) {
        throw errors.conflict(op.kind.plural, name, `pod ${name} is already assigned to node ${current.spec.nodeName}`);
      }
      if (op.subresource === 'unbinding' && !current.spec?.nodeName) {
        throw errors.conflict(op.kind.plural, name, `pod ${name} is not assigned to a node`);
      }
      // A subresource takes only its fields from the caller, the rest from
      // the stored object: copying just those is cheaper than the whole.
      let incoming: KubeObject;
      if (op.subresource) {
        incoming = { ...current, status: op.object.status === undefined || op.transfer ? op.object.status : jsonCopy(op.object.status) };
        if (placement) {
          const annotations = op.object.metadata.annotations;
          incoming.metadata = { ...current.metadata, annotations: annotations === undefined || op.transfer ? annotations : { ...annotations } };
          incoming.spec = { ...current.spec, nodeName: op.subresource === 'binding' ? op.object.spec?.nodeName : undefined };
        }
      } else {
        incoming = checkShape(op.kind, op.transfer ? op.object : jsonCopy(op.object), ns, name);
        // Batched internal writes record no field manager; one that does not carry managedFields keeps the stored ones.
        if (incoming.metadata.managedFields === undefined && current.metadata.managedFields !== undefined) incoming.metadata.managedFields = current.metadata.managedFields;
      }
      // Only a node's status write has a fence; no other write waits here.
      const fence = checks.fence?.(op);
      if (fence) await fence(incoming);
      admitFields(op.kind, incoming, {});
      if (op.kind === PRIORITY_CLASS && !op.subresource) refuseSecondDefault(incoming as PriorityClass, classes);
      const next = op.subresource === 'status' ? prepareForStatusUpdate(incoming, current)
        : placement ? prepareForPlacement(incoming, current)
          : prepareForUpdate(incoming, current);
      if (!op.subresource) {
        if (guard?.allowsChange && !guard.allowsChange(current, next)) throw guard.denied();
        const refused = terminatingUpdateErrors(next, current);
        if (refused.length) throw errors.invalid(op.kind.kind, name, refused);
      }
      txn.push(!op.subresource && isReadyToGo(next) ? { type: 'delete', key, expectedModRevision: kv.modRevision } : { type: 'update', key, value: encode(next), expectedModRevision: kv.modRevision });
      prepared.push(next);
    }
    // Last, so nothing but microtasks runs between the check and the write.
    await this.checkNamespaces(ops.flatMap((op, i) => (op.verb === 'create' && op.kind.namespaced ? [{ kind: op.kind, namespace: prepared[i]!.metadata.namespace!, name: prepared[i]!.metadata.name }] : [])));
    if (opts.dryRun) {
      // Everything admitted as for real; a create that would collide is refused as the store would.
      for (const [i, op] of txn.entries()) {
        if (op.type === 'create' && (await this.store.get(op.key))) throw errors.alreadyExists(ops[i]!.kind.plural, prepared[i]!.metadata.name!);
      }
      return prepared.map((obj, i) => (txn[i]!.type !== 'create' ? withVersion(obj, (txn[i] as { expectedModRevision: number }).expectedModRevision) : obj));
    }
    // Each created Node's pod range claimed in the same transaction; one another server holds fails the commit (409: try again).
    for (const [i, op] of ops.entries()) {
      const allocation = op.verb === 'create' && this.store.shared ? allocationOf(op.kind, prepared[i]!) : undefined;
      if (!allocation) continue;
      const claim = await claimOp(this.store, allocation, txn[i]!.key, prepared[i]!.metadata.uid!);
      if (!claim) {
        await this.lostPodCidrs(cidrs);
        throw errors.conflict(op.kind.plural, prepared[i]!.metadata.name!, `pod range ${allocation.value} was given out by another API server at the same time; try again`);
      }
      txn.push(claim);
    }
    try {
      const written = await this.store.txn(txn);
      return prepared.map((obj, i) => withVersion(obj, written[i]!.modRevision));
    } catch (err) {
      if (failedOnClaim(err)) {
        await this.lostPodCidrs(cidrs);
        throw errors.conflict('nodes', '', 'a pod range was given out by another API server at the same time; try again');
      }
      const i = txn.findIndex((op) => op.key === (err as { key?: string }).key);
      throw i >= 0 ? apiErrorOf(err, ops[i]!.kind.plural, prepared[i]!.metadata.name!) : apiErrorOf(err, 'objects', '');
    }
  }

  /**
   * A commit lost a pod range to another server: this server learns what
   * the others hold, and keeps the commit's picks taken rather than give
   * back (commit() would) one that another server holds.
   */
  private async lostPodCidrs(picked: unknown[]): Promise<void> {
    picked.length = 0;
    await this.learnPodCidrs({ forget: false });
  }

  /**
   * The stored object a commit's update says it replaces: from the cache
   * when the cache holds exactly that version (its text is the stored
   * text), else read from the store. The Txn compares the version either
   * way, so a cache behind or ahead only costs the read. On etcd the read
   * is a round trip per object, most of what a scheduler's batch cost.
   */
  private async storedAt(key: string, resourceVersion: string | undefined): Promise<KeyValue | undefined> {
    const cached = this.cache.current(key);
    if (cached && resourceVersion !== undefined && String(cached.revision) === resourceVersion) {
      return { key, value: cached.value, createRevision: 0, modRevision: cached.revision };
    }
    return this.store.get(key);
  }

  /**
   * pods/binding: assigns a pod that no node holds yet to a node (what an
   * outside scheduler posts, as in Kubernetes), with PodScheduled=True. The
   * node must exist; a pod already assigned is a 409.
   */
  async bind(namespace: string | undefined, name: string, nodeName: string, annotations: Record<string, string> | undefined, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const pods = kindByName('Pod')!;
    if (!(await this.store.get(keyFor(kindByName('Node')!, undefined, nodeName)))) throw errors.notFound('nodes', nodeName);
    for (let attempt = 0; ; attempt++) {
      const pod = await this.get(pods, namespace, name);
      if (pod.spec?.nodeName) throw errors.conflict(pods.plural, name, `pod ${name} is already assigned to node ${pod.spec.nodeName}`);
      const status = (pod.status ?? {}) as { conditions?: Condition[] };
      const conditions = setCondition(status.conditions, { type: 'PodScheduled', status: 'True', reason: 'Scheduled', message: `assigned to ${nodeName} by a binding` }, this.clock.now());
      const bound = { ...pod, metadata: { ...pod.metadata, annotations: annotations ? { ...pod.metadata.annotations, ...annotations } : pod.metadata.annotations }, spec: { ...pod.spec, nodeName }, status: { ...status, conditions } };
      try {
        return (await this.commit([{ verb: 'update', kind: pods, subresource: 'binding', object: bound, transfer: true }], {}, opts))[0]!;
      } catch (err) {
        // Changed between the read and the write: read again, as an update without a precondition does.
        if ((err as ApiError).code !== 409 || attempt >= MAX_UNCONDITIONAL_RETRIES) throw err;
      }
    }
  }

  /**
   * Read, change, compare-and-swap; on a conflict without a client
   * precondition, read again and retry (as Kubernetes' GuaranteedUpdate does).
   */
  private async guaranteedUpdate(
    kind: KindInfo, namespace: string | undefined, name: string,
    precondition: string | undefined | (() => string | undefined),
    opts: WriteOptions & { subresource?: 'status'; applied?: boolean },
    change: (current: KubeObject) => KubeObject,
  ): Promise<WriteResult> {
    const key = keyFor(kind, namespace, name);
    const classes = kind === PRIORITY_CLASS ? await this.priorityClasses.current() : undefined;
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(kind.plural, name);
      const current = decode(kv);
      if (opts.guard && !opts.guard.allows(current)) throw opts.guard.denied();
      // A second parse is a cheaper private copy than cloning the first.
      const incoming = change(decode(kv));
      await opts.fence?.(incoming);
      const wanted = typeof precondition === 'function' ? precondition() : precondition;
      if (wanted !== undefined && wanted !== '' && wanted !== String(kv.modRevision)) throw errors.conflict(kind.plural, name);
      const warnings = admitFields(kind, incoming, opts);
      if (classes) refuseSecondDefault(incoming as PriorityClass, classes);
      const next = opts.subresource === 'status' ? prepareForStatusUpdate(incoming, current) : prepareForUpdate(incoming, current);
      if (opts.guard?.allowsChange && !opts.guard.allowsChange(current, next)) throw opts.guard.denied();
      const refused = terminatingUpdateErrors(next, current);
      if (refused.length) throw errors.invalid(kind.kind, name, refused);
      if (opts.applied) {
        // The apply computed the managedFields of the whole object; a status apply keeps the rest of it.
        if (opts.subresource === 'status') setManagedFields(next, incoming.metadata.managedFields);
      } else {
        const requested = opts.subresource ? undefined : incoming.metadata.managedFields;
        setManagedFields(next, recordedManagedFields(kind, current, next, requested, opts, () => rfc3339(this.clock.now())));
      }
      const { resourceVersion: _rv, ...currentMeta } = current.metadata;
      if (isDeepStrictEqual(next, { ...current, metadata: currentMeta })) {
        return { object: current, warnings, changed: false };
      }
      if (opts.dryRun) return { object: withVersion(next, kv.modRevision), warnings, changed: true };
      try {
        // The last finalizer removed from an object being deleted: it goes.
        const written = isReadyToGo(next) ? await this.store.delete(key, kv.modRevision) : await this.store.update(key, encode(next), kv.modRevision);
        return { object: withVersion(next, written.modRevision), warnings, changed: true };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw apiErrorOf(err, kind.plural, name);
        if ((wanted !== undefined && wanted !== '') || attempt >= MAX_UNCONDITIONAL_RETRIES) throw errors.conflict(kind.plural, name);
      }
    }
  }
}

// ---- helpers -------------------------------------------------------------

/** Creates that lose the value they were given to another server this many times in a row fail (each loss teaches this server). */
const MAX_ALLOCATION_ATTEMPTS = 8;

/** The value admission gave a created object, to claim: a Node's pod range, a Service's cluster IP. */
function allocationOf(kind: KindInfo, object: KubeObject): Allocation | undefined {
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  const value = kind === NODE ? spec?.podCIDR : kind === SERVICE ? spec?.clusterIP : undefined;
  if (typeof value !== 'string' || value === '' || value === HEADLESS) return undefined;
  const field = kind === NODE ? 'podCIDR' : 'clusterIP';
  return { pool: kind === NODE ? 'podcidrs' : 'clusterips', value, heldBy: (o) => o.spec?.[field] === value };
}

/** The claim on an object's value is held by another live object. */
class AllocationHeldError extends Error {
  override name = 'AllocationHeldError';
}

/** The one mapping of the store's errors to the API's; anything else passes through (a 500). */
function apiErrorOf(err: unknown, plural: string, name: string): unknown {
  if (err instanceof KeyExistsError) return errors.alreadyExists(plural, name);
  if (err instanceof KeyNotFoundError) return errors.notFound(plural, name);
  if (err instanceof ConflictError) return errors.conflict(plural, name);
  return err;
}

function patchedResourceVersion(type: PatchType, patch: unknown): string | undefined {
  if (type !== 'application/json-patch+json') {
    const rv = (patch as { metadata?: { resourceVersion?: unknown } | null }).metadata?.resourceVersion;
    return typeof rv === 'string' ? rv : undefined;
  }
  for (const op of patch as Array<{ op: string; path: string; value?: unknown }>) {
    if (op.path === '/metadata/resourceVersion' && ['add', 'replace', 'test'].includes(op.op) && typeof op.value === 'string') return op.value;
  }
  return undefined;
}

function apiPathOf(kind: KindInfo): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}/${kind.plural}` : `/api/${kind.version}/${kind.plural}`;
}

export function keyFor(kind: KindInfo, namespace: string | undefined, name: string): string {
  return kind.namespaced ? `/registry/${kind.plural}/${namespace ?? DEFAULT_NAMESPACE}/${name}` : `/registry/${kind.plural}/${name}`;
}

export function prefixFor(kind: KindInfo, namespace: string | undefined): string {
  return kind.namespaced && namespace ? `/registry/${kind.plural}/${namespace}/` : `/registry/${kind.plural}/`;
}

const encode = encodeObject;

function setManagedFields(obj: KubeObject, entries: KubeObject['metadata']['managedFields']): void {
  if (entries) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

function decodeValue(value: string, revision: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

function decode(kv: KeyValue): KubeObject {
  return decodeValue(kv.value, kv.modRevision);
}

function withVersion(obj: KubeObject, revision: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
}

function selectionFor(kind: KindInfo, namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string }): Selection {
  try {
    return parseSelection(kind, namespace, opts.labelSelector, opts.fieldSelector);
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message, err);
    throw err;
  }
}

/** The paging and resourceVersion parameters of a list, checked as Kubernetes checks them. */
function listQuery(opts: ListOptions): ListQuery {
  const query: ListQuery = {};
  if (opts.limit !== undefined && opts.limit !== '') {
    const limit = Number(opts.limit);
    if (!Number.isSafeInteger(limit) || limit < 0) throw errors.badRequest(`limit must be a whole number (got ${JSON.stringify(opts.limit)})`);
    query.limit = limit;
  }
  const rv = opts.resourceVersion === '' ? undefined : opts.resourceVersion;
  const match = opts.resourceVersionMatch === '' ? undefined : opts.resourceVersionMatch;
  if (opts.continue !== undefined && opts.continue !== '') {
    if (rv !== undefined && rv !== '0') throw errors.badRequest('specifying resource version is not allowed when using continue');
    if (match !== undefined) throw errors.badRequest('resourceVersionMatch is forbidden when continue is provided');
    query.continue = opts.continue;
    return query;
  }
  if (match !== undefined) {
    if (match !== 'NotOlderThan' && match !== 'Exact') throw errors.badRequest(`resourceVersionMatch must be NotOlderThan or Exact (got ${JSON.stringify(match)})`);
    if (rv === undefined) throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (match === 'Exact' && rv === '0') throw errors.badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
    query.resourceVersionMatch = match;
  }
  if (rv !== undefined) {
    if (!/^\d+$/.test(rv) || !Number.isSafeInteger(Number(rv))) throw errors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}`);
    query.resourceVersion = Number(rv);
  }
  return query;
}

function listMetadata(page: ListPage): ObjectList['metadata'] {
  const metadata: ObjectList['metadata'] = { resourceVersion: String(page.revision) };
  if (page.continue !== undefined) metadata.continue = page.continue;
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  return metadata;
}

function listObject(kind: KindInfo, page: ListPage): ObjectList {
  return { apiVersion: kind.apiVersion, kind: kind.listKind, metadata: listMetadata(page), items: page.items.map((o) => o.object()) };
}

/** The cache's refusals as the Status Kubernetes sends for each. */
function cacheErrorOf(err: unknown): unknown {
  if (err instanceof ExpiredError) return errors.expired(err.message);
  if (err instanceof TooLargeResourceVersionError) return errors.tooLargeResourceVersion(err.message);
  if (err instanceof InvalidContinueError) return errors.badRequest(err.message);
  return err;
}

