// Whether NetworkPolicies let one connection through, by Kubernetes' rules:
//
// - A pod is isolated for ingress (egress) when some policy of its namespace
//   selects it and has Ingress (Egress) among its policyTypes; unset
//   policyTypes mean Ingress, plus Egress when the policy has egress rules.
//   A pod no policy isolates takes everything in that direction.
// - Policies add up: an isolated pod gets what ANY rule of ANY policy
//   selecting it allows, and nothing else.
// - A connection needs both ends: the source's egress and the destination's
//   ingress. Traffic from or to something that is not a pod (the host, a
//   proxy's address) is restricted only at the pod end.
// - A rule with no peers (from/to unset or []) matches every peer, with no
//   ports every port. `ingress: []` allows nothing.
// - A peer's podSelector alone selects pods of the policy's own namespace;
//   namespaceSelector alone every pod of the namespaces it selects ({}: all);
//   both: pods matching the one in namespaces matching the other. ipBlock
//   matches the peer's address (a pod's status.podIP), never a pod with none.
// - A named port is the destination pod's container port of that name and
//   protocol, for egress rules as for ingress rules.
//
// Pure and browser-safe: no I/O, the world is passed in. Built to be asked per
// connection: policies are compiled once (by uid and resourceVersion), and
// a world's arrays are indexed once each (by identity: pass snapshots, and a
// new array when anything changes, as informer lists are).
import { cidrContains, parseIpv4Cidr, type Ipv4Cidr } from './ipv4-cidr.ts';
import { parseIpv4 } from './ip.ts';
import { compileLabelSelector, type LabelMatcher, type LabelSelector, type Labels } from './label-selector.ts';
import type { KubeObject, Namespace, Pod } from './types.ts';

export type PolicyType = 'Ingress' | 'Egress';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface IPBlock { cidr: string; except?: string[] }
export interface NetworkPolicyPeer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: IPBlock }
export interface NetworkPolicyPort { protocol?: Protocol; port?: number | string; endPort?: number }
export interface NetworkPolicyIngressRule { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }
export interface NetworkPolicyEgressRule { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }
export interface NetworkPolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: PolicyType[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
  [field: string]: unknown;
}

export interface NetworkPolicy extends KubeObject {
  kind: 'NetworkPolicy';
  /** Absent: selects every pod of its namespace and allows it no ingress, as `{}` does. */
  spec?: NetworkPolicySpec;
}

/** One end of a connection: a pod (with its namespace), or an address that is no pod's (the host). */
export interface Endpoint { ip: string; pod?: Pod; namespace?: string }
export interface Connection { from: Endpoint; to: Endpoint; port: number; protocol?: Protocol }
export interface Side {
  /** Whether some policy selects this end's pod for this direction. */
  isolated: boolean;
  allowed: boolean;
  /** The policy and rule that allowed it (an isolated end only). */
  by?: { policy: string; namespace: string; rule: number };
  /** In words: which policy and rule allowed it, or why it was denied, or why nothing applies. */
  reason: string;
}
export interface Verdict { allowed: boolean; ingress: Side; egress: Side }
export interface World { policies: NetworkPolicy[]; namespaces: Namespace[] }

