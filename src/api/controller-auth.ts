// The controllers' own identity. `kcs up` mints a token for it, and the
// controllers inside `kcs up` act as it in-process, through the same
// authorizer, so `kcs controllers --token <it>` in another process can do
// exactly what they do and nothing more: read everything; write node and
// pod status, bindings and unbindings, and events; commit those in batches;
// ask for node tokens (to start agents); empty a namespace being deleted
// (deletecollection there, checked by the cluster authorizer) and finalize
// it. The autoscaler makes, cordons and deletes the Nodes of NodePools
// (node-auth.ts lets the controllers change only Nodes a pool owns) and
// writes the pools' status. The endpoints controller creates, updates and
// deletes EndpointSlices and Endpoints. The Job controller creates the pods
// of Jobs and writes Jobs' status; the workflow controller creates the Jobs
// of Workflows and writes Workflows' status (what they create must name
// that owner as its controller: controllerCreateGuard). The garbage
// collector deletes objects that have owners, and finished Jobs whose
// ttlSecondsAfterFinished says so, and removes owner references and its own
// finalizers (the guard at the end, checked on the very object written).
// The controllers elect their leader (leader-election.ts) by getting,
// creating and updating their Leases in kube-system
// (kcs-controller-manager, kcs-namespace-controller), and may write no
// other Lease (the nodes' are their own).
// They may not create, change or delete Pods or the scheduler configuration
// otherwise: those are the user's.
import { isDeepStrictEqual } from 'node:util';
import { KINDS } from '../objects/kinds.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../objects/owners.ts';
import { jobFinished, type Job } from '../objects/job-status.ts';
import { CONTROLLER_LEASE_NAMES, CONTROLLER_LEASE_NAMESPACE } from '../objects/leader-leases.ts';
import type { KubeObject } from '../objects/types.ts';
import { TokenAuthenticator, type RequestAttributes, type User } from './auth.ts';
import { errors } from './errors.ts';
import type { WriteGuard } from './registry.ts';

export const CONTROLLERS_GROUP = 'system:kcs-controllers';
export const CONTROLLERS_USER: User = { name: 'system:kcs-controller-manager', groups: [CONTROLLERS_GROUP] };

export function controllerTokenAuthenticator(token: string): TokenAuthenticator {
  return new TokenAuthenticator({ [token]: CONTROLLERS_USER });
}

export function isController(user: User): boolean {
  return user.groups.includes(CONTROLLERS_GROUP);
}

const WRITES = new Set(['update', 'patch']);

export function controllersMay(attrs: RequestAttributes): boolean {
  return controllersMayOutright(attrs) || collecting(attrs);
}

function controllersMayOutright(attrs: RequestAttributes): boolean {
  if (attrs.verb === 'get' || attrs.verb === 'list' || attrs.verb === 'watch') return true;
  // The namespace controller's part; only in a namespace being deleted (clusterAuthorizer).
  if (attrs.verb === 'deletecollection') return attrs.namespace !== undefined;
  switch (attrs.resource) {
    case 'namespaces':
      return attrs.verb === 'update' && (attrs.subresource === 'finalize' || attrs.subresource === 'status');
    case 'commits':
      return attrs.verb === 'create';
    case 'events':
      return attrs.verb === 'create' || WRITES.has(attrs.verb);
    case 'nodes':
      return (WRITES.has(attrs.verb) && (attrs.subresource === 'status' || attrs.subresource === undefined))
        // Creating: only Nodes a NodePool owns (node-auth.ts); deleting them is the collector's rule (owned objects only).
        || (attrs.verb === 'create' && (attrs.subresource === 'token' || attrs.subresource === undefined));
    case 'nodepools':
      return WRITES.has(attrs.verb) && attrs.subresource === 'status';
    case 'endpointslices':
    case 'endpoints':
      // The endpoints controller's part: it keeps both for every Service with a selector.
      return attrs.subresource === undefined && (attrs.verb === 'create' || attrs.verb === 'delete' || WRITES.has(attrs.verb));
    case 'pods':
      return (WRITES.has(attrs.verb) && (attrs.subresource === 'status' || attrs.subresource === 'unbinding'))
        || (attrs.verb === 'create' && (attrs.subresource === 'binding' || attrs.subresource === undefined));
    case 'jobs':
      return (WRITES.has(attrs.verb) && attrs.subresource === 'status') || (attrs.verb === 'create' && attrs.subresource === undefined);
    case 'workflows':
      return WRITES.has(attrs.verb) && attrs.subresource === 'status';
    case 'leases':
      return (attrs.verb === 'create' || WRITES.has(attrs.verb)) && attrs.subresource === undefined
        && attrs.namespace === CONTROLLER_LEASE_NAMESPACE && CONTROLLER_LEASE_NAMES.includes(attrs.name ?? '');
    default:
      return false;
  }
}

