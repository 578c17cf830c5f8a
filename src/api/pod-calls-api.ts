// What pods' calls to other Services met (their kcs.io/calls annotation),
// as their nodes' agents last reported it: `kcs.io/v1 PodCalls`, one per
// calling pod, read-only and read from memory as metrics.k8s.io is
// (GET /apis/kcs.io/v1[/namespaces/{ns}]/podcalls[/{name}], label
// selectors). `kcs traffic pod/NAME` prints it.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { kindByName } from '../objects/kinds.ts';
import type { Pod } from '../objects/types.ts';
import { rfc3339 } from '../util/clock.ts';
import type { Authorizer } from './auth.ts';
import { errors } from './errors.ts';
import type { Registry } from './registry.ts';
import { check, namespaceParam, query } from './request.ts';
import type { PodUsage, UsageRecorder } from './usage-recorder.ts';

const PODS = kindByName('Pod')!;
export const POD_CALLS_KIND = { kind: 'PodCalls', apiVersion: 'kcs.io/v1', plural: 'podcalls' } as const;

function podCalls(pod: Pod, usage: PodUsage) {
  return {
    kind: POD_CALLS_KIND.kind, apiVersion: POD_CALLS_KIND.apiVersion,
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels ?? {}, creationTimestamp: rfc3339(new Date(usage.at)) },
    timestamp: rfc3339(new Date(usage.at)), node: usage.node,
    calls: usage.calls ?? [],
  };
}

export function mountPodCalls(router: Router, registry: Registry, authorize: Authorizer, usage: UsageRecorder): void {
  const base = `/apis/${POD_CALLS_KIND.apiVersion}`;
  const calling = (p: Pod) => {
    const u = usage.pod(p.metadata.namespace!, p.metadata.name!, p.spec.nodeName);
    return u?.calls?.length ? u : undefined;
  };
  const list = async (ctx: Context, namespace: string | undefined) => {
    await check(ctx, authorize, { verb: 'list', resource: POD_CALLS_KIND.plural, namespace });
    const pods = (await registry.list(PODS, namespace, { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') })).items as Pod[];
    const items = pods.flatMap((p) => {
      const u = calling(p);
      return u ? [podCalls(p, u)] : [];
    });
    ctx.body = { kind: 'PodCallsList', apiVersion: POD_CALLS_KIND.apiVersion, metadata: {}, items };
  };
  router.get(`${base}/${POD_CALLS_KIND.plural}`, (ctx) => list(ctx, undefined));
  router.get(`${base}/namespaces/:namespace/${POD_CALLS_KIND.plural}`, (ctx) => list(ctx, namespaceParam(ctx)));
  router.get(`${base}/namespaces/:namespace/${POD_CALLS_KIND.plural}/:name`, async (ctx) => {
    const namespace = namespaceParam(ctx);
    const name = ctx.params.name;
    await check(ctx, authorize, { verb: 'get', resource: POD_CALLS_KIND.plural, namespace, name });
    const pod = (await registry.get(PODS, namespace, name)) as Pod;
    const u = calling(pod);
    if (!u) throw errors.notFound(`${POD_CALLS_KIND.plural}.kcs.io`, name);
    ctx.body = podCalls(pod, u);
  });
}
