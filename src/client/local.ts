// The in-process transport: the same Registry calls an HTTP request ends
// in, without the socket and the JSON round trip. Controllers inside `kcs up`
// and virtual nodes use it; everything else is as over HTTP, errors included
// (ApiError carries the same code as the Status an HTTP client would get).
import type { Authorizer, RequestAttributes, User } from '../api/auth.ts';
import { commitOpAttributes } from '../api/commit.ts';
import { errors } from '../api/errors.ts';
import { clusterAuthorizer, commitChecks, controllerNodeGuard, writeChecks } from '../api/node-auth.ts';
import type { CommitOp, Registry } from '../api/registry.ts';
import type { UsageRecorder } from '../api/usage-recorder.ts';
import { parseUsageReport, USAGE_REPORT_KIND, type NodeUsageReport } from '../api/usage-report.ts';
import { REVIEW_KIND, reviewConnection, reviewStatus, type ReviewSpec, type ReviewStatus } from '../api/network-policy-review.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList, WatchEvent } from '../objects/types.ts';
import { CONTROLLERS_USER, garbageCollectorGuard } from '../api/controller-auth.ts';
import type { PatchType } from '../api/body.ts';
// The registry gets copies (jsonCopy): the caller's objects may be shared and frozen.
import { jsonCopy } from '../util/json-copy.ts';
import { PATCH_CONTENT_TYPES, type DeleteQuery, type KcsClient, type ListQuery, type PatchQuery, type Response, type Selectors, type WatchHandle, type WatchQuery, type WriteQuery } from './interface.ts';


export interface LocalIdentity {
  user: User;
  /** The authorizer HTTP requests go through (default: the cluster's). */
  authorize?: Authorizer;
  /** Who this client's writes are recorded as in managedFields (default: by the user: kcs-controller-manager, kcs-agent, kcs). */
  fieldManager?: string;
  /** Where usage reports go (the API server's recorder); without it, reportUsage refuses. */
  usage?: UsageRecorder;
}

/** As an HTTP client's User-Agent names it: the component that writes. */
function defaultFieldManager(user: User): string {
  if (user.name === CONTROLLERS_USER.name) return 'kcs-controller-manager';
  if (user.name.startsWith('system:node:')) return 'kcs-agent';
  return 'kcs';
}

export class LocalClient implements KcsClient {
  private readonly registry: Registry;
  private readonly user: User;
  private readonly authorize: Authorizer;
  private readonly fieldManager: string;
  private readonly usage?: UsageRecorder;

  /**
   * Every call is authorized exactly as the same user's HTTP request would
   * be: the controllers get what their token allows, a virtual node's agent
   * a 403 for anything its node token could not do.
   */
  constructor(registry: Registry, identity: LocalIdentity) {
    this.registry = registry;
    this.user = identity.user;
    this.authorize = identity.authorize ?? clusterAuthorizer(registry);
    this.fieldManager = identity.fieldManager ?? defaultFieldManager(identity.user);
    this.usage = identity.usage;
  }

  private async check(attrs: RequestAttributes): Promise<void> {
    if (!(await this.authorize(this.user, attrs))) {
      const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
      throw errors.forbidden(this.user.name, attrs.verb, resource, attrs.name);
    }
  }

