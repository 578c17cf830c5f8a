// May this address reach that pod on that port? Asked of the API by a
// node's agent before a pod's listener serves a connection that did not
// come through the service proxy: `POST /apis/kcs.io/v1/networkpolicyreviews`,
// created and never stored, as Kubernetes' SubjectAccessReview. The answer
// is the network policies' (objects/network-policy.ts) over the objects in
// the watch cache; a node may ask only about pods bound to it, so it learns
// nothing of others' policies beyond yes or no for its own pods.
import type Router from '@koa/router';
import { kindByName } from '../objects/kinds.ts';
import { decide, type NetworkPolicy, type Verdict } from '../objects/network-policy.ts';
import type { Namespace, Pod } from '../objects/types.ts';
import type { FieldError } from '../objects/validation.ts';
import type { Authorizer } from './auth.ts';
import { readObject } from './body.ts';
import { errors } from './errors.ts';
import type { Registry } from './registry.ts';
import { check } from './request.ts';

export const REVIEW_KIND = { kind: 'NetworkPolicyReview', apiVersion: 'kcs.io/v1', plural: 'networkpolicyreviews', path: '/apis/kcs.io/v1/networkpolicyreviews' } as const;

export interface ReviewSpec { fromIP: string; namespace: string; pod: string; port: number }
export interface ReviewStatus { allowed: boolean; reason: string }

const PODS = kindByName('Pod')!;

function parseSpec(body: unknown): ReviewSpec {
  const spec = (body as { spec?: Partial<ReviewSpec> } | null)?.spec;
  const bad: FieldError[] = [];
  if (typeof spec?.fromIP !== 'string' || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(spec.fromIP)) bad.push({ reason: 'FieldValueInvalid', field: 'spec.fromIP', message: 'must be an IPv4 address within 127.0.0.0/8' });
  if (typeof spec?.namespace !== 'string' || typeof spec?.pod !== 'string') bad.push({ reason: 'FieldValueRequired', field: 'spec.pod', message: 'the namespace and name of the pod connected to are required' });
  if (!Number.isInteger(spec?.port) || spec!.port! < 1 || spec!.port! > 65535) bad.push({ reason: 'FieldValueInvalid', field: 'spec.port', message: 'must be a port number, 1 to 65535' });
  if (bad.length) throw errors.invalid(REVIEW_KIND.kind, '', bad);
  return spec as ReviewSpec;
}

/** The answer: allowed or not, and the side that decided in words. */
export function reviewStatus(verdict: Verdict): ReviewStatus {
  const decided = verdict.allowed || verdict.egress.allowed ? verdict.ingress : verdict.egress;
  return { allowed: verdict.allowed, reason: decided.reason };
}

/** The verdict for one connection, from what the cache holds now (every pod listed: fine for the demos it serves, O(pods) each). */
export async function reviewConnection(registry: Registry, spec: ReviewSpec): Promise<Verdict> {
  const [policies, namespaces, pods] = await Promise.all([
    registry.list(kindByName('NetworkPolicy')!, undefined),
    registry.list(kindByName('Namespace')!, undefined),
    registry.list(PODS, undefined),
  ]);
  const all = pods.items as Pod[];
  const to = all.find((p) => p.metadata.namespace === spec.namespace && p.metadata.name === spec.pod);
  const from = all.find((p) => p.spec.nodeName && p.status?.podIP === spec.fromIP);
  return decide({
    from: { ip: spec.fromIP, pod: from, namespace: from?.metadata.namespace },
    to: { ip: to?.status?.podIP ?? '', pod: to, namespace: spec.namespace },
    port: spec.port,
    protocol: 'TCP',
  }, { policies: policies.items as NetworkPolicy[], namespaces: namespaces.items as Namespace[] });
}

export function mountNetworkPolicyReview(router: Router, registry: Registry, authorize: Authorizer, bodyLimit: number): void {
  router.post(REVIEW_KIND.path, async (ctx) => {
    const spec = parseSpec(await readObject(ctx, bodyLimit));
    await check(ctx, authorize, { verb: 'create', resource: REVIEW_KIND.plural, namespace: spec.namespace, name: spec.pod });
    ctx.status = 201;
    ctx.body = { apiVersion: REVIEW_KIND.apiVersion, kind: REVIEW_KIND.kind, spec, status: reviewStatus(await reviewConnection(registry, spec)) };
  });
}
