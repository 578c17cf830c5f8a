// Node agents' identities and what they may do. A node's token is derived
// from a server secret (HMAC), so the server stores nothing per node and a
// token names exactly one node. Like Kubernetes' Node authorizer, a node may
// read nodes and Services, write only its own Node's status and its own
// Lease, and see and update the status of only the pods bound to it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindByName, NODE_LEASE_NAMESPACE } from '../objects/kinds.ts';
import type { Pod } from '../objects/types.ts';
import { ADMIN_GROUP, type Authenticator, type Authorizer, type User } from './auth.ts';
import { controllerCreateGuard, controllersMay, garbageCollectorGuard, isController } from './controller-auth.ts';
import { isMetricsReader, metricsReaderMay } from './metrics-auth.ts';
import { IDENTITY_FILES } from '../store/cluster-identity.ts';
import { errors } from './errors.ts';
import type { CommitChecks, Registry, WriteOptions } from './registry.ts';

export const NODES_GROUP = 'system:nodes';
const USER_PREFIX = 'system:node:';
const TOKEN_PREFIX = 'kcs-node.';

export class NodeTokens implements Authenticator {
  private readonly secret: Buffer;
  /** Tokens made so far: an HMAC per node, not per request (the controllers ask on every reconcile). */
  private readonly made = new Map<string, string>();

  constructor(secret: Buffer) {
    this.secret = secret;
  }

  /** The secret persists in the state directory, so node tokens survive a restart of kcs. */
  static loadOrCreate(stateDir: string): NodeTokens {
    const path = join(stateDir, IDENTITY_FILES.nodeTokenKey);
    if (!existsSync(path)) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    }
    return new NodeTokens(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
  }

  tokenFor(nodeName: string): string {
    let token = this.made.get(nodeName);
    if (token === undefined) {
      token = `${TOKEN_PREFIX}${nodeName}.${this.mac(nodeName)}`;
      if (this.made.size >= 100_000) this.made.clear(); // a bound, far above any cluster kcs runs
      this.made.set(nodeName, token);
    }
    return token;
  }

  authenticate(token: string): User | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    const name = token.slice(TOKEN_PREFIX.length, dot);
    if (!name) return undefined;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(name));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return nodeUser(name);
  }

  private mac(name: string): string {
    return createHmac('sha256', this.secret).update(name).digest('base64url');
  }
}

/** The identity a node's agent acts as, over HTTP with its token or in-process. */
export function nodeUser(nodeName: string): User {
  return { name: USER_PREFIX + nodeName, groups: [NODES_GROUP] };
}

export function nodeNameOf(user: User): string | undefined {
  return user.groups.includes(NODES_GROUP) && user.name.startsWith(USER_PREFIX) ? user.name.slice(USER_PREFIX.length) : undefined;
}

/**
 * For a node writing a pod's status: re-checked on the very version being
 * replaced, so a pod moved to another node meanwhile is not written by the
 * node it left (fencing).
 */
export function nodeWriteGuard(user: User, resource: string, name: string | undefined): WriteOptions['guard'] {
  const node = nodeNameOf(user);
  if (!node || resource !== 'pods') return undefined;
  return {
    allows: (current) => (current as Pod).spec?.nodeName === node,
    denied: () => errors.forbidden(user.name, 'update', 'pods/status', name),
  };
}

/**
 * A node may report in its array only pods the API binds to it now: a node
 * that returns from a freeze with a stale view cannot claim pods that moved
 * (no pod ID is ever in two nodes' arrays in the store).
 */
export function nodeStatusFence(user: User, resource: string, subresource: string | undefined, registry: Registry): WriteOptions['fence'] {
  const node = nodeNameOf(user);
  if (!node || resource !== 'nodes' || subresource !== 'status') return undefined;
  return async (incoming) => {
    const claimed = (incoming.status as { pods?: unknown } | undefined)?.pods;
    if (!Array.isArray(claimed) || claimed.length === 0) return;
    const bound = await registry.podsBoundTo(node);
    (incoming.status as { pods: unknown[] }).pods = claimed.filter((id) => bound.has(id as string));
  };
}

/**
 * The controllers change a Node itself (not its status) only when a
 * NodePool owns it: the autoscaler cordons the nodes it removes; a Node a
 * user made is the user's.
 */
