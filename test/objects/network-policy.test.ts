// NetworkPolicy semantics as truth tables, in the manner of Kubernetes'
// network policy conformance tests: namespaces x, y, z, each with pods a, b
// and c (labelled pod=a ...; namespaces labelled ns=x ...), every policy
// case stated as the whole expected reachability matrix (rows from, columns
// to), which decide must give for every ordered pair.
import test, { type ExecutionContext } from 'ava';
import { decide, policyTypesOf, type Connection, type NetworkPolicy, type NetworkPolicySpec, type Protocol, type World } from '../../src/objects/network-policy.ts';
import type { Namespace, Pod } from '../../src/objects/types.ts';

const NAMESPACES = ['x', 'y', 'z'];
const POD_NAMES = ['a', 'b', 'c'];

/** Each namespace's pods get a /24 of their own: x 127.64.0.0/24, y 127.64.1.0/24, z 127.64.2.0/24. */
const ipOf = (ns: string, pod: string) => `127.64.${NAMESPACES.indexOf(ns)}.${POD_NAMES.indexOf(pod) + 10}`;

function makePod(ns: string, name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { pod: name } },
    spec: {
      containers: [{
        name: 'cont', image: 'agnhost',
        // As the upstream tests' pods: serve-<port>-<protocol> on 80 and 81.
        ports: [
          { name: 'serve-80-tcp', containerPort: 80 },
          { name: 'serve-81-tcp', containerPort: 81, protocol: 'TCP' },
          { name: 'serve-81-udp', containerPort: 81, protocol: 'UDP' },
        ],
      }],
    },
    status: { phase: 'Running', podIP: ipOf(ns, name) },
  };
}

const PODS: Pod[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => makePod(ns, p)));
const KEYS = PODS.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
const NAMESPACE_OBJECTS: Namespace[] = NAMESPACES.map((ns) => ({
  apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns, 'kubernetes.io/metadata.name': ns } },
}));

let uid = 0;
function policy(ns: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns, uid: `u-${++uid}`, resourceVersion: '1' }, spec };
}

const world = (...policies: NetworkPolicy[]): World => ({ policies, namespaces: NAMESPACE_OBJECTS });
const endpoint = (pod: Pod) => ({ ip: pod.status!.podIP as string, pod, namespace: pod.metadata.namespace });

// ---- matrices -----------------------------------------------------------------------

/** Reachability from each pod (row) to each pod (column), by "ns/pod" keys. */
type Matrix = Map<string, Map<string, boolean>>;

function reachability(w: World, port = 80, protocol: Protocol = 'TCP'): Matrix {
  const m: Matrix = new Map();
  for (const from of PODS) {
    const row = new Map<string, boolean>();
    for (const to of PODS) row.set(`${to.metadata.namespace}/${to.metadata.name}`, decide({ from: endpoint(from), to: endpoint(to), port, protocol }, w).allowed);
    m.set(`${from.metadata.namespace}/${from.metadata.name}`, row);
  }
  return m;
}

/**
 * An expected matrix, built as the upstream tests build theirs: everything
 * allowed, then whole rows, columns or cells changed. A pattern is "x/a",
 * "x/*", "* /a" (without the space) or "*".
 */
class Expected {
  readonly cells: Matrix = new Map(KEYS.map((f) => [f, new Map(KEYS.map((t) => [t, true]))]));
  set(from: string, to: string, allowed: boolean): this {
    for (const f of KEYS.filter((k) => matches(from, k))) for (const t of KEYS.filter((k) => matches(to, k))) this.cells.get(f)!.set(t, allowed);
    return this;
  }
}

function matches(pattern: string, key: string): boolean {
  if (pattern === '*') return true;
  const [pns, ppod] = pattern.split('/');
  const [ns, pod] = key.split('/');
  return (pns === '*' || pns === ns) && (ppod === '*' || ppod === pod);
}

/** As the upstream tests print a truth table: "." reachable, "X" blocked. */
function print(m: Matrix): string {
  const lines = [['-', ...KEYS].join('\t')];
  for (const f of KEYS) lines.push([f, ...KEYS.map((t) => (m.get(f)!.get(t) ? '.' : 'X'))].join('\t'));
  return lines.join('\n');
}

function assertMatrix(t: ExecutionContext, actual: Matrix, expected: Expected): void {
  const wrong: string[] = [];
  for (const f of KEYS) {
    for (const to of KEYS) {
      const want = expected.cells.get(f)!.get(to)!;
      if (actual.get(f)!.get(to) !== want) wrong.push(`${f} -> ${to}: expected ${want ? 'allowed' : 'blocked'}`);
    }
  }
  t.deepEqual(wrong, [], `actual:\n${print(actual)}\nexpected:\n${print(expected.cells)}`);
}