/** The label Kubernetes gives every namespace: its name, so a namespaceSelector can pick namespaces by name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The directions a policy isolates: as stated, or Kubernetes' default for an unset policyTypes. */
export function policyTypesOf(policy: NetworkPolicy): PolicyType[] {
  const stated = policy.spec?.policyTypes;
  if (stated?.length) return stated;
  return (policy.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function decide(conn: Connection, world: World): Verdict {
  const index = indexOf(world);
  const egress = judge('Egress', conn, index);
  const ingress = judge('Ingress', conn, index);
  return { allowed: egress.allowed && ingress.allowed, ingress, egress };
}

// ---- compiled forms ---------------------------------------------------------------

interface CompiledPeer { pods?: LabelMatcher; namespaces?: LabelMatcher; block?: { cidr: Ipv4Cidr; except: Ipv4Cidr[] } }
interface CompiledRule { peers: CompiledPeer[]; ports: NetworkPolicyPort[] }
interface CompiledPolicy {
  name: string;
  namespace: string;
  selects: LabelMatcher;
  types: ReadonlySet<PolicyType>;
  ingress: CompiledRule[];
  egress: CompiledRule[];
}

interface WorldIndex {
  /** Each namespace's policies, compiled, in name order (so the first that allows is the one named). */
  policies: Map<string, CompiledPolicy[]>;
  namespaceLabels: Map<string, Labels>;
}

const BY_VERSION = new Map<string, CompiledPolicy>();
const BY_VERSION_LIMIT = 10_000;
const policyIndexes = new WeakMap<NetworkPolicy[], Map<string, CompiledPolicy[]>>();
const namespaceIndexes = new WeakMap<Namespace[], Map<string, Labels>>();

function indexOf(world: World): WorldIndex {
  let policies = policyIndexes.get(world.policies);
  if (!policies) {
    policies = new Map();
    for (const p of world.policies) {
      const compiled = compiledPolicy(p);
      const list = policies.get(compiled.namespace) ?? [];
      list.push(compiled);
      policies.set(compiled.namespace, list);
    }
    for (const list of policies.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    policyIndexes.set(world.policies, policies);
  }
  let namespaceLabels = namespaceIndexes.get(world.namespaces);
  if (!namespaceLabels) {
    namespaceLabels = new Map(world.namespaces.map((ns) => [ns.metadata.name ?? '', ns.metadata.labels]));
    namespaceIndexes.set(world.namespaces, namespaceLabels);
  }
  return { policies, namespaceLabels };
}

function compiledPolicy(policy: NetworkPolicy): CompiledPolicy {
  const { uid, resourceVersion } = policy.metadata;
  const key = uid && resourceVersion ? `${uid}@${resourceVersion}` : undefined;
  const cached = key ? BY_VERSION.get(key) : undefined;
  if (cached) return cached;
  const spec = policy.spec ?? {};
  const compiled: CompiledPolicy = {
    name: policy.metadata.name ?? '',
    namespace: policy.metadata.namespace ?? '',
    selects: compileLabelSelector(spec.podSelector),
    types: new Set(policyTypesOf(policy)),
    ingress: (spec.ingress ?? []).map((r) => compileRule(r.from, r.ports)),
    egress: (spec.egress ?? []).map((r) => compileRule(r.to, r.ports)),
  };
  if (key) {
    // Old versions are never asked for again; forgetting them all at once keeps this bounded without an LRU.
    if (BY_VERSION.size >= BY_VERSION_LIMIT) BY_VERSION.clear();
    BY_VERSION.set(key, compiled);
  }
  return compiled;
}

function compileRule(peers: NetworkPolicyPeer[] | undefined, ports: NetworkPolicyPort[] | undefined): CompiledRule {
  return { peers: (peers ?? []).map(compilePeer), ports: ports ?? [] };
}

function compilePeer(peer: NetworkPolicyPeer): CompiledPeer {
  if (peer.ipBlock) {
    const cidr = parseIpv4Cidr(peer.ipBlock.cidr);
    // Validation refuses a bad CIDR; one that got past it matches nothing rather than everything.
    if (!cidr) return { block: { cidr: { text: peer.ipBlock.cidr, base: 0, bits: 33 }, except: [] } };
    const except = (peer.ipBlock.except ?? []).map(parseIpv4Cidr).filter((c): c is Ipv4Cidr => c !== undefined);
    return { block: { cidr, except } };
  }
  return {
    pods: peer.podSelector ? compileLabelSelector(peer.podSelector) : undefined,
    namespaces: peer.namespaceSelector ? compileLabelSelector(peer.namespaceSelector) : undefined,
  };
}

// ---- judging one side -------------------------------------------------------------

function namespaceOf(e: Endpoint): string | undefined {
  return e.pod ? (e.namespace ?? e.pod.metadata.namespace) : undefined;
}

function judge(direction: PolicyType, conn: Connection, index: WorldIndex): Side {
  // Egress is the source's to give, ingress the destination's.
  const self = direction === 'Egress' ? conn.from : conn.to;
  const peer = direction === 'Egress' ? conn.to : conn.from;
  const namespace = namespaceOf(self);
  if (!self.pod || namespace === undefined) {
    return { isolated: false, allowed: true, reason: `not isolated: the ${direction === 'Egress' ? 'source' : 'destination'} ${describe(self)} is not a pod, and policies select only pods` };
  }
  const labels = self.pod.metadata.labels;
  const selecting = (index.policies.get(namespace) ?? []).filter((p) => p.types.has(direction) && p.selects(labels));
  const podName = `pod ${namespace}/${self.pod.metadata.name}`;
  if (selecting.length === 0) {
    return { isolated: false, allowed: true, reason: `not isolated: no policy in ${namespace} selects ${podName} for ${direction}` };
  }
  for (const policy of selecting) {
    const rules = direction === 'Egress' ? policy.egress : policy.ingress;
    const rule = rules.findIndex((r) => ruleMatches(r, policy.namespace, peer, conn, index));
    if (rule >= 0) {
      return {
        isolated: true, allowed: true,
        by: { policy: policy.name, namespace: policy.namespace, rule },
        reason: `allowed by ${policy.namespace}/${policy.name} rule ${direction.toLowerCase()}[${rule}]`,
      };
    }
  }
  const names = selecting.map((p) => `${p.namespace}/${p.name}`).join(', ');
  const what = direction === 'Egress'
    ? `it to reach ${address(conn)} (${describe(conn.to)})`
    : `${address(conn)} from ${describe(conn.from)}`;
  return { isolated: true, allowed: false, reason: `denied: ${names} ${selecting.length === 1 ? 'selects' : 'select'} ${podName} for ${direction} and no rule allows ${what}` };
}

function ruleMatches(rule: CompiledRule, policyNamespace: string, peer: Endpoint, conn: Connection, index: WorldIndex): boolean {
  const peerMatches = rule.peers.length === 0 || rule.peers.some((p) => peerMatchesEndpoint(p, policyNamespace, peer, index));
  return peerMatches && portsMatch(rule.ports, conn);
}

function peerMatchesEndpoint(peer: CompiledPeer, policyNamespace: string, e: Endpoint, index: WorldIndex): boolean {
  if (peer.block) {
    const ip = parseIpv4(e.ip);
    return ip !== undefined && cidrContains(peer.block.cidr, ip) && !peer.block.except.some((x) => cidrContains(x, ip));
  }
  const namespace = namespaceOf(e);
  if (!e.pod || namespace === undefined) return false;
  if (!peer.pods && !peer.namespaces) return false;
  if (peer.namespaces) {
    if (!peer.namespaces(namespaceLabels(namespace, index))) return false;
  } else if (namespace !== policyNamespace) {
    return false;
  }
  return !peer.pods || peer.pods(e.pod.metadata.labels);
}

/** A namespace's labels, with the name label Kubernetes always sets (also for a namespace the world does not list). */
function namespaceLabels(name: string, index: WorldIndex): Labels {
  const labels = index.namespaceLabels.get(name);
  return labels?.[NAMESPACE_NAME_LABEL] === name ? labels : { ...labels, [NAMESPACE_NAME_LABEL]: name };
}

function portsMatch(ports: NetworkPolicyPort[], conn: Connection): boolean {
  if (ports.length === 0) return true;
  const protocol = conn.protocol ?? 'TCP';
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return p.endPort === undefined ? conn.port === p.port : conn.port >= p.port && conn.port <= p.endPort;
    return namedPort(conn.to.pod, p.port, protocol) === conn.port;
  });
}

interface ContainerPort { name?: string; containerPort?: number; protocol?: Protocol }

/** The destination pod's container port of that name and protocol; none when the destination is no pod. */
function namedPort(pod: Pod | undefined, name: string, protocol: Protocol): number | undefined {
  for (const c of pod?.spec?.containers ?? []) {
    for (const p of (c.ports as ContainerPort[] | undefined) ?? []) {
      if (p.name === name && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

// ---- words ------------------------------------------------------------------------

function describe(e: Endpoint): string {
  const namespace = namespaceOf(e);
  if (e.pod && namespace !== undefined) return `pod ${namespace}/${e.pod.metadata.name}`;
  return e.ip || 'an unknown address';
}

function address(conn: Connection): string {
  const protocol = conn.protocol && conn.protocol !== 'TCP' ? `/${conn.protocol}` : '';
  return `${conn.to.ip || '<no IP>'}:${conn.port}${protocol}`;
}