  async get<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string): Promise<T> {
    await this.check({ verb: 'get', resource: kind.plural, namespace, name });
    return (await this.registry.get(kind, namespace, name)) as T;
  }

  /** The items are shared with the cache and frozen: copy one to change it. */
  async list<T extends KubeObject = KubeObject>(kind: KindInfo, namespace?: string, q: ListQuery = {}): Promise<ObjectList<T>> {
    await this.check({ verb: 'list', resource: kind.plural, namespace, fieldSelector: q.fieldSelector });
    return (await this.registry.list(kind, namespace, q)) as ObjectList<T>;
  }

  async create<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, obj: unknown, q: WriteQuery = {}): Promise<Response<T>> {
    const name = (obj as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    await this.check({ verb: 'create', resource: kind.plural, namespace, name: typeof name === 'string' ? name : undefined });
    const guard = controllerNodeGuard(this.user, kind.plural, undefined, typeof name === 'string' ? name : undefined, 'create');
    const r = await this.registry.create(kind, namespace, jsonCopy(obj), { ...q, fieldManager: q.fieldManager ?? this.fieldManager, guard });
    return { body: r.object as T, warnings: r.warnings };
  }

  async update<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, obj: unknown, q: WriteQuery & { subresource?: string } = {}): Promise<Response<T>> {
    await this.check({ verb: 'update', resource: kind.plural, subresource: q.subresource, namespace, name });
    if (q.subresource === 'finalize' && kind.kind === 'Namespace') {
      const r = await this.registry.finalizeNamespace(name, jsonCopy(obj), q);
      return { body: r.object as T, warnings: r.warnings };
    }
    const checks = writeChecks(this.user, kind.plural, name, q.subresource, this.registry);
    const r = await this.registry.update(kind, namespace, name, jsonCopy(obj), { ...q, ...checks, fieldManager: q.fieldManager ?? this.fieldManager, subresource: q.subresource === 'status' ? 'status' : undefined });
    return { body: r.object as T, warnings: r.warnings };
  }

  async patch<T extends KubeObject = KubeObject>(
    kind: KindInfo, namespace: string | undefined, name: string, patch: unknown,
    q: PatchQuery = {},
  ): Promise<Response<T>> {
    await this.check({ verb: 'patch', resource: kind.plural, subresource: q.subresource, namespace, name });
    const checks = writeChecks(this.user, kind.plural, name, q.subresource, this.registry);
    const type = PATCH_CONTENT_TYPES[q.type ?? 'merge'] as PatchType;
    const apply = q.type === 'apply';
    const r = await this.registry.patch(kind, namespace, name, type, jsonCopy(patch), {
      ...q, ...checks, subresource: q.subresource === 'status' ? 'status' : undefined,
      // An apply names its manager; other writes default to this client's.
      fieldManager: apply ? q.fieldManager : q.fieldManager ?? this.fieldManager,
      force: apply ? q.force : undefined,
      mayCreate: () => this.check({ verb: 'create', resource: kind.plural, namespace, name }),
    });
    return { body: r.object as T, warnings: r.warnings };
  }

  async delete<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, q: DeleteQuery = {}): Promise<T> {
    await this.check({ verb: 'delete', resource: kind.plural, namespace, name });
    const guard = garbageCollectorGuard(this.user, 'delete', kind.plural, name);
    return (await this.registry.delete(kind, namespace, name, { dryRun: q.dryRun, propagationPolicy: q.propagationPolicy, ...q.preconditions, guard })) as T;
  }

  async deleteCollection<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, q: Selectors & WriteQuery = {}): Promise<ObjectList<T>> {
    await this.check({ verb: 'deletecollection', resource: kind.plural, namespace, fieldSelector: q.fieldSelector });
    return (await this.registry.deleteCollection(kind, namespace, q)) as ObjectList<T>;
  }

  watch(kind: KindInfo, namespace: string | undefined, opts: WatchQuery, onEvent: (e: WatchEvent) => void): WatchHandle {
    let stopFn: (() => void) | undefined;
    let stopped = false;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => { finish = resolve; });
    const end = () => {
      stopFn?.();
      finish();
    };
    this.check({ verb: 'watch', resource: kind.plural, namespace, fieldSelector: opts.fieldSelector }).then(() => this.registry.watch(kind, namespace, opts, {
      // Shared with the cache and every other in-process watcher, and frozen: copy to change.
      event: (type, view) => onEvent({ type, object: view.object() }),
      end: (err) => {
        if (err) onEvent({ type: 'ERROR', object: err.toStatus() as never });
        end();
      },
    })).then((stop) => {
      stopFn = stop;
      if (stopped) stop();
    }, (err) => {
      onEvent({ type: 'ERROR', object: (err as { toStatus?: () => unknown }).toStatus?.() as never ?? { message: String(err) } });
      end();
    });
    return {
      stop: () => {
        stopped = true;
        end();
      },
      done,
    };
  }

  /** As POST commits: the batch, then each write, authorized; the same guard and fence as over HTTP. */
  async commit(ops: CommitOp[]): Promise<KubeObject[]> {
    await this.check({ verb: 'create', resource: 'commits' });
    for (const op of ops) await this.check(commitOpAttributes(op));
    return this.registry.commit(ops, commitChecks(this.user, this.registry));
  }

  async reportUsage(report: NodeUsageReport): Promise<void> {
    // Checked as over HTTP; no JSON round trip, so the report is not copied.
    const parsed = parseUsageReport(report);
    await this.check({ verb: 'create', resource: USAGE_REPORT_KIND.plural, name: parsed.metadata.name });
    if (!this.usage) throw errors.notFound('resource', USAGE_REPORT_KIND.plural);
    this.usage.record(parsed);
  }

  async reviewNetworkPolicy(spec: ReviewSpec): Promise<ReviewStatus> {
    await this.check({ verb: 'create', resource: REVIEW_KIND.plural, namespace: spec.namespace, name: spec.pod });
    return reviewStatus(await reviewConnection(this.registry, spec));
  }

  close(): void { /* nothing to release */ }
}
