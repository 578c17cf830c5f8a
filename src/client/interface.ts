// What controllers and the agent need from the API, whichever transport
// carries it: over HTTP (client/http.ts) or in-process (client/local.ts),
// which takes the same registry path as an HTTP request, minus the socket.
import type { CommitOp } from '../api/registry.ts';
import type { NodeUsageReport } from '../api/usage-report.ts';
import type { ReviewSpec, ReviewStatus } from '../api/network-policy-review.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { PropagationPolicy } from '../objects/owners.ts';
import type { KubeObject, ObjectList, WatchEvent } from '../objects/types.ts';

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A list's selectors, and its page and resourceVersion, as Kubernetes takes them. */
export interface ListQuery extends Selectors {
  /** Items per page; the list's metadata.continue asks for the next. */
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface WatchQuery extends Selectors {
  /** Events after this; unset: the current objects as ADDED first. */
  resourceVersion?: string;
  /** BOOKMARK events with the current resourceVersion while nothing else happens. */
  allowWatchBookmarks?: boolean;
}

export interface WriteQuery {
  dryRun?: boolean;
  strict?: boolean;
  /** Who the write is recorded as in managedFields (required for an apply). */
  fieldManager?: string;
}

/** DeleteOptions: what becomes of the object's dependents, and preconditions on what is deleted. */
export interface DeleteQuery extends Pick<WriteQuery, 'dryRun'> {
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/**
 * merge: JSON merge patch; json: JSON patch; strategic: strategic merge
 * patch; apply: server-side apply (the patch is the whole intended object).
 */
export type PatchKind = 'merge' | 'json' | 'strategic' | 'apply';

export interface PatchQuery extends WriteQuery {
  subresource?: string;
  type?: PatchKind;
  /** Apply only: take over fields other managers own instead of a 409. */
  force?: boolean;
}

export const PATCH_CONTENT_TYPES: Record<PatchKind, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface Response<T> {
  body: T;
  warnings: string[];
}

export interface WatchHandle {
  stop(): void;
  /** Settles when the watch ends: stopped, closed by the server, or failed. */
  done: Promise<void>;
}

export interface KcsClient {
  get<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string): Promise<T>;
  list<T extends KubeObject = KubeObject>(kind: KindInfo, namespace?: string, query?: ListQuery): Promise<ObjectList<T>>;
  create<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, obj: unknown, q?: WriteQuery): Promise<Response<T>>;
  update<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, obj: unknown, q?: WriteQuery & { subresource?: string }): Promise<Response<T>>;
  patch<T extends KubeObject = KubeObject>(
    kind: KindInfo, namespace: string | undefined, name: string, patch: unknown,
    q?: PatchQuery,
  ): Promise<Response<T>>;
  delete<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, q?: DeleteQuery): Promise<T>;
  /** deletecollection: deletes what the selectors match (all, without); answers the list of what it deleted. */
  deleteCollection<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, q?: Selectors & WriteQuery): Promise<ObjectList<T>>;
  watch(kind: KindInfo, namespace: string | undefined, opts: WatchQuery, onEvent: (e: WatchEvent) => void): WatchHandle;
  /**
   * Several writes in one transaction, all or nothing (the `commits` API
   * operation): the same operation over HTTP and in-process, each write
   * authorized as if it came alone.
   */
  commit(ops: CommitOp[]): Promise<KubeObject[]>;
  /** A node agent's usage figures for its pods (a node may report only for itself). */
  reportUsage(report: NodeUsageReport): Promise<void>;
  /** Whether the network policies let a connection reach a pod (NetworkPolicyReview). */
  reviewNetworkPolicy(spec: ReviewSpec): Promise<ReviewStatus>;
  close(): void;
}

/** HTTP and in-process errors both carry the HTTP status code. */
export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown) => errorCode(err) === 404;
export const isConflict = (err: unknown) => errorCode(err) === 409;