// ---- what the controllers create for an owner ------------------------------------------------

/** The kind a controller-made object of each resource must be controlled by: a Job's pods, a Workflow's Jobs. */
const CREATED_FOR: Record<string, string> = { pods: 'Job', jobs: 'Workflow' };

function controlledByOwnerOf(resource: string, obj: KubeObject): boolean {
  const owner = CREATED_FOR[resource];
  return owner !== undefined && (obj.metadata.ownerReferences ?? []).some((r) => r.kind === owner && r.controller === true);
}

/**
 * The guard on a controller's create of a Pod or a Job, checked on the very
 * object: it must name a Job (a Workflow) as its controller, so the
 * controllers make only what a Job or Workflow asks for. Undefined for
 * anyone else and any other resource.
 */
export function controllerCreateGuard(user: User, resource: string, name: string | undefined): WriteGuard | undefined {
  if (!isController(user) || CREATED_FOR[resource] === undefined) return undefined;
  return {
    allows: (obj) => controlledByOwnerOf(resource, obj),
    denied: () => errors.forbidden(user.name, 'create', resource, name),
  };
}

// ---- the garbage collector's part ----------------------------------------------------------

const COLLECTORS_FINALIZERS = new Set([ORPHAN_FINALIZER, FOREGROUND_FINALIZER]);

/** A delete or an update of a served kind's main resource: allowed only on what the guard lets through. */
function collecting(attrs: Pick<RequestAttributes, 'verb' | 'resource' | 'subresource'>): boolean {
  return attrs.subresource === undefined && (attrs.verb === 'delete' || WRITES.has(attrs.verb)) && KINDS.some((k) => k.plural === attrs.resource);
}

/** A Job that finished and asked to be deleted some time after (Kubernetes' TTL-after-finished controller's part). */
function finishedWithTtl(obj: KubeObject): boolean {
  return obj.kind === 'Job' && (obj.spec as Job['spec'] | undefined)?.ttlSecondsAfterFinished !== undefined && jobFinished(obj as Job) !== undefined;
}

/** An object the collector acts on: it has owners, or it is being deleted and waits for the collector. */
export function inGarbageCollectorsCare(obj: KubeObject): boolean {
  if ((obj.metadata.ownerReferences ?? []).length) return true;
  return !!obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).some((f) => COLLECTORS_FINALIZERS.has(f));
}

/** What the collector writes: owner references and its own finalizers removed, nothing else changed. */
export function onlyReleases(current: KubeObject, next: KubeObject): boolean {
  const hadRefs = current.metadata.ownerReferences ?? [];
  if (!(next.metadata.ownerReferences ?? []).every((ref) => hadRefs.some((had) => isDeepStrictEqual(had, ref)))) return false;
  const had = current.metadata.finalizers ?? [];
  const kept = next.metadata.finalizers ?? [];
  if (kept.some((f) => !had.includes(f))) return false;
  if (had.some((f) => !kept.includes(f) && !COLLECTORS_FINALIZERS.has(f))) return false;
  return isDeepStrictEqual(withoutReleasable(next), withoutReleasable(current));
}

function withoutReleasable(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, ownerReferences: _or, finalizers: _f, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * The guard on a controller's delete or update of a main resource it may
 * not write outright: only an object in the collector's care, and (for an
 * update) only its owner references and the collector's finalizers removed.
 * Undefined for anyone else, and for what the controllers may write anyway.
 */
export function garbageCollectorGuard(user: User, verb: 'delete' | 'update' | 'patch', resource: string, name: string | undefined, subresource?: string): WriteGuard | undefined {
  const attrs = { verb, resource, subresource };
  if (!isController(user) || controllersMayOutright(attrs) || !collecting(attrs)) return undefined;
  // The leader election Lease: written outright, but in kube-system only (the namespace is on the object, not here).
  if (verb !== 'delete' && resource === 'leases' && subresource === undefined && CONTROLLER_LEASE_NAMES.includes(name ?? '')) {
    const leaderLease = (obj: KubeObject) => obj.metadata.namespace === CONTROLLER_LEASE_NAMESPACE;
    return { allows: leaderLease, allowsCreate: leaderLease, denied: () => errors.forbidden(user.name, verb, resource, name) };
  }
  return {
    allows: (obj) => inGarbageCollectorsCare(obj) || (verb === 'delete' && finishedWithTtl(obj)),
    allowsChange: verb === 'delete' ? undefined : onlyReleases,
    // An apply that would create the object: only what a controller may create at all.
    allowsCreate: (obj) => controlledByOwnerOf(resource, obj),
    denied: () => errors.forbidden(user.name, verb, resource, name),
  };
}
