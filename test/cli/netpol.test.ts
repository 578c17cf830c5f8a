// kcs netpol against `kcs up`: NetworkPolicies applied from YAML, listed as
// kubectl lists them, and evaluated for one connection (check) and for a
// namespace's pods (matrix). The pods need no nodes: the test gives them
// their addresses through the status subresource, as admin, so an ipBlock
// has something to match.
import test from 'ava';
import { parseTable, sharedServer } from './helpers.ts';

const server = sharedServer(test);

const IPS: Record<string, string> = { 'x/a': '127.64.200.1', 'x/b': '127.64.200.2', 'x/c': '127.64.200.3', 'y/a': '127.64.201.1' };

const setup = `apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {ns: y}}
${Object.keys(IPS).map((key) => {
    const [ns, name] = key.split('/');
    return `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {pod: ${name}}}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{name: http, containerPort: 80}]
`;
  }).join('')}`;

const policies = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-y-a, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: pod, operator: In, values: [c]}]}
  ingress:
  - from: [{ipBlock: {cidr: ${IPS['y/a']}/32}}]
`;

test.serial.before(async () => {
  const s = server();
  const created = await s.kcs(['apply', '-f', '-'], { input: setup });
  if (created.code !== 0) throw new Error(created.stderr);
  for (const [key, ip] of Object.entries(IPS)) {
    const [ns, name] = key.split('/');
    const r = await s.api('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { status: { podIP: ip, podIPs: [{ ip }] } }, 'application/merge-patch+json');
    if (r.status !== 200) throw new Error(`setting ${key}'s IP: ${JSON.stringify(r.body)}`);
  }
  const applied = await s.kcs(['apply', '-f', '-'], { input: policies });
  if (applied.code !== 0) throw new Error(applied.stderr);
});

test('network policies list with the pods each selects', async (t) => {
  const r = await server().kcs(['get', 'netpol', '-n', 'x']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(parseTable(r.stdout).map(({ NAME, 'POD-SELECTOR': selector }) => ({ NAME, selector })), [
    { NAME: 'allow-web', selector: 'pod=a' },
    { NAME: 'allow-y-a', selector: 'pod in (c)' },
    { NAME: 'deny-all', selector: '<none>' },
  ]);
});

test('check: a connection a rule allows says which policy and rule, and exits 0', async (t) => {
  const r = await server().kcs(['netpol', 'check', '-n', 'x', 'pod/b', 'pod/a', '--port', '80']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, [
    'allowed',
    `  from:    pod x/b (${IPS['x/b']})`,
    `  to:      pod x/a (${IPS['x/a']}) port 80/TCP`,
    '  egress:  not isolated: no policy in x selects pod x/b for Egress',
    '  ingress: allowed by x/allow-web rule ingress[0]',
    '',
  ].join('\n'));
});

test('check: a denied connection names the policies that isolate the pod, and exits 1', async (t) => {
  const r = await server().kcs(['netpol', 'check', '-n', 'x', 'c', 'a', '--port', '80']);
  t.is(r.code, 1, r.stderr);
  t.is(r.stdout, [
    'denied',
    `  from:    pod x/c (${IPS['x/c']})`,
    `  to:      pod x/a (${IPS['x/a']}) port 80/TCP`,
    '  egress:  not isolated: no policy in x selects pod x/c for Egress',
    `  ingress: denied: x/allow-web, x/deny-all select pod x/a for Ingress and no rule allows ${IPS['x/a']}:80 from pod x/c`,
    '',
  ].join('\n'));
  // The named port is the destination's container port "http" (80): another port is not it.
  const other = await server().kcs(['netpol', 'check', '-n', 'x', 'b', 'a', '--port', '81']);
  t.is(other.code, 1);
  t.regex(other.stdout, /^denied\n/);
});

test('check: a pod of another namespace, matched by its IP, and the host, matched by nothing', async (t) => {
  const s = server();
  const fromY = await s.kcs(['netpol', 'check', 'y/a', 'pod/c', '-n', 'x', '--port', '443']);
  t.is(fromY.code, 0, fromY.stderr);
  t.regex(fromY.stdout, /^ {2}ingress: allowed by x\/allow-y-a rule ingress\[0\]$/m);
  const viaFlag = await s.kcs(['netpol', 'check', '-n', 'y', 'a', 'c', '--to-namespace', 'x', '--port', '443', '-o', 'json']);
  t.is(viaFlag.code, 0, viaFlag.stderr);
  t.like(JSON.parse(viaFlag.stdout), {
    allowed: true, from: { pod: 'a', namespace: 'y', ip: IPS['y/a'] }, to: { pod: 'c', namespace: 'x' }, port: 443, protocol: 'TCP',
    ingress: { isolated: true, allowed: true, by: { policy: 'allow-y-a', namespace: 'x', rule: 0 } },
  });
  const host = await s.kcs(['netpol', 'check', '127.0.0.1', 'x/c', '--port', '443']);
  t.is(host.code, 1);
  t.regex(host.stdout, /^ {2}egress: {2}not isolated: the source 127\.0\.0\.1 is not a pod, and policies select only pods$/m);
  t.regex(host.stdout, /^ {2}ingress: denied: x\/allow-y-a, x\/deny-all select pod x\/c for Ingress and no rule allows 127\.64\.200\.3:443 from 127\.0\.0\.1$/m);
});

test('check: a pod that does not exist is the server\'s 404', async (t) => {
  const r = await server().kcs(['netpol', 'check', '-n', 'x', 'a', 'ghost', '--port', '80']);
  t.is(r.code, 1);
  t.regex(r.stderr, /pods "ghost" not found/);
});

test('matrix: the namespace\'s truth table, rows from, columns to', async (t) => {
  const r = await server().kcs(['netpol', 'matrix', '-n', 'x']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, [
    '-   a   b   c',
    'a   X   X   X',
    'b   .   X   X',
    'c   X   X   X',
    '',
    'port 80/TCP; rows from, columns to; . reachable, X blocked',
    '',
  ].join('\n'));
});

test('matrix: every namespace with -A, on another port', async (t) => {
  const r = await server().kcs(['netpol', 'matrix', '-A', '--port', '81']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, [
    '-     x/a   x/b   x/c   y/a',
    'x/a   X     X     X     .',
    'x/b   X     X     X     .',
    'x/c   X     X     X     .',
    'y/a   X     X     .     .',
    '',
    'port 81/TCP; rows from, columns to; . reachable, X blocked',
    '',
  ].join('\n'));
});