// ---- the truth tables ---------------------------------------------------------------

const all = {};
const podLabel = (pod: string) => ({ matchLabels: { pod } });
const nsLabel = (ns: string) => ({ matchLabels: { ns } });

test('no policies: every pod reaches every pod', (t) => {
  assertMatrix(t, reachability(world()), new Expected());
});

test('default deny ingress in x: nothing reaches x, itself included', (t) => {
  const w = world(policy('x', 'deny-all', { podSelector: all, policyTypes: ['Ingress'] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/*', false));
});

test('default deny egress in x: x reaches nothing', (t) => {
  const w = world(policy('x', 'deny-all-egress', { podSelector: all, policyTypes: ['Egress'] }));
  assertMatrix(t, reachability(w), new Expected().set('x/*', '*', false));
});

test('ingress: [] (or no spec at all) allows nothing, ingress: [{}] allows everything', (t) => {
  assertMatrix(t, reachability(world(policy('x', 'none', { podSelector: podLabel('a'), ingress: [] }))), new Expected().set('*', 'x/a', false));
  assertMatrix(t, reachability(world(policy('x', 'any', { podSelector: podLabel('a'), ingress: [{}] }))), new Expected());
  assertMatrix(t, reachability(world(policy('x', 'any-from', { podSelector: podLabel('a'), ingress: [{ from: [] }] }))), new Expected());
  const specless: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'no-spec', namespace: 'y' } };
  assertMatrix(t, reachability(world(specless)), new Expected().set('*', 'y/*', false));
});

test('allow from the same namespace: a podSelector alone picks pods of the policy\'s namespace', (t) => {
  const w = world(policy('x', 'allow-same-ns', { podSelector: all, ingress: [{ from: [{ podSelector: all }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/*', false).set('x/*', 'x/*', true));
});

test('allow from another namespace by namespaceSelector', (t) => {
  const w = world(policy('x', 'allow-y', { podSelector: podLabel('a'), ingress: [{ from: [{ namespaceSelector: nsLabel('y') }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('y/*', 'x/a', true));
});

test('namespaceSelector {} selects every namespace; with a podSelector, those pods in all of them', (t) => {
  const w = world(policy('x', 'allow-c-anywhere', { podSelector: podLabel('a'), ingress: [{ from: [{ namespaceSelector: all, podSelector: podLabel('c') }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('*/c', 'x/a', true));
});

test('podSelector AND namespaceSelector in one peer: pods matching in namespaces matching', (t) => {
  const w = world(policy('x', 'allow-b-in-y-z', {
    podSelector: podLabel('a'),
    ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y', 'z'] }] }, podSelector: podLabel('b') }] }],
  }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('y/b', 'x/a', true).set('z/b', 'x/a', true));
});

test('podSelector OR namespaceSelector as two peers: either', (t) => {
  const w = world(policy('x', 'allow-b-or-y', { podSelector: podLabel('a'), ingress: [{ from: [{ namespaceSelector: nsLabel('y') }, { podSelector: podLabel('b') }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('y/*', 'x/a', true).set('x/b', 'x/a', true));
});

test('namespaces are matched by kubernetes.io/metadata.name, also one the world does not list', (t) => {
  const byName = policy('x', 'allow-z-by-name', { podSelector: podLabel('a'), ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }] });
  const expected = new Expected().set('*', 'x/a', false).set('z/*', 'x/a', true);
  assertMatrix(t, reachability(world(byName)), expected);
  assertMatrix(t, reachability({ policies: [byName], namespaces: [] }), expected);
});

test('matchExpressions NotIn, Exists and DoesNotExist select as Kubernetes does', (t) => {
  const notA = world(policy('x', 'deny-not-a', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'NotIn', values: ['a'] }] }, ingress: [] }));
  assertMatrix(t, reachability(notA), new Expected().set('*', 'x/b', false).set('*', 'x/c', false));
  const labelled = world(policy('y', 'deny-labelled', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'Exists' }] }, ingress: [] }));
  assertMatrix(t, reachability(labelled), new Expected().set('*', 'y/*', false));
  const unlabelled = world(policy('y', 'deny-unlabelled', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'DoesNotExist' }] }, ingress: [] }));
  assertMatrix(t, reachability(unlabelled), new Expected());
});

