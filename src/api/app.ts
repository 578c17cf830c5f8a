// The Koa application: error mapping, authentication, discovery and the
// resource routes. app.callback() serves it from any http server.
import type { ClusterNetworks } from '../objects/cluster-networks.ts';
import type { ObjectCacheOptions } from '../cache/object-cache.ts';
import Koa from 'koa';
import { ManifestError } from '../objects/manifest.ts';
import { StoreUnavailableError } from '../store/store.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../util/clock.ts';
import type { Metrics } from '../util/metrics.ts';
import { bearerToken, type Authenticator, type Authorizer } from './auth.ts';
import { clusterView } from './cluster-metrics.ts';
import { clusterAuthorizer } from './node-auth.ts';
import { DEFAULT_BODY_LIMIT } from './body.ts';
import { discoveryRouter, publicRouter } from './discovery.ts';
import { ApiError, errors } from './errors.ts';
import { openapiRouter } from './openapi.ts';
import { metricsRouter, requestMetrics } from './prometheus.ts';
import { Registry } from './registry.ts';
import { resourceRouter } from './routes.ts';
import { UsageRecorder } from './usage-recorder.ts';

export interface AppOptions {
  store: Store;
  authenticator: Authenticator;
  authorizer?: Authorizer;
  clock?: Clock;
  bodyLimit?: number;
  nodeToken?: (nodeName: string) => string;
  /** Names this cluster's machines; published in /version for controllers in other processes. */
  clusterId?: string;
  /** Where server errors (5xx) are reported; defaults to stderr. */
  log?: (message: string) => void;
  /** The object cache's window, bookmarks and snapshots (the defaults suit a real server). */
  cache?: Omit<ObjectCacheOptions, 'clock'>;
  /** Where requests are counted, and what GET /metrics serves (not served without it). */
  metrics?: Metrics;
  /** The ranges pod /24s and cluster IPs come from; default 127.64.0.0/10 and 127.32.0.0/16. */
  networks?: ClusterNetworks;
}

export interface ApiApp {
  app: Koa;
  registry: Registry;
  /** What every request is authorized by; in-process clients use the same. */
  authorize: Authorizer;
  /** The node agents' usage reports, in memory (metrics.k8s.io). */
  usage: UsageRecorder;
}

export function createApp(opts: AppOptions): ApiApp {
  const registry = new Registry(opts.store, opts.clock, opts.cache, opts.networks);
  const usage = new UsageRecorder(registry.clock);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const app = new Koa();
  app.silent = true;
  const metrics = opts.metrics;
  metrics?.observeCluster(clusterView(registry));
  if (metrics) app.use(requestMetrics(metrics));

  // The one place errors become responses: every handler just throws.
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw errors.pathNotFound(ctx.path);
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.code >= 500) log(`kcs api: ${ctx.method} ${ctx.url}: ${(err as Error)?.stack ?? String(err)}`);
      ctx.status = apiError.code;
      ctx.body = apiError.toStatus();
      if (apiError.code === 401) ctx.set('WWW-Authenticate', 'Bearer realm="kcs"');
    }
  });

  // Nothing is served before the system namespaces exist (made at once on a fresh store).
  app.use(async (ctx, next) => {
    await registry.ready();
    await next();
  });

  const open = publicRouter(opts.clusterId);
  app.use(open.routes());

  app.use(async (ctx, next) => {
    const token = bearerToken(ctx.get('authorization'));
    const user = token === undefined ? undefined : opts.authenticator.authenticate(token);
    if (!user) throw errors.unauthorized();
    ctx.state.user = user;
    await next();
  });

  app.use(openapiRouter().routes());
  const authorize = opts.authorizer ?? clusterAuthorizer(registry);
  if (metrics) app.use(metricsRouter(metrics, authorize).routes());
  const resources = resourceRouter({ registry, authorize, bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT, nodeToken: opts.nodeToken, clock: opts.clock, usage });
  // Discovery describes what the resource routes serve, read from them.
  const discovery = discoveryRouter([resources]);
  app.use(discovery.routes());
  app.use(resources.routes());
  app.use(async (ctx, next) => {
    await next();
    // The router matched the path but not the method.
    if (ctx.status === 405 || ctx.status === 501) throw errors.methodNotAllowed(ctx.method, ctx.path);
  });
  app.use(resources.allowedMethods());

  return { app, registry, authorize, usage };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ManifestError) return errors.badRequest(err.message, err);
  if (err instanceof StoreUnavailableError) return errors.unavailable(err.message, err);
  return errors.internal(err);
}
