// The API server's side of metrics: every request counted and timed as
// Kubernetes' apiserver counts them, watches open now, and GET /metrics,
// the exposition Prometheus scrapes (authorized as the non-resource URL
// `get /metrics`: admins and the metrics reader, metrics-auth.ts).
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Metrics } from '../util/metrics.ts';
import type { Authorizer, RequestAttributes, User, Verb } from './auth.ts';
import { errors } from './errors.ts';
import { METRICS_PATH } from './metrics-auth.ts';
import { requestAttributes } from './request.ts';

/** Kubernetes' verb label: the HTTP method, except LIST, WATCH and DELETECOLLECTION for collections, and APPLY. */
const REPORTED_VERBS: Record<Verb, string> = {
  get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETECOLLECTION',
};

/** Status codes as label values, made once each: no string per request. */
const CODES: string[] = [];
const codeLabel = (status: number) => (CODES[status] ??= String(status));

/**
 * Counts and times every request (placed first, so it sees the status the
 * error middleware chose). Its verb, resource and subresource are what the
 * route authorized; a request refused before that (401, an unknown path)
 * or outside the resources (discovery, /metrics) has only its HTTP method.
 * A watch is counted when its stream starts and held in the long-running
 * gauge until its response closes.
 */
export function requestMetrics(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const attrs = requestAttributes(ctx);
      const verb = attrs ? reportedVerb(attrs, ctx) : ctx.method;
      metrics.request(verb, attrs?.resource ?? '', attrs?.subresource ?? '', codeLabel(ctx.status), (performance.now() - started) / 1000);
      if (verb === 'WATCH' && ctx.status === 200 && !ctx.res.closed) ctx.res.once('close', metrics.watchOpened(attrs!.resource));
    }
  };
}

function reportedVerb(attrs: RequestAttributes, ctx: Context): string {
  if (attrs.verb === 'patch' && ctx.request.type === 'application/apply-patch+yaml') return 'APPLY';
  return REPORTED_VERBS[attrs.verb];
}

/** GET /metrics for whoever may `get` that path: the admin and the metrics reader. */
export function metricsRouter(metrics: Metrics, authorize: Authorizer): Router {
  const router = new Router();
  router.get(METRICS_PATH, async (ctx) => {
    const user = ctx.state.user as User;
    if (!(await authorize(user, { verb: 'get', resource: '', path: METRICS_PATH }))) throw errors.forbiddenPath(user.name, 'get', METRICS_PATH);
    ctx.type = metrics.contentType;
    ctx.body = await metrics.exposition();
  });
  return router;
}