test('allow a port: only that port gets through', (t) => {
  const w = world(policy('x', 'allow-81', { podSelector: podLabel('a'), ingress: [{ ports: [{ port: 81 }] }] }));
  assertMatrix(t, reachability(w, 80), new Expected().set('*', 'x/a', false));
  assertMatrix(t, reachability(w, 81), new Expected());
  assertMatrix(t, reachability(w, 81, 'UDP'), new Expected().set('*', 'x/a', false));
});

test('a named port is the destination pod\'s container port of that name and protocol', (t) => {
  const w = world(policy('x', 'allow-serve-80', { podSelector: podLabel('a'), ingress: [{ ports: [{ port: 'serve-80-tcp' }] }] }));
  assertMatrix(t, reachability(w, 80), new Expected());
  assertMatrix(t, reachability(w, 81), new Expected().set('*', 'x/a', false));
  const udp = world(policy('x', 'allow-serve-81-udp', { podSelector: podLabel('a'), ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] }));
  assertMatrix(t, reachability(udp, 81, 'UDP'), new Expected());
  assertMatrix(t, reachability(udp, 81, 'TCP'), new Expected().set('*', 'x/a', false));
});

test('egress to a named port resolves it against the destination pod', (t) => {
  const w = world(policy('x', 'egress-serve-81', { podSelector: podLabel('a'), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-tcp' }] }] }));
  assertMatrix(t, reachability(w, 81), new Expected());
  assertMatrix(t, reachability(w, 80), new Expected().set('x/a', '*', false));
});

test('a port range with endPort takes both ends and what is between', (t) => {
  const w = world(policy('x', 'allow-80-81', { podSelector: all, ingress: [{ ports: [{ port: 80, endPort: 81 }] }] }));
  for (const port of [80, 81]) assertMatrix(t, reachability(w, port), new Expected());
  for (const port of [79, 82]) assertMatrix(t, reachability(w, port), new Expected().set('*', 'x/*', false));
});

test('ingress and egress are both needed: the source may send and the destination receive', (t) => {
  const w = world(
    policy('x', 'egress-to-y', { podSelector: all, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: nsLabel('y') }] }] }),
    policy('y', 'ingress-from-x-b', { podSelector: all, ingress: [{ from: [{ namespaceSelector: nsLabel('x'), podSelector: podLabel('b') }] }] }),
  );
  assertMatrix(t, reachability(w), new Expected()
    .set('x/*', '*', false) // x sends only to y
    .set('*', 'y/*', false) // y takes only from x/b
    .set('x/b', 'y/*', true));
});

test('two policies add up: a pod gets what either allows', (t) => {
  const w = world(
    policy('x', 'allow-b', { podSelector: podLabel('a'), ingress: [{ from: [{ podSelector: podLabel('b') }] }] }),
    policy('x', 'allow-y', { podSelector: podLabel('a'), ingress: [{ from: [{ namespaceSelector: nsLabel('y') }] }] }),
  );
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('x/b', 'x/a', true).set('y/*', 'x/a', true));
});

test('an ipBlock matches pods by their IP, and except leaves a range out', (t) => {
  const w = world(policy('x', 'allow-block', { podSelector: podLabel('a'), ingress: [{ from: [{ ipBlock: { cidr: '127.64.0.0/10', except: ['127.64.1.0/24'] } }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('y/*', 'x/a', false));
  const egress = world(policy('x', 'egress-block', { podSelector: podLabel('a'), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `${ipOf('z', 'c')}/32` } }] }] }));
  assertMatrix(t, reachability(egress), new Expected().set('x/a', '*', false).set('x/a', 'z/c', true));
});

test('policyTypes Egress only: the policy\'s ingress rules isolate nothing', (t) => {
  const w = world(policy('x', 'egress-only', { podSelector: podLabel('a'), policyTypes: ['Egress'], ingress: [{ from: [{ podSelector: podLabel('b') }] }], egress: [] }));
  assertMatrix(t, reachability(w), new Expected().set('x/a', '*', false));
});

test('unset policyTypes: Ingress, plus Egress only when the policy has egress rules', (t) => {
  t.deepEqual(policyTypesOf(policy('x', 'p', { egress: [] })), ['Ingress']);
  t.deepEqual(policyTypesOf(policy('x', 'p', { egress: [{}] })), ['Ingress', 'Egress']);
  t.deepEqual(policyTypesOf(policy('x', 'p', { policyTypes: ['Egress'], ingress: [{}] })), ['Egress']);
  const w = world(policy('x', 'egress-to-x', { podSelector: podLabel('a'), egress: [{ to: [{ podSelector: all }] }] }));
  assertMatrix(t, reachability(w), new Expected().set('*', 'x/a', false).set('x/a', 'y/*', false).set('x/a', 'z/*', false));
});

