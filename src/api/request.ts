// What every route reads from a request the same way: a query parameter,
// the namespace in the path (checked), and the authorization of what it is
// about to do. Shared by the resource routes and the pod subresources.
import type { Context } from 'koa';
import { dns1123LabelError } from '../objects/names.ts';
import type { Authorizer, RequestAttributes, User } from './auth.ts';
import { errors } from './errors.ts';

export function query(ctx: Context, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function check(ctx: Context, authorize: Authorizer, attrs: RequestAttributes): Promise<void> {
  // The first check is the request's own (a commit's writes are checked after it): what metrics label it by.
  ctx.state.attributes ??= attrs;
  const user = ctx.state.user as User;
  if (!(await authorize(user, attrs))) throw errors.forbidden(user.name, attrs.verb, attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource, attrs.name);
}

export function namespaceParam(ctx: Context): string {
  const ns = ctx.params.namespace;
  const problem = dns1123LabelError(ns);
  if (problem) throw errors.badRequest(`invalid namespace ${JSON.stringify(ns)}: ${problem}`);
  return ns;
}

/** What the route authorized this request as; undefined before (or without) authorization. */
export function requestAttributes(ctx: Context): RequestAttributes | undefined {
  return ctx.state.attributes as RequestAttributes | undefined;
}
