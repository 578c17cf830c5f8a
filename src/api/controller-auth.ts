// The controllers' own identity. `kcs up` mints a token for it, and the
// controllers inside `kcs up` act as it in-process, through the same
// authorizer, so `kcs controllers --token <it>` in another process can do
// exactly what they do and nothing more: read everything; write node and
// pod status, bindings and unbindings, and events; commit those in batches;
// ask for node tokens (to start agents); empty a namespace being deleted
// (deletecollection there, checked by the cluster authorizer) and finalize
// it. They may not create, change or delete Nodes, Pods or the scheduler
// configuration otherwise: those are the user's.
import { TokenAuthenticator, type RequestAttributes, type User } from './auth.ts';

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
      return (WRITES.has(attrs.verb) && attrs.subresource === 'status') || (attrs.verb === 'create' && attrs.subresource === 'token');
    case 'pods':
      return (WRITES.has(attrs.verb) && (attrs.subresource === 'status' || attrs.subresource === 'unbinding'))
        || (attrs.verb === 'create' && attrs.subresource === 'binding');
    default:
      return false;
  }
}