// ---- verdicts in words, and what is not a pod ---------------------------------------

const pod = (key: string) => PODS.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === key)!;
const conn = (from: string, to: string, port = 80): Connection => ({ from: endpoint(pod(from)), to: endpoint(pod(to)), port });

test('a verdict names the policy and rule that allowed each side, or why it denied', (t) => {
  const w = world(
    policy('x', 'deny-all', { podSelector: all, policyTypes: ['Ingress'] }),
    policy('x', 'web-allow', { podSelector: podLabel('b'), ingress: [{ from: [{ podSelector: podLabel('c') }] }, { from: [{ podSelector: podLabel('a') }] }] }),
  );
  const allowed = decide(conn('x/a', 'x/b'), w);
  t.true(allowed.allowed);
  t.deepEqual(allowed.ingress, { isolated: true, allowed: true, by: { policy: 'web-allow', namespace: 'x', rule: 1 }, reason: 'allowed by x/web-allow rule ingress[1]' });
  t.deepEqual(allowed.egress, { isolated: false, allowed: true, reason: 'not isolated: no policy in x selects pod x/a for Egress' });

  const denied = decide(conn('x/b', 'x/c'), w);
  t.false(denied.allowed);
  t.deepEqual(denied.ingress, { isolated: true, allowed: false, reason: `denied: x/deny-all selects pod x/c for Ingress and no rule allows ${ipOf('x', 'c')}:80 from pod x/b` });

  const egress = decide(conn('x/a', 'y/b', 53), world(policy('x', 'quiet', { podSelector: all, policyTypes: ['Egress'] }), policy('x', 'loud', { podSelector: podLabel('a'), egress: [{ ports: [{ port: 80 }] }] })));
  t.is(egress.egress.reason, `denied: x/loud, x/quiet select pod x/a for Egress and no rule allows it to reach ${ipOf('y', 'b')}:53 (pod y/b)`);
});

test('traffic from the host is restricted only by the destination\'s ingress, and an ipBlock can allow it', (t) => {
  const host = { ip: '127.0.0.1' };
  const deny = world(policy('x', 'deny-all', { podSelector: all, ingress: [] }));
  const toA = { from: host, to: endpoint(pod('x/a')), port: 80 };
  t.deepEqual(decide(toA, world()).egress, { isolated: false, allowed: true, reason: 'not isolated: the source 127.0.0.1 is not a pod, and policies select only pods' });
  t.false(decide(toA, deny).allowed);
  t.true(decide(toA, world(policy('x', 'host', { podSelector: all, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.0/24' } }] }] }))).allowed);
  // A pod peer is a pod: selectors never match the host.
  t.false(decide(toA, world(policy('x', 'pods', { podSelector: all, ingress: [{ from: [{ namespaceSelector: all }] }] }))).allowed);
  // And a pod's egress to the host: named ports have no pod to resolve against.
  const toHost = { from: endpoint(pod('x/a')), to: host, port: 80 };
  t.false(decide(toHost, world(policy('x', 'named', { podSelector: all, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-80-tcp' }] }] }))).allowed);
  t.true(decide(toHost, world(policy('x', 'numbered', { podSelector: all, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }))).allowed);
});

test('a pod without an IP matches no ipBlock', (t) => {
  const noIp: Pod = { ...pod('y/a'), status: { phase: 'Pending' } };
  const w = world(policy('x', 'block', { podSelector: all, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.0/8' } }] }] }));
  t.true(decide({ from: endpoint(pod('y/a')), to: endpoint(pod('x/a')), port: 80 }, w).allowed);
  t.false(decide({ from: { ip: '', pod: noIp, namespace: 'y' }, to: endpoint(pod('x/a')), port: 80 }, w).allowed);
});

test('a policy changed under the same uid is compiled again for its new resourceVersion', (t) => {
  const v1 = policy('x', 'p', { podSelector: podLabel('a'), ingress: [] });
  t.false(decide(conn('y/a', 'x/a'), world(v1)).allowed);
  const v2: NetworkPolicy = { ...v1, metadata: { ...v1.metadata, resourceVersion: '2' }, spec: { podSelector: podLabel('b'), ingress: [] } };
  t.true(decide(conn('y/a', 'x/a'), world(v2)).allowed);
  t.false(decide(conn('y/a', 'x/b'), world(v2)).allowed);
});
