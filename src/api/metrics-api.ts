// Resource usage over the API: node agents report it
// (POST /apis/kcs.io/v1/nodeusagereports, a node for itself only), and it is
// served as Kubernetes' resource metrics API, metrics.k8s.io/v1beta1
// NodeMetrics and PodMetrics, the shape metrics-server serves and
// `kubectl top` reads, with label selectors. A node's recent history is
// kcs's own: GET /apis/kcs.io/v1/nodeusagehistories[/{name}].
import type Router from '@koa/router';
import type { Context } from 'koa';
import { kindByName } from '../objects/kinds.ts';
import type { Node, Pod } from '../objects/types.ts';
import { rfc3339 } from '../util/clock.ts';
import type { Authorizer } from './auth.ts';
import { readObject } from './body.ts';
import { errors } from './errors.ts';
import type { Registry } from './registry.ts';
import { check, namespaceParam, query } from './request.ts';
import type { NodeUsage, PodUsage, UsageRecorder, UsageSample } from './usage-recorder.ts';
import { parseUsageReport, USAGE_REPORT_KIND } from './usage-report.ts';

const NODES = kindByName('Node')!;
const PODS = kindByName('Pod')!;
export const METRICS_API_VERSION = 'metrics.k8s.io/v1beta1';
export const USAGE_HISTORY_KIND = { kind: 'NodeUsageHistory', apiVersion: 'kcs.io/v1', plural: 'nodeusagehistories' } as const;

/** As metrics-server writes them: CPU in millicores, memory in KiB. */
export const cpuQuantity = (milliCpu: number) => `${Math.round(milliCpu)}m`;
export const memoryQuantity = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;
const windowOf = (ms: number) => `${ms / 1000}s`;

function nodeMetrics(node: Node, usage: NodeUsage) {
  return {
    kind: 'NodeMetrics', apiVersion: METRICS_API_VERSION,
    metadata: { name: node.metadata.name, labels: node.metadata.labels ?? {}, creationTimestamp: rfc3339(new Date(usage.at)) },
    timestamp: rfc3339(new Date(usage.at)), window: windowOf(usage.windowMs),
    usage: { cpu: cpuQuantity(usage.milliCpu), memory: memoryQuantity(usage.memory) },
    // kcs's own: what the node's cgroup throttled since its previous report (real load only).
    ...(usage.throttling ? { throttling: { ...usage.throttling } } : {}),
  };
}

function podMetrics(pod: Pod, usage: PodUsage) {
  return {
    kind: 'PodMetrics', apiVersion: METRICS_API_VERSION,
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels ?? {}, creationTimestamp: rfc3339(new Date(usage.at)) },
    timestamp: rfc3339(new Date(usage.at)), window: windowOf(usage.windowMs),
    containers: usage.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.milliCpu), memory: memoryQuantity(c.memory) } })),
  };
}

function history(name: string, samples: UsageSample[]) {
  return {
    kind: USAGE_HISTORY_KIND.kind, apiVersion: USAGE_HISTORY_KIND.apiVersion, metadata: { name },
    samples: samples.map((s) => ({ timestamp: rfc3339(new Date(s.at)), usage: { cpu: cpuQuantity(s.milliCpu), memory: memoryQuantity(s.memory) } })),
  };
}

const list = (kind: string, items: unknown[]) => ({ kind, apiVersion: METRICS_API_VERSION, metadata: {}, items });

export function mountUsage(router: Router, registry: Registry, authorize: Authorizer, usage: UsageRecorder, bodyLimit: number): void {
  router.post(USAGE_REPORT_KIND.path, async (ctx) => {
    const report = parseUsageReport(await readObject(ctx, bodyLimit));
    await check(ctx, authorize, { verb: 'create', resource: USAGE_REPORT_KIND.plural, name: report.metadata.name });
    usage.record(report);
    ctx.status = 201;
    ctx.body = { apiVersion: report.apiVersion, kind: report.kind, metadata: { name: report.metadata.name }, status: { pods: report.pods.length } };
  });

  const nodes = async (ctx: Context, name?: string) => {
    await check(ctx, authorize, { verb: name ? 'get' : 'list', resource: 'nodes.metrics.k8s.io', name });
    if (name) {
      const node = (await registry.get(NODES, undefined, name)) as Node;
      return [node];
    }
    return (await registry.list(NODES, undefined, { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') })).items as Node[];
  };
  const notFound = (resource: string, name: string) => errors.notFound(resource, name);

  router.get('/apis/metrics.k8s.io/v1beta1/nodes', async (ctx) => {
    const items = (await nodes(ctx)).flatMap((n) => {
      const u = usage.node(n.metadata.name!);
      return u ? [nodeMetrics(n, u)] : [];
    });
    ctx.body = list('NodeMetricsList', items);
  });
  router.get('/apis/metrics.k8s.io/v1beta1/nodes/:name', async (ctx) => {
    const [node] = await nodes(ctx, ctx.params.name);
    const u = usage.node(ctx.params.name);
    if (!u) throw notFound('nodes.metrics.k8s.io', ctx.params.name);
    ctx.body = nodeMetrics(node!, u);
  });

  const pods = async (ctx: Context, namespace: string | undefined) => {
    await check(ctx, authorize, { verb: 'list', resource: 'pods.metrics.k8s.io', namespace });
    const items = (await registry.list(PODS, namespace, { labelSelector: query(ctx, 'labelSelector'), fieldSelector: query(ctx, 'fieldSelector') })).items as Pod[];
    ctx.body = list('PodMetricsList', items.flatMap((p) => {
      const u = usage.pod(p.metadata.namespace!, p.metadata.name!, p.spec.nodeName);
      return u ? [podMetrics(p, u)] : [];
    }));
  };
  router.get('/apis/metrics.k8s.io/v1beta1/pods', (ctx) => pods(ctx, undefined));
  router.get('/apis/metrics.k8s.io/v1beta1/namespaces/:namespace/pods', (ctx) => pods(ctx, namespaceParam(ctx)));
  router.get('/apis/metrics.k8s.io/v1beta1/namespaces/:namespace/pods/:name', async (ctx) => {
    const namespace = namespaceParam(ctx);
    const name = ctx.params.name;
    await check(ctx, authorize, { verb: 'get', resource: 'pods.metrics.k8s.io', namespace, name });
    const pod = (await registry.get(PODS, namespace, name)) as Pod;
    const u = usage.pod(namespace, name, pod.spec.nodeName);
    if (!u) throw notFound('pods.metrics.k8s.io', name);
    ctx.body = podMetrics(pod, u);
  });

  router.get(`/apis/kcs.io/v1/${USAGE_HISTORY_KIND.plural}`, async (ctx) => {
    await check(ctx, authorize, { verb: 'list', resource: USAGE_HISTORY_KIND.plural });
    const items = (await nodes(ctx)).map((n) => history(n.metadata.name!, usage.history(n.metadata.name!)));
    ctx.body = { kind: 'NodeUsageHistoryList', apiVersion: USAGE_HISTORY_KIND.apiVersion, metadata: {}, items };
  });
  router.get(`/apis/kcs.io/v1/${USAGE_HISTORY_KIND.plural}/:name`, async (ctx) => {
    await check(ctx, authorize, { verb: 'get', resource: USAGE_HISTORY_KIND.plural, name: ctx.params.name });
    await nodes(ctx, ctx.params.name);
    ctx.body = history(ctx.params.name, usage.history(ctx.params.name));
  });
}