export function controllerNodeGuard(user: User, resource: string, subresource: string | undefined, name: string | undefined, verb: 'create' | 'update' = 'update'): WriteOptions['guard'] {
  // What else the controllers create (a Job's pods, a Workflow's Jobs) is checked the same way.
  if (verb === 'create' && subresource === undefined && resource !== 'nodes') return controllerCreateGuard(user, resource, name);
  if (!isController(user) || resource !== 'nodes' || subresource !== undefined) return undefined;
  return {
    allows: (obj) => (obj.metadata.ownerReferences ?? []).some((r) => r.kind === 'NodePool' && r.controller === true),
    denied: () => errors.forbidden(user.name, verb, 'nodes', name),
  };
}

/** The guard and fence a single write by this user gets (none for anyone but a node, or the controllers on a Node). */
export function writeChecks(user: User, resource: string, name: string | undefined, subresource: string | undefined, registry: Registry): Pick<WriteOptions, 'guard' | 'fence'> {
  return {
    guard: nodeWriteGuard(user, resource, name) ?? controllerNodeGuard(user, resource, subresource, name) ?? garbageCollectorGuard(user, 'update', resource, name, subresource),
    fence: nodeStatusFence(user, resource, subresource, registry),
  };
}

/** The guard and fence each write of a commit gets: those it would get alone. */
export function commitChecks(user: User, registry: Registry): CommitChecks {
  return {
    guard: (op) => nodeWriteGuard(user, op.kind.plural, op.object.metadata?.name)
      ?? controllerNodeGuard(user, op.kind.plural, op.verb === 'update' ? op.subresource : undefined, op.object.metadata?.name, op.verb)
      ?? (op.verb === 'update' ? garbageCollectorGuard(user, 'update', op.kind.plural, op.object.metadata?.name, op.subresource) : undefined),
    fence: (op) => nodeStatusFence(user, op.kind.plural, op.verb === 'update' ? op.subresource : undefined, registry),
  };
}

/**
 * Admins may do anything; the metrics reader only read /metrics
 * (metrics-auth.ts); controllers what controller-auth.ts says; nodes what is
 * described above; anyone else nothing. A batch of writes (commits) is
 * authorized as a whole here, then write by write as if each came alone.
 */
export function clusterAuthorizer(registry: Registry): Authorizer {
  const pods = kindByName('Pod')!;
  const boundHere = async (namespace: string | undefined, name: string | undefined, node: string) => {
    if (!name) return false;
    try {
      return ((await registry.get(pods, namespace, name)) as Pod).spec.nodeName === node;
    } catch {
      return false; // a pod that does not exist is not bound here either
    }
  };
  const terminating = async (namespace: string | undefined) => {
    if (!namespace) return false;
    try {
      return !!(await registry.get(kindByName('Namespace')!, undefined, namespace)).metadata.deletionTimestamp;
    } catch {
      return false;
    }
  };
  return async (user, attrs) => {
    if (user.groups.includes(ADMIN_GROUP)) return true;
    // Non-resource URLs (/metrics) are the metrics reader's, and it may use nothing else.
    if (attrs.path !== undefined || isMetricsReader(user)) return isMetricsReader(user) && metricsReaderMay(attrs);
    if (isController(user)) return controllersMay(attrs) && (attrs.verb !== 'deletecollection' || terminating(attrs.namespace));
    const node = nodeNameOf(user);
    if (!node) return false;
    const read = attrs.verb === 'get' || attrs.verb === 'list' || attrs.verb === 'watch';
    const write = attrs.verb === 'update' || attrs.verb === 'patch';
    switch (attrs.resource) {
      case 'commits':
        return attrs.verb === 'create';
      case 'nodeusagereports':
        return attrs.verb === 'create' && attrs.name === node;
      case 'networkpolicyreviews':
        // Only about a pod bound to this node: the one it is about to serve.
        return attrs.verb === 'create' && boundHere(attrs.namespace, attrs.name, node);
      case 'services':
        // As Kubernetes' Node authorizer lets a kubelet: its pods call Services by name (kcs.io/calls).
        return read;
      case 'nodes':
        return read || (write && attrs.subresource === 'status' && attrs.name === node);
      case 'leases':
        return attrs.namespace === NODE_LEASE_NAMESPACE && attrs.name === node && (attrs.verb === 'get' || attrs.verb === 'create' || write);
      case 'pods':
        if (attrs.verb === 'list' || attrs.verb === 'watch') {
          return (attrs.fieldSelector ?? '').split(',').map((s) => s.trim()).includes(`spec.nodeName=${node}`);
        }
        if (attrs.verb === 'get') return boundHere(attrs.namespace, attrs.name, node);
        return write && attrs.subresource === 'status' && boundHere(attrs.namespace, attrs.name, node);
      default:
        return false;
    }
  };
}
